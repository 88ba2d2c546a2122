"""The predictive policy as it was when issue #18 was filed (commit ``5f6004e^``), vendored so
that ``worst_hour.py`` measures "before" from any checkout: ``predictive.py`` is that commit's
``src/autoinformer/pacing/predictive.py`` unchanged. It imports the library's estimators,
``_checks`` and ``_raw`` as they are now; the estimators and ``_checks`` are unchanged since
that commit, and ``_raw`` only gained functions (``as_raw``, ``calls_to_release``, which the old
class defines itself).
"""
