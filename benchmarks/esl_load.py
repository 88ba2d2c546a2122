"""EslSwitch under load: 1,000 concurrent calls set up at 200 per second from one process.

The fake ESL server runs in a separate process (``python -m autoinformer.testing.fake_esl``,
real time: callees ring 1 s, answer and stay until we hang up), so the event loop measured here
is only the client's: ``bgapi`` commands and their replies, the event stream (CHANNEL_CREATE,
CHANNEL_PROGRESS, CHANNEL_ANSWER, BACKGROUND_JOB, CHANNEL_HANGUP_COMPLETE... for every call),
parsing and routing.

Measured per run: the set-up rate achieved, peak concurrent answered calls, the originate
round trip (``bgapi`` reply; p50/p99), time from originate to CallAnswered (p50/p99), and
event-loop lag (how late a 5 ms sleep wakes up; p50/p99/max) through the whole run. The table
gives the median of the runs for each event loop. ``_loadgen.py`` measures (as for
``ari_load.py``); ``python benchmarks/esl_load.py --help`` lists the options (1,000 calls at
200/s, 3 runs by default; ``--results-dir`` elsewhere for a trial). It writes
``benchmarks/results/esl_load.json`` and ``esl_load.png`` (loop lag and calls up, asyncio).
"""

from __future__ import annotations

import sys
from typing import Any

import _loadgen

from autoinformer.backends.esl import EslSwitch


async def one_run(port: str, tag: str, calls: int, rate: float) -> dict[str, Any]:
    switch = EslSwitch(
        port=int(port), password=_loadgen.PASSWORD, dial="sofia/gateway/gw1/{digits}"
    )
    return await _loadgen.drive(
        switch,
        calls=calls,
        rate=rate,
        tag=tag,
        extra=lambda switch: {"dropped_events": switch.dropped_events},
    )


def main(argv: list[str] | None = None) -> int:
    options = _loadgen.parser(__doc__.splitlines()[0]).parse_args(argv)
    return _loadgen.main(
        "esl_load",
        "EslSwitch",
        "fake ESL server",
        options,
        lambda: _loadgen.start_server(
            "autoinformer.testing.fake_esl",
            ["--port", "0", "--speed", "1", "--password", _loadgen.PASSWORD],
            "fake ESL on ",
            lambda rest: rest.strip().rsplit(":", 1)[1],  # the port of HOST:PORT
        ),
        lambda port, tag: one_run(port, tag, options.calls, options.rate),
    )


if __name__ == "__main__":
    sys.exit(main())
