"""Campaign statistics and call detail records.

- :class:`CampaignStats`: counts per outcome and per hour, answer / delivery / transfer /
  abandon rates, digits pressed, minutes talked and cost, from call records (pure).
- :func:`write_cdr_csv` / :func:`write_cdr_xlsx`: one row per attempt, safe to open in a
  spreadsheet (no cell is ever executed as a formula).

See ``docs/statistics.md``.
"""

from autoinformer.stats.cdr import (
    CDR_COLUMNS,
    ExportError,
    cdr_rows,
    csv_safe,
    iso_utc,
    write_cdr_csv,
    write_cdr_xlsx,
)
from autoinformer.stats.counters import CampaignStats, billed_seconds

__all__ = [
    "CDR_COLUMNS",
    "CampaignStats",
    "ExportError",
    "billed_seconds",
    "cdr_rows",
    "csv_safe",
    "iso_utc",
    "write_cdr_csv",
    "write_cdr_xlsx",
]
