"""Do-not-call lists: from a file, from a callable, opt-outs persisted."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoinformer.contacts import DoNotCallList, PhoneNumberError
from autoinformer.errors import ContactListError, PolicyError


def test_file_numbers_block_in_any_spelling(tmp_path: Path) -> None:
    path = tmp_path / "dnc.txt"
    path.write_text("phone\n# opted out by phone\n8 (950) 888-12-34\n+17605632123, 2026-01-01\n")
    dnc = DoNotCallList.from_file(path, region="RU")
    assert len(dnc) == 2
    assert "+79508881234" in dnc
    assert dnc.blocks("89508881234")
    assert dnc.blocks("17605632123")
    assert not dnc.blocks("+79031112233")
    assert dnc.problems == []


def test_bad_lines_are_reported_and_block_nothing(tmp_path: Path) -> None:
    path = tmp_path / "dnc.txt"
    path.write_text("+79508881234\n12\n")
    dnc = DoNotCallList.from_file(path)
    assert [(p.row, p.value) for p in dnc.problems] == [(2, "12")]
    assert len(dnc) == 1


def test_opt_out_is_appended_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "dnc.txt"
    path.write_text("+79508881234")  # no final newline
    dnc = DoNotCallList.from_file(path, region="RU")
    assert dnc.add("8 916 123 45 67") == "+79161234567"
    assert dnc.add("+79161234567") == "+79161234567"  # once only
    assert path.read_text() == "+79508881234\n+79161234567\n"
    again = DoNotCallList.from_file(path)
    assert again.blocks("+79161234567")


def test_missing_file_is_an_error_unless_created(tmp_path: Path) -> None:
    with pytest.raises(ContactListError, match="no such do-not-call file"):
        DoNotCallList.from_file(tmp_path / "dnc.txt")
    dnc = DoNotCallList.from_file(tmp_path / "dnc.txt", create=True)
    assert len(dnc) == 0
    dnc.add("+79161234567")
    assert (tmp_path / "dnc.txt").read_text() == "+79161234567\n"


def test_reload_sees_numbers_added_by_someone_else(tmp_path: Path) -> None:
    path = tmp_path / "dnc.txt"
    path.write_text("")
    dnc = DoNotCallList.from_file(path)
    DoNotCallList.from_file(path).add("+79161234567")
    assert not dnc.blocks("+79161234567")
    dnc.reload()
    assert dnc.blocks("+79161234567")


def test_callable_gets_e164_and_opt_outs_are_kept() -> None:
    asked: list[str] = []

    def crm(number: str) -> bool:
        asked.append(number)
        return number == "+79508881234"

    dnc = DoNotCallList.from_callable(crm, region="RU")
    assert dnc.blocks("8 950 888 12 34")
    assert not dnc.blocks("+79161234567")
    assert asked == ["+79508881234", "+79161234567"]
    dnc.add("+79161234567")
    assert dnc.blocks("+79161234567")


def test_a_failing_callable_is_a_policy_error_not_a_silent_pass() -> None:
    def broken(number: str) -> bool:
        raise ConnectionError("CRM down")

    dnc = DoNotCallList.from_callable(broken)
    with pytest.raises(PolicyError, match="CRM down"):
        dnc.blocks("+79161234567")


def test_from_numbers_and_bad_opt_out() -> None:
    dnc = DoNotCallList.from_numbers(["+79161234567"])
    assert "+79161234567" in dnc
    assert 79161234567 not in dnc
    with pytest.raises(PhoneNumberError):
        dnc.add("not a number")
