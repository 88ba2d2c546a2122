"""`autoinformer run` reads its contact list into the store once (issue #13 item 7).

A resumed run must not spend ~20 s re-reading and validating a 1M-row list the store already
holds: the list's fingerprint is remembered after its contacts are in the store, and a start
with the same list skips the file. A changed list is read again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import autoinformer.cli.run as run_module
from autoinformer.cli import main
from autoinformer.cli._list_memo import LIST_MEMO_KEY, fingerprint, recall, remember
from autoinformer.contacts import Contact
from autoinformer.store.memory import MemoryStore

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "campaign"


def _copy_example(tmp_path: Path) -> Path:
    target = tmp_path / "campaign"
    shutil.copytree(EXAMPLE, target)
    return target / "campaign.toml"


def _run(campaign: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code = main(["run", str(campaign), "--store", str(store), "--json"])
    out = capsys.readouterr().out
    assert code in (0, 1), out
    summary: dict[str, object] = json.loads(out)
    return summary


def test_a_resumed_run_does_not_read_the_list_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = _copy_example(tmp_path)
    store = tmp_path / "store.sqlite"
    first = _run(campaign, store, capsys)

    reads: list[Path] = []
    real_read = run_module.read_contacts

    def counting_read(path: Path, **kwargs: object) -> object:
        reads.append(path)
        return real_read(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(run_module, "read_contacts", counting_read)
    again = _run(campaign, store, capsys)
    assert reads == []  # the store had the list: the file was not read
    assert again["rejected_rows"] == first["rejected_rows"]
    assert again["attempts"] == first["attempts"]  # a finished campaign places no call

    # an edited list is read again, and its new row is called
    csv = campaign.parent / "debtors.csv"
    text = csv.read_text(encoding="utf-8").rstrip("\n")
    csv.write_text(text + '\n"Nina Orlova", "79605690188", "BALANCE = -10.00"\n', encoding="utf-8")
    third = _run(campaign, store, capsys)
    assert len(reads) == 1
    assert int(str(third["attempts"])) > int(str(first["attempts"]))


def test_the_memo_is_believed_only_once_the_store_holds_the_contacts(tmp_path: Path) -> None:
    listing = tmp_path / "list.csv"
    listing.write_text("phone,BALANCE\n+14155550101,10\n", encoding="utf-8")
    current = fingerprint(listing, "US", [])
    store = MemoryStore()
    assert recall(store, "c", current) is None
    contacts = [Contact(id="a", phones=("+14155550101",), variables={"BALANCE": "10"})]
    memo = remember(store, "c", current, contacts, rejected=2)
    assert memo.columns == ("BALANCE",)
    assert memo.rejected == 2
    assert memo.stored == 1
    # remembered before the run wrote the contacts: a crash here must not skip the list
    assert recall(store, "c", current) is None
    store.add_contacts("c", contacts)
    assert recall(store, "c", current) == memo
    # what judged the rows is part of the fingerprint; so is every byte of the file
    assert fingerprint(listing, "RU", []) != current
    listing.write_text("phone,BALANCE\n+14155550101,11\n", encoding="utf-8")
    assert recall(store, "c", fingerprint(listing, "US", [])) is None
    store.set_meta("c", LIST_MEMO_KEY, "{not json")
    assert recall(store, "c", current) is None  # an unreadable memo: read the list again
