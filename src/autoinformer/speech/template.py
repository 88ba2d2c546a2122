"""The template language: parse once, check before calling anyone, render per contact.

Syntax (a public contract; see docs/speech.md)::

    Hello {NAME}, your debt is <currency>{BALANCE|abs} RUB</currency>.<stop:1s> Press 1...

- variables: ``{NAME}``, and the seeds' spellings ``{{NAME}}`` and ``%VAR:NAME%``; built-ins
  ``{name}`` (the contact's name) and ``{phone}`` (its first number). Filters ``|abs`` (the
  magnitude) and ``|debt`` (the magnitude of a negative balance; a balance that is not a debt
  skips the contact with a reason).
- pauses: ``<stop:1s>``, ``<stop:500ms>``, ``<stop:1.5s>``; seed 004's ``{stop:1s}`` too.
- read-as spans: ``<digits>``, ``<letters>``, ``<date>``, ``<currency>``, ``<number>``,
  ``<time>``; their content is text and variables (no nesting, no pauses inside). Grammar
  attributes: ``<date case="genitive">``, ``<time case="genitive">``, ``<number gender="f">``
  (and ``case=`` on ``<number>``).
- recordings: ``<audio:path/to/file.mp3>`` plays a prerecorded file at that point.

Parsing is strict so that a typo stops a campaign before the first call instead of being read
aloud to 100,000 people: every error is a :class:`~autoinformer.errors.TemplateError` with the
0-based position and what was expected there. A contact whose value cannot be read as the
template reads it (``N/A`` in ``<currency>``) is skipped before it is dialled, with a reason
naming the contact, the column and the value (:meth:`Template.check`).
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable

import attrs

from autoinformer.contacts.model import Contact
from autoinformer.errors import InputError, TemplateError
from autoinformer.speech import checking, readas
from autoinformer.speech.nodes import AudioNode, Node, PauseNode, Span, Text, Var
from autoinformer.speech.plan import Pause, Play, Say, SpeechPlan
from autoinformer.speech.wording import CASES, GENDERS

__all__ = ["BUILTIN_VARIABLES", "MAX_RECOMMENDED_LENGTH", "SPAN_KINDS", "Template"]

BUILTIN_VARIABLES = frozenset({"name", "phone"})
SPAN_KINDS = ("digits", "letters", "date", "currency", "number", "time")
FILTERS = ("abs", "debt")
MAX_RECOMMENDED_LENGTH = 120
MAX_PAUSE_MS = 10_000

_NAME = re.compile(r"[^\W\d]\w*")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s)")
_ATTRIBUTE = re.compile(r"\s+([a-z]+)\s*=\s*\"([^\"]*)\"")
# The grammar a span may be asked for, and the values each attribute takes.
SPAN_ATTRIBUTES: dict[str, dict[str, tuple[str, ...]]] = {
    "date": {"case": tuple(CASES)},
    "time": {"case": tuple(CASES)},
    "number": {"case": tuple(CASES), "gender": tuple(GENDERS)},
}


class _Parser:
    """A hand-written scanner: the grammar is tiny and errors must carry exact positions."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.i = 0
        self.nodes: list[Node] = []
        self.span: tuple[str, int, list[Text | Var]] | None = None
        self.options: tuple[tuple[str, str], ...] = ()

    def error(self, message: str, position: int | None = None) -> TemplateError:
        return TemplateError(
            message, template=self.src, position=self.i if position is None else position
        )

    def emit(self, node: Node) -> None:
        if self.span is not None:
            if not isinstance(node, Text | Var):
                kind, start, _ = self.span
                raise self.error(
                    f"a pause or recording cannot go inside <{kind}> (opened at {start}); "
                    f"expected </{kind}> first",
                    node.position,
                )
            self.span[2].append(node)
        else:
            self.nodes.append(node)

    def parse(self) -> tuple[Node, ...]:
        src = self.src
        text_start = 0
        buf: list[str] = []

        def flush() -> None:
            if buf:
                self.emit(Text("".join(buf), text_start))
                buf.clear()

        while self.i < len(src):
            c = src[self.i]
            start = self.i
            if src.startswith("{stop:", start):
                flush()
                self.emit(self.pause(start + len("{stop:"), "}"))
            elif src.startswith("{{", start):
                flush()
                self.emit(self.variable(start, start + 2, "}}"))
            elif c == "{":
                flush()
                self.emit(self.variable(start, start + 1, "}"))
            elif src.startswith("%VAR:", start):
                flush()
                self.emit(self.variable(start, start + len("%VAR:"), "%"))
            elif c == "}":
                raise self.error("unexpected '}': expected text or a variable like {NAME}")
            elif (
                c == "<"
                and start + 1 < len(src)
                and (src[start + 1].isalpha() or src[start + 1] == "/")
            ):
                flush()
                self.tag(start)
            else:
                if not buf:
                    text_start = start
                buf.append(c)
                self.i += 1
        flush()
        if self.span is not None:
            kind, pos, _ = self.span
            raise self.error(f"<{kind}> opened at {pos} is never closed: expected </{kind}>")
        return tuple(self.nodes)

    def variable(self, start: int, at: int, close: str) -> Var:
        m = _NAME.match(self.src, at)
        if m is None:
            self.i = at
            raise self.error("expected a variable name (letters, digits, _) like {NAME}")
        name, j = m.group(0), m.end()
        filters: list[str] = []
        while self.src.startswith("|", j):
            fm = _NAME.match(self.src, j + 1)
            if fm is None or fm.group(0) not in FILTERS:
                self.i = j + 1
                got = fm.group(0) if fm else self.src[j + 1 : j + 2] or "end of template"
                raise self.error(f"unknown filter {got!r}: expected one of {', '.join(FILTERS)}")
            filters.append(fm.group(0))
            j = fm.end()
        if not self.src.startswith(close, j):
            self.i = j
            raise self.error(f"expected {close!r} to close the variable {name!r}")
        self.i = j + len(close)
        return Var(name, tuple(filters), start)

    def pause(self, at: int, close: str) -> PauseNode:
        m = _DURATION.match(self.src, at)
        if m is None:
            self.i = at
            raise self.error("expected a duration like 1s, 1.5s or 500ms")
        j = m.end()
        if not self.src.startswith(close, j):
            self.i = j
            raise self.error(f"expected {close!r} to close the pause")
        value = decimal.Decimal(m.group(1))
        ms = int(value * (1 if m.group(2) == "ms" else 1000))
        if not 0 < ms <= MAX_PAUSE_MS:
            self.i = at
            raise self.error(f"a pause must be between 1ms and {MAX_PAUSE_MS // 1000}s")
        self.i = j + len(close)
        return PauseNode(ms, at - len("<stop:"))

    def attributes(self, kind: str, at: int) -> tuple[tuple[tuple[str, str], ...], int]:
        """The ``name="value"`` pairs after ``<kind``, checked against :data:`SPAN_ATTRIBUTES`;
        and where they end."""
        allowed = SPAN_ATTRIBUTES.get(kind, {})
        found: list[tuple[str, str]] = []
        while (a := _ATTRIBUTE.match(self.src, at)) is not None:
            name, value = a.group(1), a.group(2)
            if name not in allowed:
                expected = ", ".join(f"{n}=" for n in allowed) or "no attributes"
                raise self.error(
                    f"<{kind}> has no attribute {name!r}: expected {expected}", a.start(1)
                )
            if value not in allowed[name]:
                raise self.error(
                    f"<{kind} {name}=...>: unknown value {value!r}: expected one of "
                    + ", ".join(allowed[name]),
                    a.start(2),
                )
            if any(name == seen for seen, _ in found):
                raise self.error(f"<{kind}>: {name!r} is given twice", a.start(1))
            found.append((name, value))
            at = a.end()
        return tuple(found), at

    def tag(self, start: int) -> None:
        src = self.src
        if src.startswith("<stop:", start):
            self.emit(self.pause(start + len("<stop:"), ">"))
            return
        if src.startswith("<audio:", start):
            end = src.find(">", start)
            path = src[start + len("<audio:") : end].strip() if end != -1 else ""
            if end == -1 or not path:
                self.i = start + len("<audio:")
                raise self.error("expected a file path and '>' like <audio:greeting.mp3>")
            self.i = end + 1
            self.emit(AudioNode(path, start))
            return
        closing = src.startswith("</", start)
        m = _NAME.match(src, start + (2 if closing else 1))
        kind = m.group(0) if m else ""
        slash = "/" if closing else ""
        options: tuple[tuple[str, str], ...] = ()
        end = m.end() if m is not None else start
        if m is not None and kind in SPAN_KINDS and not closing:
            options, end = self.attributes(kind, end)
        if m is not None and kind in SPAN_KINDS and not src.startswith(">", end):
            self.i = end
            allowed = SPAN_ATTRIBUTES.get(kind) if not closing else None
            if allowed:
                example = " ".join(f'{n}="{v[1]}"' for n, v in allowed.items())
                raise self.error(f"expected '>' or attributes like {example} in <{kind}>")
            raise self.error(f"expected '>' to close <{slash}{kind}>")
        if m is None or kind not in SPAN_KINDS:
            self.i = start
            lowered = kind.lower()
            if lowered in SPAN_KINDS:
                raise self.error(f"tags are written in lower case: expected <{slash}{lowered}>")
            if lowered in ("stop", "audio"):
                raise self.error(f"tags are written in lower case: expected <{lowered}:...>")
            raise self.error(
                "unknown tag: expected <stop:1s>, <audio:FILE> or one of "
                + ", ".join(f"<{k}>" for k in SPAN_KINDS)
            )
        self.i = end + 1
        if not closing:
            if self.span is not None:
                raise self.error(
                    f"<{kind}> cannot go inside <{self.span[0]}>: expected </{self.span[0]}>",
                    start,
                )
            self.span = (kind, start, [])
            self.options = options
            return
        if self.span is None or self.span[0] != kind:
            expected = f"</{self.span[0]}>" if self.span else "text"
            raise self.error(f"unexpected </{kind}>: expected {expected}", start)
        _, open_pos, parts = self.span
        self.span = None
        if not parts:
            raise self.error(f"<{kind}> is empty: expected something to read", open_pos)
        node = Span(kind, tuple(parts), open_pos, self.options)
        _check_span_shape(node, self.src)
        self.nodes.append(node)


