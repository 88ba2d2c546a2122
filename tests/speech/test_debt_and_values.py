"""#15 items 4-5: ``|debt`` reads a debt as a debt; a value that cannot be read as the template
reads it skips the contact before anyone is called (with the contact, column and value) and
makes ``autoinformer say`` exit 2. The campaign keeps the reason per contact (its id is the
list's row, ``row-<n>``), and its summary groups contacts by reason."""

from __future__ import annotations

import io

import pytest

from autoinformer.campaign import Campaign
from autoinformer.cli import main
from autoinformer.contacts import read_contacts
from autoinformer.contacts.model import Contact
from autoinformer.errors import InputError, TemplateError
from autoinformer.outcomes import ContactState
from autoinformer.policy.retry import RetryPolicy
from autoinformer.script import Script, say
from autoinformer.sim.driver import simulate
from autoinformer.speech import Template

# Seed 000 ("Debt notification system"): the balance is read from %VAR:BALANCE% rub, and the
# accounting list stores a debt as a negative balance.
SEED_000 = "Здравствуйте, вас беспокоит ТСЖ. Ваш долг %VAR:BALANCE|debt% rub"
SEED_000_LIST = """"NAME", "PHONE_NUMBER", "USER_VARS"
"Igor Lipko", "79508881234", "BALANCE = -68.27"
"Ilya mihailov", "79508881235", "BALANCE = -525.19"
"Anna Credit", "79508881236", "BALANCE = 15.00"
"Oleg Zero", "79508881237", "BALANCE = 0"
"Nina Unknown", "79508881238", "BALANCE = N/A"
"""


def contact(**variables: str) -> Contact:
    return Contact(id="row-7", variables=variables)


def test_debt_reads_the_magnitude_of_a_negative_balance() -> None:
    t = Template.parse(SEED_000)
    # before: "... Ваш долг минус шестьдесят восемь рублей ..." (without |debt)
    assert Template.parse("Ваш долг %VAR:BALANCE% rub").render_text(
        contact(BALANCE="-68.27"), "ru"
    ) == ("Ваш долг минус шестьдесят восемь рублей двадцать семь копеек")
    assert t.render_text(contact(BALANCE="-68.27"), "ru").endswith(
        "Ваш долг шестьдесят восемь рублей двадцать семь копеек"
    )
    assert t.check(contact(BALANCE="-525.19"), "ru") == []
    en = Template.parse("Your debt is <currency>{B|debt} USD</currency>.")
    assert en.render_text(contact(B="-1,234.50"), "en") == (
        "Your debt is one thousand two hundred and thirty-four dollars fifty cents."
    )


@pytest.mark.parametrize("balance", ["15.00", "0", "0.00", "+3", "-0.00"])
def test_a_balance_that_is_not_a_debt_skips_the_contact_with_a_reason(balance: str) -> None:
    t = Template.parse(SEED_000)
    (reason,) = t.check(contact(BALANCE=balance), "ru")
    assert reason.startswith(f"column 'BALANCE' = {balance!r}: not a debt")
    with pytest.raises(InputError, match="not a debt"):
        t.render_text(contact(BALANCE=balance), "ru")


def test_debt_is_a_known_filter_and_others_are_not() -> None:
    with pytest.raises(TemplateError, match="expected one of abs, debt"):
        Template.parse("{B|credit}")


NOT_AMOUNTS = ("N/A", "(68.27)", "-68.27р", "1e3")
READ_AS = (
    "<currency>{B} RUB</currency>",
    "<number>{B}</number>",
    "<date>{B}</date>",
    "%VAR:B% rub",
    "{B} рублей",
    "{B} руб.",
    "{B} ₽",
    "{B} грн",
    "{B} ₸",
    "{B} тенге",
    "{B} долларов",
    "{B} RUB",
    "{B|abs}",
    "{B|debt}",
)


@pytest.mark.parametrize("source", READ_AS)
@pytest.mark.parametrize("value", NOT_AMOUNTS)
def test_a_value_that_is_not_what_is_read_skips_the_contact(source: str, value: str) -> None:
    t = Template.parse(source)
    (reason,) = t.check(contact(B=value), "ru")
    assert reason.startswith(f"column 'B' = {value!r}: ")
    assert t.check_uncached(contact(B=value), "ru") == [reason]


@pytest.mark.parametrize("value", ["N/A", "-68.27р", "1e3", "№12"])
def test_digits_refuse_letters_and_stray_signs(value: str) -> None:
    (reason,) = Template.parse("<digits>{B}</digits>").check(contact(B=value), "en")
    assert f"column 'B' = {value!r}: cannot be read as <digits>: expected digits" in reason
    assert Template.parse("<digits>{B}</digits>").check(contact(B="+7 (495) 123-45.67")) == []


def test_a_word_that_only_looks_like_a_currency_code_stays_a_word() -> None:
    # "all" is Albanian leks' ISO code in lower case: a name before it is not an amount.
    t = Template.parse("Thanks {NAME} all the same")
    assert t.render_text(contact(NAME="Ann"), "en") == "Thanks Ann all the same"
    assert t.check(contact(NAME="N/A")) == []
    # Written in capitals (or as a currency word) it is a currency: the value must be an amount.
    (reason,) = Template.parse("Thanks {NAME} ALL the same").check(contact(NAME="Ann"))
    assert "column 'NAME' = 'Ann': read as an amount before 'ALL'" in reason


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["%VAR:BALANCE% rub", "--var", "BALANCE=N/A"], "column 'BALANCE' = 'N/A'"),
        (["<number>{B}</number>", "--var", "B=1e3"], "column 'B' = '1e3'"),
        ([SEED_000, "--var", "BALANCE=15.00", "--lang", "ru"], "not a debt"),
        (["Pay by <date>{D}</date>", "--var", "D=(68.27)"], "column 'D' = '(68.27)'"),
    ],
)
def test_say_exits_2_naming_the_column_and_value(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["say", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert main(["say", *argv, "--ssml"]) == 2


def test_seed_000_list_skips_credits_and_unreadable_balances_before_dialling() -> None:
    rows = list(read_contacts(io.StringIO(SEED_000_LIST), region="RU"))
    contacts = [r.contact for r in rows if r.contact is not None]
    assert len(contacts) == 5
    campaign = Campaign(
        name="seed-000",
        timezone="UTC",
        lang="ru",
        script=Script.of(say(SEED_000)),
        lines=3,
        retry=RetryPolicy.simple(attempts=1),
    )
    result = simulate(campaign, contacts)
    called = sorted({r.contact_id for r in result.records})
    assert called == ["row-2", "row-3"]  # the two debts, and only they
    for row, value, why in [
        ("row-4", "15.00", "not a debt"),
        ("row-5", "0", "not a debt"),
        ("row-6", "N/A", "expects a number"),
    ]:
        progress = result.progress[row]
        assert progress.state is ContactState.SKIPPED
        assert f"column 'BALANCE' = {value!r}" in progress.reason
        assert why in progress.reason


def test_the_reason_shows_the_value_as_the_list_wrote_it() -> None:
    # |abs drops the sign before <date> fails: the report still shows what the cell holds.
    (reason,) = Template.parse("<date>{B|abs}</date>").check(contact(B=" -5 "))
    assert reason.startswith("column 'B' = '-5': cannot be read as <date>")
