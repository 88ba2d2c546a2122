"""``autoinformer serve``: a REST API and a web dashboard over the async runtime.

An optional extra (``pip install 'autoinformer[serve]'``: Litestar and uvicorn). The app is
:func:`create_app`; the campaigns it serves, kept in one store (a SQLite file or a PostgreSQL
database), are a :class:`CampaignManager`. See ``docs/serve.md``.
"""

from __future__ import annotations

from autoinformer.serve.app import ServeSettings, create_app
from autoinformer.serve.manager import CampaignManager, Conflict, NotFound, ServedCampaign

__all__ = [
    "CampaignManager",
    "Conflict",
    "NotFound",
    "ServeSettings",
    "ServedCampaign",
    "create_app",
]
