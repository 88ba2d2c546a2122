"""Contact import from text: the seed 000 CSV verbatim, header CSVs, pasted TSV, streaming."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from autoinformer.contacts import (
    Contact,
    RowStatus,
    check_contacts,
    read_contacts,
)
from autoinformer.errors import ContactListError, SettingsError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SEED_000 = (
    '"NAME", "PHONE_NUMBER", "USER_VARS"\n'
    '"Igor Lipko", "17605632123; 79508881234", "BALANCE = -68.27"\n'
    '"Ilya mihailov", "7760569623", "BALANCE = -525.19"\n'
)


def test_seed_000_list_verbatim() -> None:
    # the seed's US number is written without +: it is called only when the list allows US
    results = list(read_contacts(io.StringIO(SEED_000), region="RU", countries=["US"]))
    assert [r.status for r in results] == [RowStatus.VALID, RowStatus.VALID]
    igor = results[0].contact
    assert igor == Contact(
        id="row-2",
        name="Igor Lipko",
        phones=("+17605632123", "+79508881234"),
        variables={"BALANCE": "-68.27"},
    )
    assert str(igor.decimal("BALANCE")) == "-68.27"
    assert results[1].contact is not None
    assert results[1].contact.phones == ("+77760569623",)
    assert results[1].row == 3


def test_seed_000_us_number_without_plus_is_refused_unless_the_list_allows_us() -> None:
    results = list(read_contacts(io.StringIO(SEED_000), region="RU"))
    assert [r.status for r in results] == [RowStatus.INVALID, RowStatus.VALID]
    (problem,) = results[0].problems
    assert problem.value == "17605632123"
    assert "United States (+1)" in problem.reason
    assert "countries" in problem.reason


def test_example_debtors_csv_reports_each_bad_row_and_keeps_the_rest() -> None:
    report = check_contacts(EXAMPLES / "debtors.csv", region="RU", countries=["US"])
    assert report.abroad == {"+1": 1}
    assert (report.rows, report.valid, report.invalid, report.duplicates) == (12, 7, 4, 1)
    problems = {(p.row, p.column): p for p in report.errors}
    assert problems[(7, "PHONE_NUMBER")].reason.startswith("too short for Russia")
    assert problems[(9, "PHONE_NUMBER")].reason == "no phone number"
    assert problems[(10, "USER_VARS")].value == "BALANCE -77.10"
    assert "scientific notation" in problems[(11, "PHONE_NUMBER")].reason
    assert problems[(6, "PHONE_NUMBER")].kind == "duplicate"
    assert "row 4" in problems[(6, "PHONE_NUMBER")].reason
    assert [row for row, _ in report.contacts] == [2, 3, 4, 5, 8, 12, 13]
    anna = dict(report.contacts)[4]
    assert anna.date("DUE").isoformat() == "2026-01-16"


def test_header_csv_with_semicolons_and_every_other_column_a_variable() -> None:
    text = "Name;Phone;Phone 2;Balance;Due date\nAnna;+79161234567;89031112233;-10,5;2026-01-16\n"
    (result,) = read_contacts(io.StringIO(text), region="RU")
    assert result.contact is not None
    assert result.contact.phones == ("+79161234567", "+79031112233")
    assert result.contact.variables == {"Balance": "-10,5", "Due date": "2026-01-16"}
    assert str(result.contact.decimal("Balance")) == "-10.5"


def test_named_columns_override_the_guess() -> None:
    text = "who,mobile,home\nAnna,+79161234567,+74951234567\n"
    (result,) = read_contacts(io.StringIO(text), phone_column=["home", "mobile"], name_column="who")
    assert result.contact is not None
    assert result.contact.name == "Anna"
    assert result.contact.phones == ("+74951234567", "+79161234567")


def test_a_column_can_be_named_by_its_letter() -> None:
    text = "a,b\nAnna,+79161234567\n"
    (result,) = read_contacts(io.StringIO(text), phone_column="B", name_column="A")
    assert result.contact is not None
    assert result.contact.phones == ("+79161234567",)


def test_unknown_named_column_is_a_settings_error() -> None:
    with pytest.raises(SettingsError) as exc:
        list(read_contacts(io.StringIO("name,phone\n"), phone_column="tel"))
    assert exc.value.field == "phone_column"
    assert "name, phone" in str(exc.value)


def test_no_phone_column_is_a_list_error_naming_the_headers() -> None:
    with pytest.raises(ContactListError, match=r"no phone column in the header \(name, age\)"):
        list(read_contacts(io.StringIO("name,age\nAnna,30\n")))


def test_tab_separated_text_pasted_from_a_spreadsheet_without_header() -> None:
    pasted = "Budi Santoso\t87630021323\t150000\nSiti\t81234567890\t275000\n"
    results = list(read_contacts(io.StringIO(pasted), region="ID", format="tsv"))
    assert [r.row for r in results] == [1, 2]
    assert results[0].contact is not None
    assert results[0].contact.name == "Budi Santoso"
    assert results[0].contact.phones == ("+6287630021323",)
    assert results[0].contact.variables == {"C": "150000"}


def test_pasted_tsv_with_header() -> None:
    pasted = "phone\tname\tamount\n87630021323\tBudi\t150000\n"
    (result,) = read_contacts(io.StringIO(pasted), region="ID", format="tsv")
    assert result.contact is not None
    assert result.contact.variables == {"amount": "150000"}


def test_header_false_treats_the_first_row_as_data() -> None:
    results = list(read_contacts(io.StringIO("+79161234567,Anna\n"), header=False))
    assert results[0].contact is not None
    assert results[0].contact.phones == ("+79161234567",)
    assert results[0].contact.variables == {"B": "Anna"}


def test_blank_rows_are_skipped_not_counted() -> None:
    text = "\nphone,name\n+79161234567,Anna\n,\n\n+79031112233,Boris\n"
    report = check_contacts(io.StringIO(text))
    assert report.rows == 2
    assert [row for row, _ in report.contacts] == [3, 6]


def test_duplicate_numbers_are_flagged_with_the_first_row() -> None:
    text = "phone\n+79161234567\n89161234567\n+79161234567; +79031112233\n"
    results = list(read_contacts(io.StringIO(text), region="RU"))
    assert [r.status for r in results] == [RowStatus.VALID, RowStatus.DUPLICATE, RowStatus.VALID]
    assert results[1].problems[0].reason == "duplicate: +79161234567 is in row 2"
    assert results[2].contact is not None
    assert results[2].contact.phones == ("+79031112233",)
    assert results[2].problems[0].kind == "duplicate"


def test_invalid_rows_do_not_reserve_their_numbers() -> None:
    text = "phone,tz\n+79161234567,Mars/Olympus\n+79161234567,Europe/Moscow\n"
    results = list(read_contacts(io.StringIO(text)))
    assert results[0].status is RowStatus.INVALID
    assert results[0].problems[0].column == "tz"
    assert results[1].ok
    assert results[1].contact is not None
    assert results[1].contact.timezone == "Europe/Moscow"


def test_ids_from_the_list_and_repeated_ids() -> None:
    text = "id,phone\nA-1,+79161234567\nA-1,+79031112233\n"
    results = list(read_contacts(io.StringIO(text)))
    assert results[0].contact is not None
    assert results[0].contact.id == "A-1"
    assert results[1].status is RowStatus.INVALID
    assert results[1].problems[0].reason == "the same id as row 2"


def test_windows_1251_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes("ФИО;Телефон\nИгорь Липко;89508881234\n".encode("cp1251"))
    (result,) = read_contacts(path, region="RU")
    assert result.contact is not None
    assert result.contact.name == "Игорь Липко"


def test_utf8_bom_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes("\ufeffphone,name\n+79161234567,Anna\n".encode())
    (result,) = read_contacts(path)
    assert result.contact is not None
    assert result.contact.name == "Anna"


def test_missing_file_is_a_list_error(tmp_path: Path) -> None:
    with pytest.raises(ContactListError, match="cannot read the file"):
        list(read_contacts(tmp_path / "nope.csv"))


def test_empty_file_is_a_list_error(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ContactListError, match="empty"):
        list(read_contacts(tmp_path / "empty.csv"))


def test_bad_format_and_region_fail_at_once() -> None:
    with pytest.raises(SettingsError) as exc:
        read_contacts(io.StringIO(""), format="xls")
    assert exc.value.field == "format"
    with pytest.raises(SettingsError) as exc:
        read_contacts(io.StringIO(""), region="Russia")
    assert exc.value.field == "region"


class _EndlessList(io.TextIOBase):
    """A list that never ends: reading it whole would never return."""

    def __init__(self) -> None:
        self._lines = self._generate()

    @staticmethod
    def _generate() -> Iterator[str]:
        yield "phone,name\n"
        n = 0
        while True:
            n += 1
            yield f"+7916{n:07d},Person {n}\n"

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        return next(self._lines)

    def __next__(self) -> str:
        return next(self._lines)


def test_import_streams_rows_without_reading_the_whole_file() -> None:
    results = read_contacts(_EndlessList())
    first = [next(results) for _ in range(3)]
    assert [r.contact.name for r in first if r.contact] == ["Person 1", "Person 2", "Person 3"]


def test_progress_reports_bytes_up_to_the_file_size(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("phone\n" + "".join(f"+7916{n:07d}\n" for n in range(20_000)))
    seen: list[tuple[int, int | None]] = []
    report = check_contacts(path, progress=lambda done, total: seen.append((done, total)))
    assert report.valid == 20_000
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_encoding_error_after_the_sample_names_the_row_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    good = "".join(f"+7916{n:07d},Имя {n}\n" for n in range(5000))  # well past the sample
    path.write_bytes(("phone,name\n" + good).encode() + b"+79161234567,\xff\xfe\n")
    results = read_contacts(path)
    with pytest.raises(ContactListError, match=r"not readable as utf-8 after row \d+.*encoding="):
        for _ in results:
            pass


def test_given_encoding_is_used(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes("phone,name\n+79161234567,Игорь\n".encode("utf-16"))
    (result,) = read_contacts(path)  # BOM: detected
    assert result.contact is not None
    assert result.contact.name == "Игорь"
    path.write_bytes("phone,name\n+79161234567,Igor\n".encode("cp1252"))
    with pytest.raises(SettingsError):
        read_contacts(path, encoding="no-such-codec").__next__()
