"""AriSwitch under load: 1,000 concurrent calls set up at 200 per second from one process.

The fake ARI server runs in a separate process (``python -m autoinformer.testing.fake_ari``,
real time: callees ring 1 s, answer and stay until we hang up; its per-event check against
events.json is off to leave the CPU to the client), so the event loop measured here is only the
client's: REST requests, the event WebSocket, decoding and the call tracker.

Measured per run: the set-up rate actually achieved, peak concurrent answered calls, the
originate round trip (p50/p99), time from originate to CallAnswered (p50/p99), and event-loop
lag (how late a 5 ms sleep wakes up; p50/p99/max) sampled through the whole run. The table
gives the median of the runs for each event loop.

Rerun: ``python benchmarks/ari_load.py`` (defaults ``--calls 1000 --rate 200 --runs 3``;
``--results-dir /tmp/x`` keeps a trial run out of ``benchmarks/results``), which writes
``ari_load.json`` and ``ari_load.png`` (loop lag and calls up over one asyncio run) there.
How it measures: ``_loadgen.py`` (the same harness as ``esl_load.py``).
"""

from __future__ import annotations

import sys
from typing import Any

import _loadgen

from autoinformer.backends.ari import AriSettings, AriSwitch

FAKE_OPTIONS = ["--port", "0", "--time-scale", "1", "--no-event-check"]
"""Real time; events unchecked (the fake's CPU is not what is measured)."""


async def one_run(url: str, tag: str, calls: int, rate: float, connections: int) -> dict[str, Any]:
    settings = AriSettings(
        url=url,
        username="autoinformer",
        password=_loadgen.PASSWORD,
        endpoint="PJSIP/{digits}@trunk",
        max_connections=connections,
    )
    return await _loadgen.drive(
        AriSwitch(settings=settings),
        calls=calls,
        rate=rate,
        tag=tag,
        diagnose=lambda switch: f"; gaps: {switch.gaps}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = _loadgen.parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--max-connections", type=int, default=AriSettings.__attrs_attrs__.max_connections.default
    )
    options = parser.parse_args(argv)
    return _loadgen.main(
        "ari_load",
        "AriSwitch",
        "fake ARI server",
        options,
        lambda: _loadgen.start_server(
            "autoinformer.testing.fake_ari",
            [*FAKE_OPTIONS, "--password", _loadgen.PASSWORD],
            "fake ARI on ",
            lambda rest: rest.split()[0],  # the URL, before "(user ...)"
        ),
        lambda url, tag: one_run(url, tag, options.calls, options.rate, options.max_connections),
        settings={"max_connections": options.max_connections},
    )


if __name__ == "__main__":
    sys.exit(main())
