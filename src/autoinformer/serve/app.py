"""The HTTP face of a :class:`~autoinformer.serve.manager.CampaignManager`: a Litestar app.

Routes (their names, JSON keys and flags are a public contract, see ``docs/serve.md``)::

    GET  /                                     the dashboard
    GET  /openapi.json, /docs                  the schema, interactive docs
    POST /api/campaigns                        TOML (application/toml) or JSON -> 201 status
    GET  /api/campaigns, /api/campaigns/{id}   status JSON
    POST /api/campaigns/{id}/contacts          CSV / XLSX / pasted TSV -> contacts check report
    DELETE /api/campaigns/{id}/contacts/{cid}  cancel one contact ("paid")
    POST /api/campaigns/{id}/start|pause|resume|stop
    GET  /api/campaigns/{id}/events            server-sent events (status as it changes)
    GET  /api/campaigns/{id}/records.csv|.xlsx the call records
    GET  /api/campaigns/{id}/template.xlsx     an empty list to fill in (the script's columns)

With a token, every ``/api`` route answers 401 unless the request carries it (``Authorization:
Bearer TOKEN``, or the dashboard's ``autoinformer_token`` cookie). Every error is JSON
``{"error": ..., "field": ...}``: ``field`` is the campaign file's dotted key when a key is
wrong (as the CLI prints it), else null. A body larger than the limit is refused (413) before
it is read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import attrs
from litestar import Litestar, Request, Response, Router, delete, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.handlers import BaseRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    Operation,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import FromPath, FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.static_files import create_static_files_router

from autoinformer._version import __version__
from autoinformer.errors import AutoinformerError, InputError, SettingsError
from autoinformer.serve._definition import JSON, TOML
from autoinformer.serve._uploads import FORMATS, XLSX, ListOptions
from autoinformer.serve.manager import CampaignManager, Conflict, NotFound, ServedCampaign

__all__ = ["COOKIE", "DEFAULT_MAX_UPLOAD", "ServeSettings", "create_app"]

log = logging.getLogger("autoinformer.serve")

COOKIE = "autoinformer_token"
"""The cookie the dashboard keeps the token in (an ``EventSource`` cannot send a header)."""
DEFAULT_MAX_UPLOAD = 50 * 1024 * 1024
STATIC = Path(__file__).parent / "static"
KEEPALIVE_SECONDS = 15.0
"""An event stream with nothing new sends a comment this often (proxies close idle ones)."""
REFRESH_SECONDS = 1.0
"""A running campaign's stream looks again this often (lines in use change between results)."""
THROTTLE_SECONDS = 0.25
"""An event stream sends at most one status this often, however fast results come."""


@attrs.frozen(kw_only=True)
class ServeSettings:
    """What ``autoinformer serve`` is given.

    Attributes:
        store: the SQLite store file (created if missing), or a ``postgresql://`` URL
            without a password (libpq takes it from ``PGPASSWORD`` or ``~/.pgpass``).
        token: the bearer token every ``/api`` request must carry (None: no authentication;
            the CLI then serves loopback only).
        max_upload: the largest request body accepted, in bytes.
    """

    store: Path | str
    token: str | None = None
    max_upload: int = DEFAULT_MAX_UPLOAD


# --- errors ---------------------------------------------------------------------------------


def _error(status: int, message: str, field: str | None = None) -> Response[dict[str, Any]]:
    return Response({"error": message, "field": field}, status_code=status)


