"""The campaigns a server runs: created, fed lists, started, paused, stopped; kept in the store.

One :class:`CampaignManager` owns the server's store (a SQLite file, or a PostgreSQL database
named by a ``postgresql://`` URL; only the :class:`~autoinformer.store.Store` contract is
used, so either serves) and a task group in which each
started campaign's :class:`~autoinformer.runtime.Runtime` runs (the simulated switch at its
``[sim] speed``, or the real switch its ``[backend]`` names, as ``autoinformer run`` would).
Everything a restarted server needs is in the store: each campaign's definition (the text it
was sent as) and its state, kept in the store's meta table under :data:`REGISTRY`; contacts,
progress and attempts as every run keeps them. :meth:`CampaignManager.open` reads them back
and resumes each campaign that was running (or paused) as it was.

States: ``draft`` (created; lists may be uploaded), ``running``, ``paused``, ``stopped`` (by
request), ``finished`` (every contact done), ``failed`` (the switch or store failed: ``error``
says why). A stopped, finished or failed campaign may be started again (new contacts, retries
due).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import logging
import secrets
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import anyio.from_thread
import anyio.lowlevel
import attrs
import sniffio
from anyio.lowlevel import EventLoopToken

from autoinformer import _assembly
from autoinformer.contacts.model import Contact
from autoinformer.errors import AutoinformerError, InputError, SettingsError
from autoinformer.outcomes import ContactState
from autoinformer.records import AttemptRecord
from autoinformer.runtime import Runtime
from autoinformer.serve._counters import LiveCounters
from autoinformer.serve._definition import Definition, parse_definition
from autoinformer.serve._uploads import ListOptions, check_upload
from autoinformer.store.base import Store
from autoinformer.store.sqlite import SqliteStore
from autoinformer.store.urls import PASSWORD_HELP, has_password, is_postgres_url, redacted

__all__ = [
    "REGISTRY",
    "CampaignManager",
    "Conflict",
    "NotFound",
    "ServedCampaign",
    "open_store",
    "refuse_password",
]

log = logging.getLogger("autoinformer.serve")

REGISTRY = "__autoinformer_serve__"
"""The meta-table namespace (a campaign name no campaign may take) of the served campaigns."""

ACTIVE = frozenset({"running", "paused"})
STARTABLE = frozenset({"draft", "stopped", "finished", "failed"})
STOP_SECONDS = 20.0
"""When the server stops, how long a campaign's runtime may take to end."""
STATUS_MAX_AGE = 0.2
"""Seconds a running campaign's computed status is reused (many dashboards, one count)."""


class NotFound(AutoinformerError):
    """No such campaign or contact (HTTP 404)."""


