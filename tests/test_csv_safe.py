"""CSV export cells that a spreadsheet would run are neutralised, also behind leading
whitespace (line feed, space, no-break space) and in full-width forms (issue #14, item 11)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoinformer.outcomes import Outcome
from autoinformer.records import AttemptRecord
from autoinformer.stats import csv_safe, write_cdr_csv

FORMULA_STARTS = "=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b"
LEADING = ["", " ", "  ", "\n", "\r\n", "\u00a0", "\u3000", "\u2003", "\u200b", "\ufeff", " \n\t"]


@pytest.mark.parametrize(
    "raw",
    [
        "\n=1+1",
        " =1+1",
        "\u00a0=1+1",
        "\uff1d1+1",
        "\uff0bcmd",
        "\uff0d2+3",
        "\uff20SUM(A1)",
        "\u3000=1+1",
        "\u200b=1+1",
        "\r\n+79508881234",
        "\t",
        "\r",
        '  =HYPERLINK("http://evil.example")',
    ],
)
def test_hidden_formula_starts_are_neutralised(raw: str) -> None:
    assert csv_safe(raw) == "'" + raw


@pytest.mark.parametrize("raw", ["Ivanov", " Ivanov", "\nok", "1-2", "a=b", "", "   ", "\u2212 5"])
def test_plain_text_stays(raw: str) -> None:
    assert csv_safe(raw) == raw


@given(lead=st.sampled_from(LEADING), first=st.sampled_from(FORMULA_STARTS), rest=st.text())
def test_any_whitespace_then_a_formula_character(lead: str, first: str, rest: str) -> None:
    assert csv_safe(lead + first + rest).startswith("'")


@given(text=st.text())
def test_only_ever_adds_one_apostrophe(text: str) -> None:
    safe = csv_safe(text)
    assert safe in (text, "'" + text)
    significant = re.sub(r"^[\s\u200b\u200c\u200d\u2060\ufeff]+", "", text)
    if safe == text:
        assert not text.startswith(("\t", "\r"))
        assert not significant.startswith(tuple(FORMULA_STARTS))


def test_the_export_neutralises_a_line_feed_formula() -> None:
    record = AttemptRecord(
        attempt_id="a1",
        campaign="jan",
        contact_id="\n=1+1",
        attempt_no=1,
        number="+79508881234",
        caller_id=None,
        started_at=1_768_557_600.0,
        answered_at=None,
        ended_at=1_768_557_610.0,
        outcome=Outcome.NO_ANSWER,
        detail="\uff1dcmd|' /C calc'!A0",
    )
    out = io.StringIO()
    write_cdr_csv([record], out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff"))))
    assert rows[0]["contact"] == "'\n=1+1"
    assert rows[0]["detail"].startswith("'\uff1d")
