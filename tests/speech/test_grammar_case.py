"""#15 item 3: grammatical case and gender: ``<date case="genitive">``, ``<time
case="genitive">``, ``<number gender="f">`` and Russian numbers agreeing with common nouns."""

from __future__ import annotations

import datetime as dt
import decimal
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from num2words import num2words

from autoinformer.contacts.model import Contact
from autoinformer.errors import TemplateError
from autoinformer.speech import Template
from autoinformer.speech.readas import read_number, read_time


def say(source: str, lang: str = "ru", **variables: str) -> str:
    return Template.parse(source).render_text(Contact(id="c", variables=variables), lang)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # before: "до седьмое декабря ..."
        ('Оплатите до <date case="genitive">2026-12-07</date>',
         "Оплатите до седьмого декабря две тысячи двадцать шестого года"),
        ("Сегодня <date>2026-12-07</date>",
         "Сегодня седьмое декабря две тысячи двадцать шестого года"),
        ('К <date case="dative">{D}</date>',
         "К двадцать первому января две тысячи двадцать седьмого года"),
        # before: "до восемнадцать часов"
        ('до <time case="genitive">18:00</time>', "до восемнадцати часов"),
        ('до <time case="genitive">21:31</time>', "до двадцати одного часа тридцати одной минуты"),
        ('до <time case="genitive">{T}</time>', "до одиннадцати часов одиннадцати минут"),
        ('к <time case="dative">1:02</time>', "к одному часу двум минутам"),
        ('на <time case="accusative">2:01</time>', "на два часа одну минуту"),
        # <number gender="f"> / case; the millions keep their own gender
        ('<number gender="f">{N}</number> минуты', "две минуты"),
        ('<number gender="f">2000002</number>', "два миллиона две"),
        ('<number gender="n">1</number> сообщение', "одно сообщение"),
        ('более <number case="genitive">{N}</number> раз', "более двух раз"),
        # plain numbers before common nouns agree; others are counting form
        ("Осталась 1 минута, ждём 2 недели, это 5 дней",
         "Осталась одна минута, ждём две недели, это пять дней"),
        ("У вас 1 сообщение", "У вас одно сообщение"),
        ("Осталось {N} недели, {N} дня", "Осталось две недели, два дня"),  # a variable too
    ],
)  # fmt: skip
def test_russian_case_and_gender(source: str, expected: str) -> None:
    assert say(source, D="2027-01-21", T="11:11", N="2") == expected


@pytest.mark.parametrize("lang", ["en", "id"])
def test_languages_without_case_read_the_same(lang: str) -> None:
    assert say('<date case="genitive">2026-12-07</date>', lang) == say(
        "<date>2026-12-07</date>", lang
    )
    assert say('<number gender="f">2</number>', lang) == say("<number>2</number>", lang)


@given(st.integers(0, 23), st.integers(0, 59))
def test_genitive_time_is_num2words_genitive_with_the_right_noun(h: int, m: int) -> None:
    text = read_time(dt.time(h, m), "ru", case="genitive")
    one = h % 10 == 1 and h % 100 != 11
    hours = f"{num2words(h, lang='ru', case='g')} {'часа' if one else 'часов'}"
    assert text.startswith(hours)
    if m:
        one_m = m % 10 == 1 and m % 100 != 11
        minutes = (
            f"{num2words(m, lang='ru', case='g', gender='f')} {'минуты' if one_m else 'минут'}"
        )
        assert text == f"{hours} {minutes}"
    assert not re.search(r"\b(восемнадцать|двадцать|час)\b", text)  # no nominative left


@pytest.mark.parametrize(
    ("source", "position", "message"),
    [
        ('<date case="gen">x</date>', 12, "unknown value 'gen'"),
        ('<currency case="genitive">1 RUB</currency>', 10, "<currency> has no attribute 'case'"),
        ('<number sex="f">1</number>', 8, "expected case=, gender="),
        ('<number gender="f" gender="m">1</number>', 19, "given twice"),
        ("<date case=genitive>x</date>", 5, 'attributes like case="genitive"'),
    ],
)
def test_bad_attributes_are_template_errors_with_positions(
    source: str, position: int, message: str
) -> None:
    with pytest.raises(TemplateError) as info:
        Template.parse(source)
    assert info.value.position == position
    assert message in info.value.message


def test_equal_decimals_written_apart_read_apart() -> None:
    # The reading cache is keyed by the written number: 1234.50 == 1234.5 as Decimals.
    assert read_number(decimal.Decimal("1234.50"), "ru").endswith("пятьдесят сотых")
    assert read_number(decimal.Decimal("1234.5"), "ru").endswith("пять десятых")