# Values that stand in for variables when a span is checked at parse time.
_PLACEHOLDER = {"digits": "1", "letters": "A", "number": "1", "currency": "1"}


def _check_span_shape(span: Span, source: str) -> None:
    """Read the span with placeholders for its variables, so a bad span stops the campaign.

    In a ``<currency>`` span a variable may hold the amount or the currency code (a list with
    a CURRENCY column: ``<currency>{B} {CUR}</currency>``), so the span passes when either
    reading fits.
    """
    only_var = len(span.parts) == 1 and isinstance(span.parts[0], Var)
    variables = [p for p in span.parts if isinstance(p, Var)]
    if only_var or (variables and span.kind not in _PLACEHOLDER):
        return
    fill = _PLACEHOLDER.get(span.kind, "")
    tries: list[dict[int, str]] = [{}]
    if span.kind == "currency" and variables:
        tries += [{id(variables[0]): "USD"}, {id(variables[-1]): "USD"}]
    error: ValueError | None = None
    for special in tries:
        content = "".join(
            p.text if isinstance(p, Text) else special.get(id(p), fill) for p in span.parts
        )
        try:
            _read_span(span.kind, content, "en", span.options)
            return
        except ValueError as exc:
            error = error or exc
    first = span.parts[0]
    raise TemplateError(
        f"<{span.kind}>: {error}", template=source, position=first.position
    ) from None