class Conflict(AutoinformerError):
    """The request does not fit the campaign's state (HTTP 409)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@attrs.define(kw_only=True, eq=False)
class ServedCampaign:
    """One campaign of the server: its definition, state, live counters and runtime."""

    id: str
    definition: Definition
    state: str = "draft"
    created: float = 0.0
    uploads: int = 0
    error: str | None = None
    counters: LiveCounters
    runtime: Runtime | None = None
    thread: RuntimeThread | None = None
    stopping: bool = False
    version: int = 0
    changed: anyio.Event = attrs.field(factory=anyio.Event)
    done: anyio.Event | None = None
    _contacts: dict[str, int] | None = None
    adding: list[Contact] = attrs.field(factory=list)
    """Contacts handed to the running runtime; stored again when it ends (a runtime that
    ended as they were handed over never read them: nothing uploaded is lost)."""
    _status: dict[str, Any] | None = None
    _status_version: int = -1
    _status_at: float = 0.0
    _json: str = ""

    @property
    def name(self) -> str:
        """The campaign's name (its key in the store)."""
        return self.definition.spec.campaign.name

    def touch(self, *, figures_only: bool = False) -> None:
        """Something changed: wake whoever waits on :attr:`changed` (event streams). A new
        result (``figures_only``) may be shown up to ``STATUS_MAX_AGE`` late; a new state,
        list or error is shown at once."""
        self.version += 1
        if not figures_only:
            self._status = None
        event, self.changed = self.changed, anyio.Event()
        event.set()

    def record(self, record: AttemptRecord) -> None:
        """A finished attempt (the runtime's ``on_result`` callback)."""
        self.counters.add(record)
        self.touch(figures_only=True)

    def registry_entry(self) -> str:
        """What the store keeps of this campaign (JSON)."""
        return json.dumps(
            {
                "id": self.id,
                "name": self.name,
                "media_type": self.definition.media_type,
                "text": self.definition.text,
                "state": self.state,
                "created": self.created,
                "uploads": self.uploads,
                "error": self.error,
            }
        )

    def status(self) -> dict[str, Any]:
        """``{id, name, state, attempts, outcomes{}, contacts{}, abandon_rate, lines_busy,
        window}`` and more (see ``docs/serve.md``)."""
        now = time.monotonic()
        cached = self._status
        if cached is not None and (
            self._status_version == self.version
            or (self.runtime is not None and now - self._status_at < STATUS_MAX_AGE)
        ):
            return cached  # a running campaign's figures are at most STATUS_MAX_AGE old
        spec = self.definition.spec
        campaign = spec.campaign
        runtime = self.runtime
        contacts = dict(self._contacts or {s.value: 0 for s in ContactState})
        busy = len(runtime.core.calls) if runtime is not None else 0
        self._status = {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "attempts": self.counters.attempts,
            "outcomes": dict(self.counters.outcomes),
            "contacts": contacts,
            "abandon_rate": self.counters.abandon_rate,
            "abandon_cap": campaign.abandon_cap,
            "lines_busy": busy,
            "lines": campaign.lines,
            "window": campaign.window.describe(),
            "backend": spec.backend,
            "speed": self.definition.speed if spec.backend == "sim" else None,
            "calls_per_hour": self.counters.calls_per_hour(),
            "variables": _variables(spec.campaign),
            "operators": _operators(campaign, runtime),
            "error": self.error,
            "ending": self.done is not None and self.state not in ACTIVE,
            "created": self.created,
        }
        self._status_at = now
        self._status_version = self.version
        self._json = ""
        return self._status

    def status_json(self) -> str:
        """:meth:`status` as JSON, encoded once however many event streams send it."""
        status = self.status()
        if not self._json:
            self._json = json.dumps(status)
        return self._json


def _operators(campaign: Any, runtime: Runtime | None) -> list[dict[str, Any]]:
    """Each operator of each queue with its state and calls taken (``logged_out`` while the
    campaign does not run), from the core's snapshots while it runs."""
    if runtime is not None:
        return [
            {"id": o.id, "queue": o.queue, "state": o.state.value, "calls": o.calls}
            for o in runtime.core.operators()
        ]
    return [
        {"id": o.id, "queue": name, "state": "logged_out", "calls": 0}
        for name, queue in campaign.queues.items()
        for o in queue.operators
    ]


def _attempts(store: Store, name: str) -> list[AttemptRecord]:
    return list(store.attempts(name))


def _variables(campaign: Any) -> list[str]:
    """The ``{VARIABLE}``s the script's texts use (the columns a list must have)."""
    from autoinformer.speech import Template

    names: dict[str, None] = {}
    for text in campaign.script.templates():
        with contextlib.suppress(AutoinformerError):
            names.update(dict.fromkeys(sorted(Template.parse(text).variables)))
    return [n for n in names if n.lower() not in ("name", "phone")]


@attrs.define(kw_only=True, eq=False)
class RuntimeThread:
    """A campaign's runtime in a thread of its own, with its own event loop.

    A long step of one campaign (restoring 10,000 contacts checks each one's texts: seconds of
    pure Python) then never stalls the API or the other campaigns: threads take turns every
    few milliseconds. The server's loop and the runtime's talk only through :meth:`call` (this
    loop to the runtime's) and the result callback (the runtime's to this one).
    """

    runtime: Runtime
    token: EventLoopToken
    scope: anyio.CancelScope
    order: anyio.CapacityLimiter = attrs.field(factory=lambda: anyio.CapacityLimiter(1))

    async def call(self, fn: Callable[..., object], *args: Any) -> None:
        """Run ``fn(*args)`` in the runtime's loop, in the order called; waits in a worker
        thread, never blocking this loop (nothing, once the runtime has ended)."""
        token = self.token

        def hop() -> None:
            with contextlib.suppress(anyio.RunFinishedError):
                anyio.from_thread.run_sync(fn, *args, token=token)

        await anyio.to_thread.run_sync(hop, limiter=self.order)


