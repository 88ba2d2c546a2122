"""ESL framing parser throughput: ours against greenswitch's, on identical bytes, in one run.

The bytes are what the client received in the captured FreeSWITCH 1.11 transcript
(``shared/reference/samples/freeswitch-1.11.1-esl-transcript.txt``: auth, replies, API
responses, 79 plain events and one JSON event), repeated to about 100 MB and fed in 64 KiB
reads, as a socket delivers them.

Rows:

- ``autoinformer (route)``: :class:`EslParser` framing every message, turning every event into
  an :class:`EslEvent` and reading what the switch's router reads (``Event-Name``,
  ``Unique-ID``, the body) -- the work the backend really does per event;
- ``autoinformer (all headers)``: every header of every event decoded (``EslEvent.headers``),
  which is what greenswitch always does;
- ``greenswitch``: ``greenswitch.esl.ESLProtocol.receive_events`` reading the same bytes from
  an in-memory socket file (its JSON-event failure is caught so it can finish the stream; it
  also mis-parses encoded newlines and BACKGROUND_JOB bodies, see tests/backends/test_esl_parser).

Median of ``--runs`` runs. Rerun: ``python benchmarks/esl_parse.py [--mb 100] [--runs 3]``;
writes ``benchmarks/results/esl_parse.json`` and ``esl_parse.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import platform
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autoinformer.backends.esl.parser import EslParser

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TRANSCRIPT = (
    HERE.parent / "tests" / "backends" / "recordings" / "esl_freeswitch-1.11.1-transcript.txt"
)
CHUNK = 65536


def received_bytes() -> bytes:
    """The bytes the client received in the transcript, in order."""
    parts = re.split(rb"^----- (recv|send) -----\n", TRANSCRIPT.read_bytes(), flags=re.M)
    return b"".join(parts[i + 1][:-1] for i in range(1, len(parts), 2) if parts[i] == b"recv")


def ours(data: bytes, *, all_headers: bool) -> int:
    """Parse ``data`` in socket-sized reads; returns the number of events."""
    parser = EslParser()
    events = 0
    for start in range(0, len(data), CHUNK):
        for message in parser.feed(data[start : start + CHUNK]):
            if message.is_event:
                event = message.event()
                if all_headers:
                    event.headers  # noqa: B018 - decodes every header
                else:
                    event.get("Event-Name")
                    event.get("Unique-ID")
                    event.body  # noqa: B018 - decoding the body is part of the work
                events += 1
    return events


def greenswitch(data: bytes) -> int:
    """greenswitch's own reader loop over ``data``; returns the number of events queued."""
    from greenswitch.esl import ESLProtocol

    class Done:
        def set(self, _: object) -> None:
            pass

    class Replies(list[Any]):
        def pop(self, index: Any = 0) -> Done:  # type: ignore[override]
            return Done()

    class Queue:
        def __init__(self) -> None:
            self.count = 0

        def put(self, _: object) -> None:
            self.count += 1

    class Sock:
        def close(self) -> None:
            pass

    class Protocol(ESLProtocol):  # type: ignore[misc]
        def handle_event(self, event: Any) -> None:
            with contextlib.suppress(AttributeError):  # it fails on text/event-json
                super().handle_event(event)

    proto = Protocol()
    proto.sock_file = io.BytesIO(data)
    proto.sock = Sock()
    proto.connected = True
    proto._commands_sent = Replies()
    queue = Queue()
    proto._esl_event_queue = queue
    proto.receive_events()
    return queue.count


def timed(func: Callable[[], int], runs: int) -> tuple[float, int, list[float]]:
    times = []
    count = 0
    for _ in range(runs):
        start = time.perf_counter()
        count = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), count, times


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    names = [r["parser"] for r in rows]
    speeds = [r["mb_per_s"] for r in rows]
    ax.barh(names, speeds, color=["#2a7", "#6b9", "#999"][: len(rows)])
    for y, v in enumerate(speeds):
        ax.text(v, y, f" {v:.0f} MB/s", va="center")
    ax.set_xlabel("MB/s (median), FreeSWITCH 1.11 transcript bytes")
    ax.invert_yaxis()
    ax.set_xlim(0, max(speeds) * 1.25)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=100.0, help="size of the stream in MB")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # greenswitch warns on every short read otherwise
    unit = received_bytes()
    data = unit * max(1, round(args.mb * 1e6 / len(unit)))
    size = len(data)
    rows = []
    for name, func in (
        ("autoinformer (route)", lambda: ours(data, all_headers=False)),
        ("autoinformer (all headers)", lambda: ours(data, all_headers=True)),
        ("greenswitch", lambda: greenswitch(data)),
    ):
        median, count, times = timed(func, args.runs)
        rows.append(
            {
                "parser": name,
                "seconds": median,
                "mb_per_s": size / median / 1e6,
                "events": count,
                "runs": times,
            }
        )
    base = rows[-1]["mb_per_s"]
    print(f"ESL parse, {size / 1e6:.1f} MB ({len(unit)} B transcript x {size // len(unit)}), ")
    print(f"median of {args.runs} runs, Python {platform.python_version()}\n")
    print("| parser | MB/s | seconds | events | vs greenswitch |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['parser']} | {r['mb_per_s']:.1f} | {r['seconds']:.2f} | {r['events']} "
            f"| {r['mb_per_s'] / base:.2f}x |"
        )
    RESULTS.mkdir(exist_ok=True)
    result = {
        "bytes": size,
        "runs": args.runs,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rows": rows,
        "speedup_route": rows[0]["mb_per_s"] / base,
        "speedup_all_headers": rows[1]["mb_per_s"] / base,
    }
    (RESULTS / "esl_parse.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(rows, RESULTS / "esl_parse.png")


if __name__ == "__main__":
    main()