def _read_span(
    kind: str, content: str, lang: str, options: tuple[tuple[str, str], ...] = ()
) -> str:
    grammar = dict(options)
    if kind == "digits":
        return readas.read_digits(content, lang)
    if kind == "letters":
        return readas.read_letters(content, lang)
    if kind == "date":
        return readas.read_date(readas.parse_date(content), lang, case=grammar.get("case", ""))
    if kind == "time":
        return readas.read_time(readas.parse_time(content), lang, case=grammar.get("case", ""))
    if kind == "number":
        number = readas.parse_decimal(content, lang)
        return readas.read_number(
            number, lang, gender=grammar.get("gender", ""), case=grammar.get("case", "")
        )
    amount = readas.parse_amount(content, lang)
    return readas.read_currency(amount.value, amount.currency, lang)


def _lookup(contact: Contact, name: str) -> str | None:
    """A variable's value: exact key, then built-in, then a case-insensitive key."""
    if name in contact.variables:
        return contact.variables[name]
    lowered = name.lower()
    if lowered == "name" and contact.name:
        return contact.name
    if lowered == "phone" and contact.phones:
        return contact.phones[0]
    for key, value in contact.variables.items():
        if key.lower() == lowered:
            return value
    return None


def _written(contact: Contact, name: str) -> str:
    """A variable as the list wrote it (before filters), for messages: ``column 'B' = '-5'``."""
    return f"column {name!r} = {(_lookup(contact, name) or '').strip()!r}"


