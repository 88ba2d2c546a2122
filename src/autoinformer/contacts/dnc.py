"""Do-not-call lists, checked at dial time (not only at import).

A list is a set of E.164 numbers, optionally backed by a text file (one number per line,
``#`` comments) and/or a callable the application supplies (a CRM lookup). When a callee opts
out during a call the core calls :meth:`DoNotCallList.add`; a file-backed list appends the
number to its file at once, so the opt-out survives a crash or restart.

Numbers are compared in E.164, so ``8 (950) 888-12-34`` in the file blocks ``+79508881234``
when the list's region is ``RU``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import attrs

from autoinformer.contacts.phones import PhoneNormalizer, PhoneNumberError, check_region
from autoinformer.contacts.rows import RowProblem
from autoinformer.errors import ContactListError, PolicyError, StoreError

__all__ = ["DoNotCallList"]


@attrs.define(kw_only=True)
class DoNotCallList:
    """Numbers that must not be called.

    Build one with :meth:`from_file`, :meth:`from_callable` or :meth:`from_numbers`
    (``DoNotCallList()`` is an empty in-memory list).

    Args:
        region: default region for numbers written without the country code.

    Attributes:
        path: the backing file, if any (opt-outs are appended to it).
        problems: lines of the file that were not valid numbers (they block nothing).
    """

    region: str | None = attrs.field(default=None, converter=check_region)
    path: Path | None = None
    problems: list[RowProblem] = attrs.field(factory=list)
    _numbers: set[str] = attrs.field(factory=set, alias="_numbers")
    _check: Callable[[str], bool] | None = attrs.field(default=None, alias="_check")
    _normalizer: PhoneNormalizer = attrs.field(init=False)

    @_normalizer.default
    def _make_normalizer(self) -> PhoneNormalizer:
        # any country: a number in a do-not-call list blocks, it is never a call abroad
        return PhoneNormalizer(region=self.region, countries=None)

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, region: str | None = None, create: bool = False
    ) -> DoNotCallList:
        """Load a list from a text file: one number per line (extra columns after ``,;`` or tab
        are ignored, so a CSV export works too); ``#`` starts a comment.

        Args:
            path: the file; opt-outs added later are appended to it.
            region: default region for numbers without the country code.
            create: start an empty list when the file does not exist yet.

        Raises:
            ContactListError: the file cannot be read (or is missing and ``create`` is false).
        """
        dnc = cls(region=region, path=Path(path))
        dnc.reload(create=create)
        return dnc

    @classmethod
    def from_callable(
        cls, check: Callable[[str], bool], *, region: str | None = None
    ) -> DoNotCallList:
        """A list that asks ``check(e164)`` (e.g. a CRM lookup); opt-outs are kept in memory."""
        return cls(region=region, _check=check)

    @classmethod
    def from_numbers(cls, numbers: Iterable[str], *, region: str | None = None) -> DoNotCallList:
        """An in-memory list of the given numbers.

        Raises:
            PhoneNumberError: one of the numbers is not valid.
        """
        dnc = cls(region=region)
        for number in numbers:
            dnc._numbers.add(dnc._normalizer.normalize(number))
        return dnc

    def reload(self, *, create: bool = False) -> None:
        """Re-read the backing file (another process may have added numbers).

        Raises:
            ContactListError: the file cannot be read.
        """
        if self.path is None:
            return
        numbers: set[str] = set()
        problems: list[RowProblem] = []
        try:
            with self.path.open(encoding="utf-8-sig") as fh:
                for row, line in enumerate(fh, start=1):
                    text = line.split("#", 1)[0]
                    for sep in ",;\t":
                        text = text.split(sep, 1)[0]
                    text = text.strip().strip('"').strip()
                    if not text:
                        continue
                    try:
                        numbers.add(self._normalizer.normalize(text))
                    except PhoneNumberError as exc:
                        if row == 1 and not any(ch.isdigit() for ch in text):
                            continue  # a header line ("phone")
                        problems.append(RowProblem(row, "A", text, exc.reason))
        except FileNotFoundError:
            if not create:
                raise ContactListError(f"{self.path}: no such do-not-call file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ContactListError(
                f"{self.path}: cannot read the do-not-call file ({exc})"
            ) from None
        self._numbers = numbers
        self.problems = problems

    def _key(self, number: str) -> str:
        try:
            return self._normalizer.normalize(number)
        except PhoneNumberError:
            return number.strip()

    def blocks(self, number: str) -> bool:
        """Whether ``number`` must not be called (checked right before dialling).

        Raises:
            PolicyError: the application's check failed; the caller must not dial blindly.
        """
        key = self._key(number)
        if key in self._numbers:
            return True
        if self._check is None:
            return False
        try:
            return bool(self._check(key))
        except Exception as exc:
            raise PolicyError(f"do-not-call check failed for {key}: {exc!r}") from exc

    def __contains__(self, number: object) -> bool:
        return isinstance(number, str) and self.blocks(number)

    def __len__(self) -> int:
        """Numbers held locally (a callable's numbers are not counted)."""
        return len(self._numbers)

    def add(self, number: str) -> str:
        """Put a number on the list (a callee opted out); appended to the file at once.

        Returns:
            The number in E.164.

        Raises:
            PhoneNumberError: ``number`` is not a valid phone number.
            StoreError: the file could not be written (the number is still blocked in memory).
        """
        e164 = self._normalizer.normalize(number)
        if e164 in self._numbers:
            return e164
        self._numbers.add(e164)
        if self.path is not None:
            try:
                needs_newline = self.path.exists() and _ends_without_newline(self.path)
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(("\n" if needs_newline else "") + e164 + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as exc:
                raise StoreError(f"{self.path}: could not record the opt-out ({exc})") from None
        return e164


def _ends_without_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() == 0:
            return False
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) not in (b"\n", b"\r")
