"""The Asterisk backend: ARI over HTTP (httpx) and the event WebSocket (httpx-ws, anyio).

``AriSwitch.from_settings({"url": ..., "username": ..., "password_env": ..., "app": ...,
"endpoint": "PJSIP/{digits}@trunk"})`` is what ``[backend] kind = "ari"`` builds. See
``docs/backends/asterisk.md`` for the Asterisk side (http.conf, ari.conf, dialplan).
"""

from autoinformer.backends.ari.settings import AriSettings, render_endpoint
from autoinformer.backends.ari.switch import AriSwitch

__all__ = ["AriSettings", "AriSwitch", "render_endpoint"]
