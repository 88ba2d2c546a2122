"""gTTS: Google Translate's text-to-speech service (online, natural, free, rate limited).

The request and the MP3 decoding are gTTS's own (``gTTS.write_to_fp``), run in a worker
thread because gTTS uses blocking ``requests``. Nothing here works without network access, so
tests fake the HTTP layer (a ``requests`` transport adapter speaking the service's wire
format) while this code path stays exactly the real one.

Without a network gTTS says only "Failed to connect. Probable cause: Unknown"; the cause is in
the exception chain (``requests`` -> ``urllib3``), so the error here names it: the host could
not be resolved, the connection was refused, or it timed out. Connecting is bounded by
``connect_timeout`` (3 s) and the whole synthesis by ``timeout``, so an unreachable service
fails in seconds, after which the renderer's circuit breaker skips the engine for a while.
"""

from __future__ import annotations

import io
import re
import socket
from typing import ClassVar

import anyio
import anyio.to_thread
import attrs

from autoinformer.speech.engines.base import Engine
from autoinformer.speech.errors import EngineError

__all__ = ["GttsEngine", "gtts_lang", "network_cause"]

# gTTS language codes that differ from the plain base language.
_GTTS_LANGS = {"zh": "zh-CN", "zh_cn": "zh-CN", "zh_tw": "zh-TW", "pt_br": "pt", "en_us": "en"}


def gtts_lang(lang: str) -> str:
    """gTTS's code for a language (``"pt_BR"`` -> ``"pt"``, ``"zh"`` -> ``"zh-CN"``)."""
    code = lang.strip().replace("-", "_").lower()
    return _GTTS_LANGS.get(code, code.split("_")[0])


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, its causes and contexts, and urllib3's ``reason`` (depth-first)."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        todo.extend(a for a in current.args if isinstance(a, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    return seen


def network_cause(exc: BaseException) -> str | None:
    """What went wrong on the network under an HTTP library's exception, in words, or None
    when it was not the network (an HTTP error status, a malformed answer)."""
    import requests
    import urllib3.exceptions

    chain = _chain(exc)
    for error in chain:
        if isinstance(error, urllib3.exceptions.NameResolutionError | socket.gaierror):
            gai = next((e for e in chain if isinstance(e, socket.gaierror)), None)
            if gai is not None:
                detail = str(gai)
            else:  # urllib3 puts the resolver's words at the end of its message
                found = re.search(r"\((\[Errno [^)]*)\)\s*$", str(error))
                detail = found.group(1) if found else str(error)
            return f"the host name could not be resolved (no DNS or no network: {detail})"
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "the connection was refused"
    for error in chain:
        if isinstance(error, urllib3.exceptions.NewConnectionError):  # a ConnectTimeoutError
            return f"connection failed ({error})"  # subclass in urllib3 2, but not a timeout
        if isinstance(
            error, requests.exceptions.ConnectTimeout | urllib3.exceptions.ConnectTimeoutError
        ):
            return "connecting timed out (no route to the service, or a firewall drops it)"
        if isinstance(error, requests.exceptions.ReadTimeout | urllib3.exceptions.ReadTimeoutError):
            return "the service stopped answering (read timed out)"
        if isinstance(error, requests.exceptions.ProxyError):
            return f"the proxy failed ({error})"
        if isinstance(error, requests.exceptions.SSLError):
            return f"the TLS handshake failed ({error})"
    for error in chain:
        if isinstance(error, requests.exceptions.ConnectionError | OSError):
            return f"connection failed ({error})"
    return None


@attrs.define(kw_only=True)
class GttsEngine(Engine):
    """The gTTS engine.

    Attributes:
        tld: Google domain to use (``com``, ``co.uk``, ``com.au``: accents for English).
        slow: read slowly.
        timeout: seconds one synthesis may take (every request of it included).
        connect_timeout: seconds to connect to the service.
    """

    name: ClassVar[str] = "gtts"

    tld: str = "com"
    slow: bool = False
    timeout: float = 15.0
    connect_timeout: float = 3.0

    @property
    def host(self) -> str:
        """The service's host name (``translate.google.com``)."""
        return f"translate.google.{self.tld}"

    def cache_id(self, lang: str) -> str:
        """The domain (accent) and speed change the sound."""
        return f"gtts/{self.tld}/{'slow' if self.slow else 'normal'}"

    async def synthesize(self, text: str, *, lang: str, ssml: bool = False) -> bytes:
        """Ask the service for an MP3 of ``text``.

        Raises:
            EngineError: SSML was asked for, the language is unknown to gTTS, or the service
                failed or could not be reached.
        """
        if ssml:
            raise EngineError("gTTS does not take SSML; render plain text for it")
        from gtts import gTTS, gTTSError

        code = gtts_lang(lang)

        timeouts = (self.connect_timeout, self.timeout)  # requests: (connect, read)

        def run() -> bytes:
            buf = io.BytesIO()
            tts = gTTS(text, lang=code, tld=self.tld, slow=self.slow, timeout=timeouts)
            tts.write_to_fp(buf)
            return buf.getvalue()

        try:
            with anyio.fail_after(self.timeout):
                data: bytes = await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except TimeoutError:
            raise EngineError(
                f"gTTS failed: no answer from {self.host} within {self.timeout:g} s"
            ) from None
        except gTTSError as exc:
            cause = network_cause(exc)
            if cause is not None:
                raise EngineError(f"gTTS failed: cannot reach {self.host}: {cause}") from None
            raise EngineError(f"gTTS failed: {exc}") from None
        except (ValueError, AssertionError) as exc:  # unknown language, empty text
            raise EngineError(f"gTTS refused {code!r}: {exc}") from None
        if not data:
            raise EngineError("gTTS returned no audio")
        return data
