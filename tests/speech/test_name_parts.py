"""Names cost one engine call per part, not per person (#15 item 9)."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from autoinformer.contacts.model import Contact
from autoinformer.speech import EngineRenderer, FragmentCache, Template, ToneEngine
from autoinformer.speech.plan import Say, SpeechPlan, Synth

SURNAMES = [f"Фамилия{c}" for c in "абвгдежзиклмнопрстуфхцчшщэюя"]
FIRST = ["Иван", "Анна", "Пётр", "Мария", "Олег", "Ольга", "Игорь", "Юлия", "Павел", "Нина"]
PATRONYMICS = ["Иванович", "Петровна", "Олегович", "Игоревна", "Павлович", "Сергеевна"]


def parts(value: str) -> list[str]:
    plan = SpeechPlan((Say(value, False, (value,)),))
    return [u.text for u in plan.units("fragment") if isinstance(u, Synth)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Иванов Иван Иванович", ["Иванов", "Иван", "Иванович"]),
        ("  Anna   Smith-Jones ", ["Anna", "Smith-Jones"]),
        ("John A. O'Neil", ["John", "A", "O'Neil"]),
        ("Anna", ["Anna"]),
        ("Flat 5 Baker Street", ["Flat 5 Baker Street"]),  # not a name: one fragment
        ("one two three four five", ["one two three four five"]),  # too long for a name
    ],
)
def test_a_name_is_split_into_its_parts(value: str, expected: list[str]) -> None:
    assert parts(value) == expected


def test_sentence_mode_keeps_the_name_whole() -> None:
    plan = Template.parse("Hello {NAME}.").plan(Contact(id="1", variables={"NAME": "Ann Lee"}))
    assert plan.units("sentence") == [Synth("Hello Ann Lee.")]


@pytest.mark.anyio
async def test_a_thousand_distinct_full_names_need_about_as_many_calls_as_parts(
    tmp_path: Path,
) -> None:
    everyone = list(itertools.product(SURNAMES, FIRST, PATRONYMICS))
    people = random.Random(3).sample(everyone, 1000)
    template = Template.parse("Здравствуйте, {NAME}! Ваш заказ готов.")
    engine = ToneEngine(ms_per_char=1)
    r = EngineRenderer(engine=engine, cache=FragmentCache(directory=tmp_path))
    for i, (surname, first, patronymic) in enumerate(people):
        name = f"{surname} {first} {patronymic}"
        await r.audio(template.plan(Contact(id=str(i), variables={"NAME": name}), "ru"))
    used = {p for person in people for p in person}
    assert sorted(engine.calls) == sorted(used | {"Здравствуйте,", "Ваш заказ готов."})
    assert r.engine_calls <= len(SURNAMES) + len(FIRST) + len(PATRONYMICS) + 2  # <= 46, not 1000