def _unreadable(contact: Contact, var: Var, why: str) -> InputError:
    """The skip reason of a contact whose value the template cannot read: the contact (its
    id is ``row-<n>`` for a list without an id column), the column and the value."""
    return InputError(f"contact {contact.id!r}: {_written(contact, var.name)}: {why}")


@attrs.frozen
class Template:
    """A parsed speech template.

    Build one with :meth:`parse`; it is immutable and safe to share between tasks.

    Attributes:
        source: the template text as written.
        nodes: the parsed pieces.
    """

    source: str
    nodes: tuple[Node, ...]
    # The pieces of the template that read variables, and the value classes of each piece
    # that were checked and read fine (see autoinformer.speech.checking).
    _units: tuple[checking.Unit, ...] = attrs.field(init=False, eq=False, repr=False, hash=False)
    _readable: dict[tuple[object, ...], None] = attrs.field(
        init=False, eq=False, repr=False, hash=False, factory=dict
    )

    _names: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False, hash=False)

    @_units.default
    def _units_default(self) -> tuple[checking.Unit, ...]:
        return checking.check_units(self.nodes)

    @_names.default
    def _names_default(self) -> tuple[str, ...]:
        return tuple(sorted({v.name for v in self._vars()}))

    @classmethod
    def parse(cls, text: str) -> Template:
        """Parse a template.

        Raises:
            TemplateError: a syntax error; ``position`` points at it and the message says
                what was expected (``exc.pointer()`` draws a caret under it).
        """
        return cls(text, _Parser(text).parse())

    def _vars(self) -> list[Var]:
        out: list[Var] = []
        for node in self.nodes:
            if isinstance(node, Var):
                out.append(node)
            elif isinstance(node, Span):
                out.extend(p for p in node.parts if isinstance(p, Var))
        return out

    @property
    def variables(self) -> frozenset[str]:
        """The variable names the template needs, as written (built-ins included)."""
        return frozenset(self._names)

    @property
    def warnings(self) -> list[str]:
        """Advice that does not stop a campaign (seed 004: keep it at most 120 characters)."""
        out = []
        if len(self.source) > MAX_RECOMMENDED_LENGTH:
            out.append(
                f"template is {len(self.source)} characters long; keep it at most "
                f"{MAX_RECOMMENDED_LENGTH} (including variables and pauses): long messages "
                "lose listeners"
            )
        return out

    def unknown(self, known: Iterable[str]) -> list[str]:
        """Variables no column of the list provides (check a campaign before calling).

        Args:
            known: the list's variable names (column headers); compared case-insensitively,
                built-ins ``name`` and ``phone`` are always known.
        """
        have = {k.lower() for k in known} | BUILTIN_VARIABLES
        return sorted(n for n in self.variables if n.lower() not in have)

    def missing(self, contact: Contact) -> list[str]:
        """The variables this contact lacks (absent or blank): such a contact is skipped,
        never called with a hole in the sentence."""
        out = []
        for name in self._names:
            value = _lookup(contact, name)
            if value is None or not value.strip():
                out.append(name)
        return out

    def check(self, contact: Contact, lang: str = "en") -> list[str]:
        """Every reason this contact cannot be rendered: missing variables, then values that do
        not read as the template reads them (a BALANCE that is not a number, a balance that
        is not a debt under ``|debt``), naming the column and the value as the list wrote
        them. Empty when fine.

        Called for every contact entering a campaign, so it is cheap: the values are reduced
        to their *class* (``-68.27`` and ``-12.50`` are both ``-99.99``: the same reading
        succeeds or fails for both, see :mod:`autoinformer.speech.checking`) and a piece of
        the template whose values' classes read fine once is not read again.
        """
        missing = self.missing(contact)
        if missing:
            return [f"missing variable {name!r}" for name in missing]
        keys: list[tuple[object, ...]] = [(-1, lang)]  # the language itself reads
        for index, variables in self._units:
            classes = []
            for name, level in variables:
                value = _lookup(contact, name)
                assert value is not None  # not missing
                classes.append(checking.value_class(value, level, lang))
            keys.append((index, lang, *classes))
        readable = self._readable
        if all(key in readable for key in keys):
            return []
        problems = self.check_uncached(contact, lang)
        if not problems:
            if len(readable) + len(keys) > checking.MAX_CLASSES:
                readable.clear()
            readable.update(dict.fromkeys(keys))
        return problems

    def check_uncached(self, contact: Contact, lang: str = "en") -> list[str]:
        """:meth:`check` without the memo: plans the contact's speech in full."""
        missing = self.missing(contact)
        if missing:
            return [f"missing variable {name!r}" for name in missing]
        try:
            self.plan(contact, lang)
        except InputError as exc:
            # The reason is the contact's own (the campaign keeps it per contact, and its
            # summary groups contacts by reason with their ids): no id in it, so a thousand
            # 'N/A' balances are one line of the report, not a thousand.
            reason = str(exc)
            own = f"contact {contact.id!r}: "
            return [reason[len(own) :] if reason.startswith(own) else reason]
        return []

    def _value(self, contact: Contact, var: Var, lang: str) -> str:
        value = _lookup(contact, var.name)
        if value is None or not value.strip():
            raise InputError(f"contact {contact.id!r} has no variable {var.name!r}")
        value = value.strip()
        for name in var.filters:  # |abs, |debt: a number, read without its sign
            try:
                number = readas.parse_decimal(value, lang)
            except ValueError as exc:
                raise _unreadable(contact, var, f"|{name} expects a number: {exc}") from None
            if name == "debt" and number >= 0:
                raise _unreadable(
                    contact,
                    var,
                    "not a debt (|debt reads a negative balance as the sum owed; "
                    "a zero or positive balance is not called about a debt)",
                )
            # Drop the sign but keep the written form, so "-1 234,56" reads as it is written.
            value = value.lstrip("+-\u2212").strip()
        return value

    def plan(self, contact: Contact, lang: str = "en") -> SpeechPlan:
        """What this contact hears, in order (pure: no I/O).

        Raises:
            InputError: a variable is missing, or its value does not read as its span
                expects; the message names the contact and the variable.
        """
        try:
            readas.normalise_lang(lang)
        except readas.LanguageNotSupported as exc:
            raise InputError(str(exc)) from None
        pieces: list[Say | Pause | Play] = []
        skip_to = 0
        for index, node in enumerate(self.nodes):
            if index < skip_to:
                continue
            following = self.nodes[index + 1] if index + 1 < len(self.nodes) else None
            if isinstance(node, Var) and isinstance(following, Text):
                money = self._money_after(contact, node, following, lang)
                if money is not None:
                    pieces.extend(money)
                    skip_to = index + 2
                    continue
            if isinstance(node, Text):
                text = readas.spell_numbers_in(node.text, lang)
                pieces.append(Say(text, True, (text,)))
            elif isinstance(node, Var):
                gender = (
                    readas.gender_before(following.text, lang)
                    if isinstance(following, Text)
                    else ""
                )
                pieces.append(self._say_var(contact, node, lang, gender))
            elif isinstance(node, PauseNode):
                pieces.append(Pause(node.ms))
            elif isinstance(node, AudioNode):
                pieces.append(Play(node.path))
            else:
                pieces.append(self._say_span(contact, node, lang))
        return SpeechPlan(tuple(pieces), lang)

    def _money_after(self, contact: Contact, var: Var, text: Text, lang: str) -> list[Say] | None:
        """Seed 001 writes amounts as ``%VAR:BALANCE% rub``: a number-valued variable followed
        by a currency code or symbol is read as an amount, as if in ``<currency>``."""
        marker = checking.currency_after(text.text)
        if marker is None:
            return None
        code, end, strict = marker
        value = self._value(contact, var, lang)
        try:
            amount = readas.parse_decimal(value, lang)
        except ValueError as exc:
            if not strict:  # "{N} all": a word, not Albanian leks
                return None
            written = text.text[:end].strip()
            raise _unreadable(
                contact, var, f"read as an amount before {written!r}: {exc}"
            ) from None
        try:
            spoken = readas.read_currency(amount, code, lang)
        except ValueError as exc:
            written = text.text[:end].strip()
            raise _unreadable(
                contact, var, f"read as an amount before {written!r}: {exc}"
            ) from None
        say = Say(spoken, False, readas.fragment_chunks(spoken, lang), "currency", value)
        rest = text.text[end:]
        if not rest.strip():
            return [say]
        rest = readas.spell_numbers_in(rest, lang)
        return [say, Say(rest, True, (rest,))]

    def _say_var(self, contact: Contact, var: Var, lang: str, gender: str = "") -> Say:
        """A variable outside a span: a number in words (agreeing with a common Russian noun
        after it: "{N} минуты" -> "две минуты"), digits for a phone or account number, else
        the text with its numbers spelled out."""
        value = self._value(contact, var, lang)
        try:
            number = readas.parse_decimal(value, lang)
        except ValueError:
            spoken = readas.spell_numbers_in(value, lang)
            return Say(spoken, False, (spoken,), None, value)
        digits = value.lstrip("+")
        try:
            if var.name.lower() == "phone" or (digits.isdigit() and len(digits) >= 7):
                spoken = readas.read_digits(value, lang)
                return Say(spoken, False, tuple(spoken.split()), "digits", value)
            spoken = readas.read_number(number, lang, gender=gender)
        except ValueError as exc:
            raise _unreadable(contact, var, str(exc)) from None
        return Say(spoken, False, readas.fragment_chunks(spoken, lang), "number", value)

    def _say_span(self, contact: Contact, span: Span, lang: str) -> Say:
        values = {id(p): self._value(contact, p, lang) for p in span.parts if isinstance(p, Var)}
        content = "".join(p.text if isinstance(p, Text) else values[id(p)] for p in span.parts)
        try:
            spoken = _read_span(span.kind, content, lang, span.options)
        except ValueError as exc:
            columns = ", ".join(_written(contact, p.name) for p in span.parts if isinstance(p, Var))
            raise InputError(
                f"contact {contact.id!r}: {columns or 'no variables'}: cannot be read as "
                f"<{span.kind}>: {exc}"
            ) from None
        fixed = not values
        if fixed:
            chunks: tuple[str, ...] = (spoken,)
        elif span.kind in ("digits", "letters"):
            chunks = tuple(spoken.split())
        else:
            chunks = readas.fragment_chunks(spoken, lang)
        return Say(spoken, fixed, chunks, span.kind, content)

    def render_text(self, contact: Contact, lang: str = "en") -> str:
        """Plain normalised text for this contact (numbers, dates, amounts in words).

        Raises:
            InputError: see :meth:`plan`.
        """
        return self.plan(contact, lang).text()

    def render_ssml(self, contact: Contact, lang: str = "en") -> str:
        """SSML for this contact, for engines that take it.

        Raises:
            InputError: see :meth:`plan`.
        """
        return self.plan(contact, lang).ssml()

    def preview(self, lang: str = "en") -> str:
        """The text with variables shown as placeholders (``{phone}``), as seed 004 previews."""
        parts: list[str] = []

        def show(p: Text | Var) -> str:
            return p.text if isinstance(p, Text) else "{" + p.name + "}"

        for node in self.nodes:
            if isinstance(node, Text | Var):
                parts.append(show(node))
            elif isinstance(node, Span):
                parts.append("".join(show(p) for p in node.parts))
        return re.sub(r"\s+", " ", "".join(parts)).strip()