def _to_loop(token: EventLoopToken, fn: Callable[..., object], *args: Any) -> None:
    """From a worker thread: ``fn(*args)`` in the loop of ``token`` (nothing if it ended)."""
    with contextlib.suppress(anyio.RunFinishedError):
        anyio.from_thread.run_sync(fn, *args, token=token)


def refuse_password(url: str, *, option: str = "store") -> None:
    """Refuse a PostgreSQL URL that carries a password, with ``autoinformer run``'s message.

    Raises:
        InputError: it does (``user:secret@`` or ``?password=``).
    """
    if is_postgres_url(url) and has_password(url):
        raise InputError(
            f"{option}: the PostgreSQL URL carries a password; {PASSWORD_HELP} instead "
            "(libpq reads both)"
        )


def open_store(target: str | Path, *, option: str = "store") -> tuple[Store, Path]:
    """The server's store, and the folder for the files kept beside it (uploads spooled while
    they are checked, the speech cache).

    Args:
        target: a SQLite file (created if missing; the folder is its folder) or a
            ``postgresql://`` URL (a database has no folder: the one ``autoinformer run``
            uses for that database, in the temporary directory, so both share the speech
            cache). A ``str`` that is not such a URL is a file path.
        option: how an error names where ``target`` was given (the CLI: ``--store``).

    Raises:
        InputError: the URL carries a password (as ``autoinformer run`` refuses it: it would
            sit in shell history, the process list and the service's unit file), or psycopg
            is not installed.
        StoreError: the database cannot be reached or its schema is newer than ours.
    """
    if isinstance(target, str) and is_postgres_url(target):
        refuse_password(target, option=option)
        try:
            from autoinformer.store.postgres import PostgresStore
        except ImportError as exc:
            raise InputError(f"{option}: {exc}") from None
        digest = hashlib.sha256(redacted(target).encode()).hexdigest()[:12]
        folder = Path(tempfile.gettempdir()) / f"autoinformer-{digest}"  # as run's
        store = PostgresStore(target)
        folder.mkdir(mode=0o700, exist_ok=True)
        return store, folder
    path = Path(target)
    return SqliteStore(path, durability="normal"), path.parent


