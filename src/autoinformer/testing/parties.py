"""Called parties for tests: the last digit of the dialled number chooses the behaviour.

The convention itself lives in :mod:`autoinformer.sim.parties` (the simulator's
:class:`~autoinformer.sim.model.PartiesModel` follows it too, and the simulator does not
import the testing helpers); this module hands it on under its usual name.
"""

from autoinformer.sim.parties import OPERATOR_TALK_SECONDS, PARTIES, Party, party_for

__all__ = ["OPERATOR_TALK_SECONDS", "PARTIES", "Party", "party_for"]
