"""Helpers for testing applications built on autoinformer (and autoinformer itself).

- :mod:`autoinformer.testing.parties`: the called-party convention shared by every fake switch
  (the last digit of a test number chooses how the callee behaves).
- Fake servers that speak the real wire protocols on 127.0.0.1 (ARI, ESL) and a conformance
  suite every :class:`~autoinformer.backends.base.Switch` passes live in sibling modules.
- :mod:`autoinformer.testing.virtual_time` (and its pytest fixture in ``virtual_fixture``):
  run a test on asyncio or trio in virtual time, fakes and wire included, so timers cost no
  real time and a busy machine cannot change an outcome.
- :mod:`autoinformer.testing.postgres` (and its pytest fixture in ``postgres_fixture``): a
  throwaway PostgreSQL cluster for the PostgreSQL store's tests.
"""

from autoinformer.testing.parties import PARTIES, Party, party_for

__all__ = ["PARTIES", "Party", "party_for"]