def _on_ours(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if isinstance(exc, NotFound):
        return _error(404, str(exc))
    if isinstance(exc, Conflict):
        return _error(409, str(exc), exc.field)
    if isinstance(exc, SettingsError):
        return _error(422, str(exc), exc.field)
    if isinstance(exc, InputError):
        return _error(400, str(exc))
    log.error("request failed: %s", exc)
    return _error(500, str(exc))


def _on_http(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    assert isinstance(exc, HTTPException)
    field = None
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        first = exc.extra[0]
        if isinstance(first, dict):
            field = first.get("key")
            message = f"{field}: {first.get('message', exc.detail)}" if field else exc.detail
            return _error(exc.status_code, message, field)
    return _error(exc.status_code, exc.detail)


def _on_other(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("request failed", exc_info=exc)
    return _error(500, f"internal error: {type(exc).__name__}")


# --- auth -----------------------------------------------------------------------------------


def _token_guard(token: str) -> Any:
    expected = token.encode()

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        given = ""
        header = connection.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            given = header[7:].strip()
        elif COOKIE in connection.cookies:
            given = connection.cookies[COOKIE]
        if not secrets.compare_digest(given.encode(), expected):
            raise NotAuthorizedException(
                "a bearer token is required (Authorization: Bearer TOKEN)"
                if not given
                else "the token is wrong"
            )

    return guard


# --- the OpenAPI description of raw bodies --------------------------------------------------


def _body(*media_types: str, description: str) -> type[Operation]:
    """An Operation class whose request body is raw text or bytes of these media types
    (Litestar documents typed bodies; ours are files, read as they are)."""
    binary = Schema(type=OpenAPIType.STRING, format="binary")  # type: ignore[arg-type]
    text = Schema(type=OpenAPIType.STRING)
    content = {
        mt: OpenAPIMediaType(schema=binary if mt in (XLSX, "application/octet-stream") else text)
        for mt in media_types
    }
    if JSON in content:
        content[JSON] = OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT))

    @dataclasses.dataclass
    class _WithBody(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(content=content, description=description, required=True)

    return _WithBody


# --- routes ---------------------------------------------------------------------------------


def _manager(request: Request[Any, Any, Any]) -> CampaignManager:
    manager: CampaignManager = request.app.state.manager
    return manager


@get("/campaigns", summary="every campaign's status")
async def list_campaigns(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [served.status() for served in _manager(request).campaigns()]


@post(
    "/campaigns",
    summary="create a campaign from its file (TOML) or the same as JSON",
    operation_class=_body(TOML, JSON, description="the campaign file"),
)
async def create_campaign(request: Request[Any, Any, Any]) -> dict[str, Any]:
    body = await request.body()
    served = await _manager(request).create(body, request.headers.get("content-type", ""))
    return served.status()


@get("/campaigns/{campaign_id:str}", summary="a campaign's status")
async def campaign_status(
    request: Request[Any, Any, Any], campaign_id: FromPath[str]
) -> dict[str, Any]:
    return _manager(request).get(campaign_id).status()


@post(
    "/campaigns/{campaign_id:str}/contacts",
    status_code=200,
    summary="upload a contact list: the contacts check --json report; valid rows are added",
    operation_class=_body(*FORMATS, description="the list: CSV, XLSX or pasted TSV"),
)
async def upload_contacts(
    request: Request[Any, Any, Any],
    campaign_id: FromPath[str],
    phone_column: FromQuery[list[str] | None] = None,
    name_column: FromQuery[str | None] = None,
    id_column: FromQuery[str | None] = None,
    sheet: FromQuery[str | None] = None,
    encoding: FromQuery[str | None] = None,
    no_header: FromQuery[bool] = False,
) -> dict[str, Any]:
    manager = _manager(request)
    manager.get(campaign_id)  # 404 before the body is read
    options = ListOptions(
        phone_column=tuple(phone_column or ()),
        name_column=name_column,
        id_column=id_column,
        sheet=sheet,
        encoding=encoding,
        header=False if no_header else None,
    )
    body = await request.body()
    media_type = request.headers.get("content-type", "")
    return await manager.upload(campaign_id, body, media_type, options)


@delete(
    "/campaigns/{campaign_id:str}/contacts/{contact_id:str}",
    status_code=200,
    summary="cancel one contact: no further call (the debt was paid)",
)
async def cancel_contact(
    request: Request[Any, Any, Any], campaign_id: FromPath[str], contact_id: FromPath[str]
) -> dict[str, Any]:
    return await _manager(request).cancel_contact(campaign_id, contact_id)


def _control(action: str) -> Any:
    @post(
        f"/campaigns/{{campaign_id:str}}/{action}",
        status_code=200,
        summary=f"{action} the campaign",
        name=f"campaign-{action}",
        operation_id=f"campaign_{action}",
    )
    async def handler(
        request: Request[Any, Any, Any], campaign_id: FromPath[str]
    ) -> dict[str, Any]:
        served: ServedCampaign = await getattr(_manager(request), action)(campaign_id)
        return served.status()

    return handler


@post(
    "/campaigns/{campaign_id:str}/stop",
    status_code=200,
    summary="stop the campaign: no new calls (hangup=true: end the calls in progress now)",
    name="campaign-stop",
    operation_id="campaign_stop",
)
async def stop_campaign(
    request: Request[Any, Any, Any], campaign_id: FromPath[str], hangup: FromQuery[bool] = False
) -> dict[str, Any]:
    served = await _manager(request).stop(campaign_id, hangup=hangup)
    return served.status()


@get("/campaigns/{campaign_id:str}/events", summary="the status as server-sent events")
async def campaign_events(
    request: Request[Any, Any, Any], campaign_id: FromPath[str]
) -> ServerSentEvent:
    served = _manager(request).get(campaign_id)
    return ServerSentEvent(_events(served), headers={"Cache-Control": "no-store"})


async def _events(served: ServedCampaign) -> AsyncIterator[ServerSentEventMessage]:
    """``status`` events while the campaign is a draft, running or paused; then a last
    ``status`` and ``end`` once it is stopped, finished or failed and its last call ended."""
    last = ""
    sent = anyio.current_time()
    while True:
        status = served.status()
        encoded = served.status_json()
        if encoded != last:
            last = encoded
            sent = anyio.current_time()
            yield ServerSentEventMessage(event="status", data=encoded)
        if status["state"] not in ("draft", "running", "paused") and not status["ending"]:
            yield ServerSentEventMessage(event="end", data=json.dumps({"state": status["state"]}))
            return
        changed = served.changed
        await anyio.sleep(THROTTLE_SECONDS)
        wait = REFRESH_SECONDS if served.runtime is not None else KEEPALIVE_SECONDS
        with anyio.move_on_after(wait):
            await changed.wait()
        # nothing sent for a while (a draft; a paused campaign; a running one waiting for its
        # calling hours): a comment, or a proxy or client takes the stream for dead
        if anyio.current_time() - sent >= KEEPALIVE_SECONDS:
            sent = anyio.current_time()
            yield ServerSentEventMessage(comment="keepalive")


def _records(fmt: str, media_type: str) -> Any:
    @get(
        f"/campaigns/{{campaign_id:str}}/records.{fmt}",
        summary=f"the call records as {fmt.upper()} (safe to open in a spreadsheet)",
        media_type=media_type,
        name=f"records-{fmt}",
        operation_id=f"campaign_records_{fmt}",
    )
    async def handler(
        request: Request[Any, Any, Any], campaign_id: FromPath[str]
    ) -> Response[bytes]:
        manager = _manager(request)
        data = await manager.records(campaign_id, fmt)
        name = manager.get(campaign_id).name
        return Response(
            data, media_type=media_type, headers={"Content-Disposition": _attachment(name, fmt)}
        )

    return handler


@get(
    "/campaigns/{campaign_id:str}/template.xlsx",
    summary="an empty XLSX list with the columns the campaign's script uses",
    media_type=XLSX,
)
async def list_template(
    request: Request[Any, Any, Any], campaign_id: FromPath[str]
) -> Response[bytes]:
    import tempfile

    from autoinformer.contacts.template import write_template

    served = _manager(request).get(campaign_id)
    variables = served.status()["variables"]
    region = served.definition.spec.campaign.region

    def write() -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            path = write_template(Path(tmp) / "list.xlsx", variables=variables, region=region)
            return path.read_bytes()

    data = await anyio.to_thread.run_sync(write)
    disposition = _attachment(f"{served.name} list", "xlsx")
    return Response(data, media_type=XLSX, headers={"Content-Disposition": disposition})


def _attachment(name: str, suffix: str) -> str:
    from urllib.parse import quote

    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name) or "campaign"
    return f"attachment; filename=\"{safe}.{suffix}\"; filename*=UTF-8''{quote(name)}.{suffix}"


@get("/openapi.json", include_in_schema=False)
async def openapi_json(request: Request[Any, Any, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi_schema.to_schema()
    return schema


@get("/", include_in_schema=False, media_type="text/html")
async def dashboard() -> Response[bytes]:
    page = await anyio.Path(STATIC / "index.html").read_bytes()
    return Response(page, media_type="text/html", headers={"Cache-Control": "no-store"})


API_HANDLERS: Sequence[Any] = (
    list_campaigns,
    create_campaign,
    campaign_status,
    upload_contacts,
    cancel_contact,
    *(_control(action) for action in ("start", "pause", "resume")),
    stop_campaign,
    campaign_events,
    _records("csv", "text/csv; charset=utf-8"),
    _records("xlsx", XLSX),
    list_template,
)


def _swagger() -> tuple[SwaggerRenderPlugin, list[Any]]:
    """The interactive docs at ``/docs``: Swagger UI from the ``swagger-ui-bundle-v2`` package
    (part of the serve extra) when it is installed, so they work offline; else from a CDN."""
    try:
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return SwaggerRenderPlugin(path="/"), []
    base = "/docs/assets"
    plugin = SwaggerRenderPlugin(
        path="/",
        js_url=f"{base}/swagger-ui-bundle.js",
        css_url=f"{base}/swagger-ui.css",
        standalone_preset_js_url=f"{base}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{base}/favicon-32x32.png'>",
    )
    router = create_static_files_router(
        base, directories=[Path(swagger_ui_path)], include_in_schema=False
    )
    return plugin, [router]


def create_app(settings: ServeSettings, manager: CampaignManager | None = None) -> Litestar:
    """The ASGI app.

    Args:
        settings: the store, the token and the body size limit.
        manager: the campaigns to serve, already open (tests); None: the app opens one on
            ``settings.store`` for its lifetime (``uvicorn``).
    """
    guards = [_token_guard(settings.token)] if settings.token else []
    api = Router("/api", route_handlers=list(API_HANDLERS), guards=guards)
    lifespan = []
    if manager is None:

        @contextlib.asynccontextmanager
        async def serving(app: Litestar) -> AsyncIterator[None]:
            async with CampaignManager.open(settings.store) as opened:
                app.state.manager = opened
                yield

        lifespan.append(serving)
    swagger, assets = _swagger()
    app = Litestar(
        route_handlers=[
            api,
            openapi_json,
            dashboard,
            create_static_files_router("/static", directories=[STATIC], include_in_schema=False),
            *assets,
        ],
        lifespan=lifespan,
        request_max_body_size=settings.max_upload,
        exception_handlers={
            AutoinformerError: _on_ours,
            HTTPException: _on_http,
            Exception: _on_other,
        },
        openapi_config=OpenAPIConfig(
            title="autoinformer",
            version=__version__,
            path="/docs",
            render_plugins=[swagger],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer"),
                }
            ),
            security=[{"bearer": []}] if settings.token else None,
        ),
        logging_config=None,
    )
    if manager is not None:
        app.state.manager = manager
    return app
