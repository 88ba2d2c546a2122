"""gTTS: Google Translate's text-to-speech service (online, natural, free, rate limited).

The request and the MP3 decoding are gTTS's own (``gTTS.write_to_fp``), run in a worker
thread because gTTS uses blocking ``requests``. Nothing here works without network access, so
tests fake the HTTP layer (a ``requests`` transport adapter speaking the service's wire
format) while this code path stays exactly the real one.
"""

from __future__ import annotations

import io
from typing import ClassVar

import anyio
import anyio.to_thread
import attrs

from autoinformer.speech.engines.base import Engine
from autoinformer.speech.errors import EngineError

__all__ = ["GttsEngine", "gtts_lang"]

# gTTS language codes that differ from the plain base language.
_GTTS_LANGS = {"zh": "zh-CN", "zh_cn": "zh-CN", "zh_tw": "zh-TW", "pt_br": "pt", "en_us": "en"}


def gtts_lang(lang: str) -> str:
    """gTTS's code for a language (``"pt_BR"`` -> ``"pt"``, ``"zh"`` -> ``"zh-CN"``)."""
    code = lang.strip().replace("-", "_").lower()
    return _GTTS_LANGS.get(code, code.split("_")[0])


@attrs.define(kw_only=True)
class GttsEngine(Engine):
    """The gTTS engine.

    Attributes:
        tld: Google domain to use (``com``, ``co.uk``, ``com.au``: accents for English).
        slow: read slowly.
        timeout: seconds for each HTTP request.
    """

    name: ClassVar[str] = "gtts"

    tld: str = "com"
    slow: bool = False
    timeout: float = 15.0

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

        def run() -> bytes:
            buf = io.BytesIO()
            tts = gTTS(text, lang=code, tld=self.tld, slow=self.slow, timeout=self.timeout)
            tts.write_to_fp(buf)
            return buf.getvalue()

        try:
            data: bytes = await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except gTTSError as exc:
            raise EngineError(f"gTTS failed: {exc}") from None
        except (ValueError, AssertionError) as exc:  # unknown language, empty text
            raise EngineError(f"gTTS refused {code!r}: {exc}") from None
        if not data:
            raise EngineError("gTTS returned no audio")
        return data