@attrs.define(kw_only=True, eq=False)
class CampaignManager:
    """The server's campaigns over one store (SQLite or PostgreSQL); use :meth:`open`.

    Args:
        store: the store (campaigns, contacts, attempts, the registry).
        base: where campaigns' relative paths (recordings, do-not-call lists) are taken from.
        files: where uploads are spooled and speech fragments cached (default: ``base``).
    """

    store: Store
    base: Path
    files: Path = attrs.field(default=attrs.Factory(lambda self: self.base, takes_self=True))
    _tg: anyio.abc.TaskGroup
    _campaigns: dict[str, ServedCampaign] = attrs.field(factory=dict)
    _lock: anyio.Lock = attrs.field(factory=anyio.Lock)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, store_path: str | Path, *, base: Path | None = None
    ) -> AsyncIterator[CampaignManager]:
        """Open the store (created if missing), read its campaigns back and resume those that
        were running or paused; on exit, cancel the running campaigns (their calls in flight
        are reconciled on the next start, as after any interruption) and close the store.
        On PostgreSQL the server holds a lock on the schema while it serves
        (:mod:`autoinformer.serve._lock`): a second server there is refused.

        Args:
            store_path: a SQLite file or a ``postgresql://`` URL without a password (see
                :func:`open_store`).
            base: where campaigns' relative paths are taken from (default: the SQLite file's
                folder; for PostgreSQL, the current directory).

        Raises:
            InputError: the URL carries a password.
            StoreError: the store cannot be opened; another server runs on that PostgreSQL
                schema.
        """
        store, folder = await anyio.to_thread.run_sync(lambda: open_store(store_path))
        lock = None
        if isinstance(store_path, str) and is_postgres_url(store_path):
            from autoinformer.serve._lock import ServerLock

            url = store_path
            try:
                lock = await anyio.to_thread.run_sync(lambda: ServerLock(url))
            except BaseException:
                store.close()
                raise
        try:
            async with anyio.create_task_group() as tg:
                postgres = isinstance(store_path, str) and is_postgres_url(store_path)
                home = base or (Path.cwd() if postgres else folder)
                manager = cls(store=store, base=home, files=folder, tg=tg)
                await manager._restore()
                try:
                    yield manager
                finally:
                    tg.cancel_scope.cancel()
        finally:
            store.close()
            if lock is not None:
                lock.release()

    # --- reading -------------------------------------------------------------------------

    def get(self, campaign_id: str) -> ServedCampaign:
        """The campaign with this id.

        Raises:
            NotFound: there is none.
        """
        served = self._campaigns.get(campaign_id)
        if served is None:
            raise NotFound(f"no campaign {campaign_id!r}")
        return served

    def campaigns(self) -> list[ServedCampaign]:
        """Every campaign, oldest first."""
        return sorted(self._campaigns.values(), key=lambda s: (s.created, s.id))

    # --- creating and feeding ------------------------------------------------------------

    async def create(self, body: bytes, media_type: str) -> ServedCampaign:
        """Create a campaign (state ``draft``) from its TOML or JSON text.

        Raises:
            SettingsError, InputError: the campaign is wrong (see :func:`parse_definition`).
            Conflict: a campaign of that name exists.
        """
        definition = parse_definition(body, media_type, base=self.base)
        name = definition.spec.campaign.name
        if name == REGISTRY:
            raise SettingsError("campaign.name", f"{name!r} is reserved for the server")
        async with self._lock:
            for other in self._campaigns.values():
                if other.name == name:
                    raise Conflict(
                        f"a campaign named {name!r} exists (id {other.id})", field="campaign.name"
                    )
            served = ServedCampaign(
                id=secrets.token_hex(6),
                definition=definition,
                created=time.time(),
                counters=self._counters(definition),
            )
            await self._load_counts(served)
            self._campaigns[served.id] = served
            await self._save(served, register=True)
        return served

    async def upload(
        self,
        campaign_id: str,
        body: bytes,
        media_type: str,
        options: ListOptions | None = None,
    ) -> dict[str, Any]:
        """Check an uploaded list and add its valid contacts (to a running campaign too).

        Returns:
            The ``contacts check --json`` report, with ``added`` (new contacts) and
            ``already_present`` (ids the campaign has already, left as they are).

        Raises:
            NotFound: no such campaign.
            InputError: the list cannot be read at all, or its content type is not a list's.
            SettingsError: a ``{VARIABLE}`` of the script is in no column of the list.
        """
        served = self.get(campaign_id)
        options = options or ListOptions()
        campaign = served.definition.spec.campaign
        prefix = f"u{served.uploads + 1}-" if served.uploads else ""
        upload = await anyio.to_thread.run_sync(
            lambda: check_upload(
                body, media_type, campaign, options=options, id_prefix=prefix, spool_dir=self.files
            )
        )
        contacts = upload.contacts
        if contacts:  # a variable no column provides would skip every contact: say it now
            from autoinformer.preflight import check_templates, list_columns

            check_templates(campaign.script, list_columns(contacts))
        store, name = self.store, served.name
        runtime, thread = served.runtime, served.thread
        if runtime is not None and thread is not None:
            # the runtime stores them and tells its core (a contact stored before it hears of
            # it would be taken for one it has already)
            known = await anyio.to_thread.run_sync(
                lambda: store.known_ids(name, [c.id for c in contacts])
            )
            handed = {c.id for c in served.adding}  # handed over, perhaps not stored yet
            new = [c for c in contacts if c.id not in known and c.id not in handed]
            if new:
                served.adding.extend(new)
                await thread.call(runtime.add_contacts, new)
            added = len(new)
        else:
            added = await anyio.to_thread.run_sync(lambda: store.add_contacts(name, contacts))
        served.uploads += 1
        await self._save(served)
        await self._load_counts(served)
        served.touch()
        report = dict(upload.report)
        report["added"] = added
        report["already_present"] = len(contacts) - added
        return report

    async def cancel_contact(self, campaign_id: str, contact_id: str) -> dict[str, Any]:
        """No further call to this contact ("paid").

        Returns:
            ``{"id": contact_id, "state": ...}``: ``cancelled``, or the state it had already
            reached (``done``, ``exhausted``, ``skipped``): a finished contact stays as it is.

        Raises:
            NotFound: no such campaign or contact.
        """
        served = self.get(campaign_id)
        store, name = self.store, served.name
        runtime = served.runtime
        if runtime is not None:
            slot = runtime.core.book.slots.get(contact_id)
            if slot is not None and slot.state.value not in ("pending", "scheduled", "in_call"):
                return {"id": contact_id, "state": slot.state.value}
            if slot is not None:
                await self._in_runtime(served, runtime.cancel, contact_id, "cancelled via the API")
                served.touch()
                return {"id": contact_id, "state": ContactState.CANCELLED.value}

        def cancel() -> str | None:
            for _, _, progress in store.contacts_by_id(name, [contact_id]):
                if progress.state in (ContactState.PENDING, ContactState.SCHEDULED):
                    if runtime is not None:  # still loading: the core hears it after loading
                        return ContactState.CANCELLED.value
                    progress = attrs.evolve(
                        progress, state=ContactState.CANCELLED, reason="cancelled via the API"
                    )
                    store.save_progress(name, progress)
                return progress.state.value
            return None

        state = await anyio.to_thread.run_sync(cancel)
        if state is None:
            raise NotFound(f"campaign {campaign_id!r} has no contact {contact_id!r}")
        if runtime is not None and state == ContactState.CANCELLED.value:
            await self._in_runtime(served, runtime.cancel, contact_id, "cancelled via the API")
        await self._load_counts(served)
        served.touch()
        return {"id": contact_id, "state": state}

    # --- controls --------------------------------------------------------------------------

    async def start(self, campaign_id: str) -> ServedCampaign:
        """Start calling (a draft, or a stopped / finished / failed campaign again).

        Raises:
            NotFound: no such campaign.
            Conflict: it is running or paused already.
        """
        served = self.get(campaign_id)
        async with self._lock:
            if served.state not in STARTABLE:
                raise Conflict(f"campaign {campaign_id!r} is {served.state}: it cannot be started")
            if served.done is not None:  # the previous run is still hanging up
                await served.done.wait()
            served.state, served.error, served.stopping = "running", None, False
            await self._save(served)
            self._launch(served, paused=False)
        return served

    async def pause(self, campaign_id: str) -> ServedCampaign:
        """Place no new calls (calls in progress carry on).

        Raises:
            NotFound, Conflict: no such campaign; it is not running.
        """
        return await self._toggle(campaign_id, "running", "paused")

    async def resume(self, campaign_id: str) -> ServedCampaign:
        """Place calls again after :meth:`pause`.

        Raises:
            NotFound, Conflict: no such campaign; it is not paused.
        """
        return await self._toggle(campaign_id, "paused", "running")

    async def _toggle(self, campaign_id: str, before: str, after: str) -> ServedCampaign:
        served = self.get(campaign_id)
        if served.state != before:
            verb = "paused" if after == "paused" else "resumed"
            raise Conflict(
                f"campaign {campaign_id!r} is {served.state}: only a {before} one can be {verb}"
            )
        runtime = served.runtime
        if runtime is not None:
            await self._in_runtime(served, runtime.pause if after == "paused" else runtime.resume)
        served.state = after
        await self._save(served)
        return served

    async def stop(self, campaign_id: str, *, hangup: bool = False) -> ServedCampaign:
        """Finish: no new calls; the calls in progress end as they will (at once, their
        outcomes recorded, with ``hangup``). The campaign stays stopped across a restart of
        the server; :attr:`ServedCampaign.done` is set when the last call has ended.

        Raises:
            NotFound, Conflict: no such campaign; it is neither running nor paused.
        """
        served = self.get(campaign_id)
        if served.state not in ACTIVE:
            raise Conflict(f"campaign {campaign_id!r} is {served.state}: it cannot be stopped")
        served.stopping = True
        served.state = "stopped"
        await self._save(served)
        runtime = served.runtime
        if runtime is not None:
            await self._in_runtime(served, functools.partial(runtime.stop, hangup=hangup))
        return served

    # --- records ---------------------------------------------------------------------------

    async def records(self, campaign_id: str, fmt: str) -> bytes:
        """The campaign's call records as CSV (UTF-8 with BOM) or XLSX bytes, written by the
        exporter ``autoinformer export`` uses (no cell is ever taken for a formula)."""
        from autoinformer.stats import write_cdr_csv, write_cdr_xlsx

        served = self.get(campaign_id)
        store, name = self.store, served.name

        def export() -> bytes:
            if fmt == "csv":
                text = io.StringIO(newline="")
                write_cdr_csv(store.attempts(name), text)
                return text.getvalue().encode("utf-8-sig")
            data = io.BytesIO()
            write_cdr_xlsx(store.attempts(name), data)
            return data.getvalue()

        return await anyio.to_thread.run_sync(export)

    # --- running ---------------------------------------------------------------------------

    @staticmethod
    async def _in_runtime(served: ServedCampaign, fn: Callable[..., object], *args: Any) -> None:
        thread = served.thread
        if thread is not None:
            await thread.call(fn, *args)

    def _launch(self, served: ServedCampaign, *, paused: bool) -> None:
        served.done = anyio.Event()
        self._tg.start_soon(self._drive, served, paused)
        served.touch()

    async def _drive(self, served: ServedCampaign, paused: bool) -> None:
        """Run the campaign to its end (or its stop, or a failure)."""
        assert served.done is not None
        done = served.done
        try:
            await self._run(served, paused)
        except AutoinformerError as exc:
            log.error("campaign %s (%s) failed: %s", served.id, served.name, exc)
            served.state, served.error = "failed", str(exc)
        except Exception as exc:  # a bug: this campaign fails, the server carries on
            log.exception("campaign %s (%s) failed", served.id, served.name)
            served.state, served.error = "failed", f"internal error: {type(exc).__name__}: {exc}"
        else:
            served.state = "stopped" if served.stopping else "finished"
        finally:
            served.runtime = served.thread = None
            with anyio.CancelScope(shield=True):
                adding, served.adding = served.adding, []
                if adding:  # ids the runtime stored already are left as they are
                    store, name = self.store, served.name
                    await anyio.to_thread.run_sync(lambda: store.add_contacts(name, adding))
                if served.state in ("stopped", "finished", "failed"):
                    await self._save(served)
                await self._load_counts(served)
            served.done = None
            done.set()
            served.touch()

    async def _run(self, served: ServedCampaign, paused: bool) -> None:
        """Run the campaign in a thread of its own (see :class:`RuntimeThread`); a server that
        stops cancels it (and it stays running in the store, for the next start)."""
        spec = served.definition.spec
        store, name = self.store, served.name
        counters = self._counters(served.definition)
        served.counters = await anyio.to_thread.run_sync(
            lambda: counters.add_all(store.attempts(name))
        )
        dnc = None
        if spec.do_not_call is not None:
            from autoinformer.contacts import DoNotCallList

            path = spec.do_not_call
            region = spec.campaign.region
            dnc = await anyio.to_thread.run_sync(
                lambda: DoNotCallList.from_file(path, region=region, create=True)
            )
        renderer = None
        make_switch: Callable[[], Any]
        if spec.backend == "sim":
            from autoinformer.backends.sim import SimSwitch

            model = _assembly.sim_model(spec)
            speed = served.definition.speed
            clock: Any = await anyio.to_thread.run_sync(
                lambda: _assembly.resumed_clock(store, name, speed)
            )

            def make_switch() -> Any:
                return SimSwitch(model=model, clock=clock)
        else:
            from autoinformer.clock import WallClock
            from autoinformer.preflight import check_backend

            clock = WallClock()
            speech_dir = spec.speech.cache or self.files / "speech-cache"
            await anyio.to_thread.run_sync(
                lambda: check_backend(
                    spec.campaign, spec.backend, spec.backend_settings, speech_dir=speech_dir
                )
            )
            make_switch = _assembly.real_switch(spec)
            renderer = _assembly.speech_renderer(spec, self.files)
        server = anyio.lowlevel.current_token()
        cancelled = threading.Event()

        async def in_thread() -> None:
            async with make_switch() as switch:
                runtime = Runtime(
                    campaign=spec.campaign,
                    switch=switch,
                    store=store,
                    clock=clock,
                    dnc=dnc,
                    pacing=spec.pacing(),
                    hooks=dict(served.definition.hooks),
                    renderer=renderer,
                    start_paused=paused,
                )

                async def record(result: AttemptRecord) -> None:
                    await anyio.to_thread.run_sync(_to_loop, server, served.record, result)

                runtime.on_result(record)
                with anyio.CancelScope() as scope:
                    token = anyio.lowlevel.current_token()
                    served.thread = RuntimeThread(runtime=runtime, token=token, scope=scope)
                    served.runtime = runtime
                    await anyio.to_thread.run_sync(_to_loop, server, served.touch)
                    if not cancelled.is_set():
                        await runtime.run()

        backend = sniffio.current_async_library()
        finished = anyio.Event()
        errors: list[BaseException] = []

        def run_in_thread() -> None:
            try:
                anyio.run(in_thread, backend=backend)
            except BaseException as exc:  # handed to the server's loop, raised there
                errors.append(exc)
            finally:
                _to_loop(server, finished.set)

        threading.Thread(target=run_in_thread, name=f"campaign {served.id}", daemon=True).start()
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._count_while_running, served, finished)
                await finished.wait()
                tg.cancel_scope.cancel()
        except anyio.get_cancelled_exc_class():  # the server is stopping: end the runtime too
            cancelled.set()
            with anyio.CancelScope(shield=True):
                thread = served.thread
                if thread is not None:
                    await thread.call(thread.scope.cancel)
                with anyio.move_on_after(STOP_SECONDS):
                    await finished.wait()
            raise
        if errors:
            raise errors[0]

    # --- the store -------------------------------------------------------------------------

    def _counters(self, definition: Definition) -> LiveCounters:
        return LiveCounters(timezone=definition.spec.campaign.timezone or "UTC")

    async def _count_while_running(self, served: ServedCampaign, finished: anyio.Event) -> None:
        """Contacts per state from the store every ``STATUS_MAX_AGE`` while the campaign runs
        (its core holds only the contacts it pages in)."""
        while not finished.is_set():
            await self._load_counts(served, figures_only=True)
            with anyio.move_on_after(STATUS_MAX_AGE):
                await finished.wait()

    async def _load_counts(self, served: ServedCampaign, *, figures_only: bool = False) -> None:
        """Contacts per state from the store (for a campaign that is not running)."""
        store, name = self.store, served.name

        def count() -> dict[str, int]:
            counts = store.state_counts(name)
            return {state.value: counts.get(state, 0) for state in ContactState}

        counts = await anyio.to_thread.run_sync(count)
        if counts != served._contacts:
            served._contacts = counts
            served.touch(figures_only=figures_only)

    async def _save(self, served: ServedCampaign, *, register: bool = False) -> None:
        store, entry, key = self.store, served.registry_entry(), f"campaign:{served.id}"
        ids = list(self._campaigns)

        def save() -> None:
            store.set_meta(REGISTRY, key, entry)
            if register:
                store.set_meta(REGISTRY, "campaigns", json.dumps(ids))

        await anyio.to_thread.run_sync(save)
        served.touch()

    async def _restore(self) -> None:
        """Read the campaigns back from the store and resume the running and paused ones."""
        store = self.store

        def read() -> list[dict[str, Any]]:
            ids = json.loads(store.get_meta(REGISTRY, "campaigns") or "[]")
            entries = []
            for campaign_id in ids:
                text = store.get_meta(REGISTRY, f"campaign:{campaign_id}")
                if text is not None:
                    entries.append(json.loads(text))
            return entries

        for entry in await anyio.to_thread.run_sync(read):
            try:
                definition = parse_definition(entry["text"], entry["media_type"], base=self.base)
            except InputError as exc:  # a recording deleted since, a hook uninstalled...
                log.error("campaign %s cannot be restored: %s", entry["id"], exc)
                definition = None
            if definition is None:
                continue
            served = ServedCampaign(
                id=entry["id"],
                definition=definition,
                state=entry["state"],
                created=entry["created"],
                uploads=entry["uploads"],
                error=entry.get("error"),
                counters=self._counters(definition),
            )
            records = await anyio.to_thread.run_sync(_attempts, store, served.name)
            served.counters.add_all(records)
            await self._load_counts(served)
            self._campaigns[served.id] = served
            if served.state in ACTIVE:
                self._launch(served, paused=served.state == "paused")
