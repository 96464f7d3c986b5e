"""Cost of Lua line coverage: the same offline requests on two nodes in one process, one
loaded while coverage was off (no hook) and one while it was on (a line hook in every
coroutine), interleaved round by round on one pinned core; reported as the ratio
on/off per round. Two endpoints: bench_http.py's three-line handler, and one that runs
a 100-iteration Lua loop (about 300 lines executed per request).

    python bench/bench_coverage.py [--requests 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_http import CONFIG, SITE

from momentum_httpsrv.httpsrv.requests import ConnectionInfo, Request
from momentum_httpsrv.lua import coverage
from momentum_httpsrv.node import MomentumNode

LOOP_SITE = SITE.replace(
    '  msys.httpsrv.register("GET", "/status", status)',
    '''  msys.httpsrv.register("GET", "/status", status)
  msys.httpsrv.register("GET", "/loop", function(session)
    local total = 0
    for i = 1, 100 do
      total = total + i
    end
    session:response_status_set_std(200, tostring(total), "text/plain")
  end)''',
)


def started_node(directory: Path) -> MomentumNode:
    (directory / "bench_site.lua").write_text(LOOP_SITE)
    (directory / "ecelerity.conf").write_text(CONFIG)
    node = MomentumNode(directory / "ecelerity.conf", paniclog_path=directory / "paniclog.ec")
    node.start()
    return node


def seconds_per_request(node: MomentumNode, request: Request, count: int) -> float:
    async def run() -> None:
        for _ in range(count):
            await node.handle(request)

    started = time.perf_counter()
    asyncio.run(run())
    return (time.perf_counter() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    with tempfile.TemporaryDirectory() as tmp:
        off_dir, on_dir = Path(tmp, "off"), Path(tmp, "on")
        off_dir.mkdir()
        on_dir.mkdir()
        plain = started_node(off_dir)
        collector = coverage.start_line_coverage()
        counted = started_node(on_dir)
        coverage.stop_line_coverage()  # no new states attach; the counted node keeps counting
        connection = ConnectionInfo(1, "127.0.0.1:0", ("127.0.0.1", 5555), ("127.0.0.1", 80))
        for target in ("/status", "/loop"):
            request = Request("GET", target, "1.1", [("Host", "bench")], b"", connection)
            for node in (plain, counted):
                seconds_per_request(node, request, 500)  # warm-up
            off, on = [], []
            for _ in range(args.rounds):
                off.append(seconds_per_request(plain, request, args.requests))
                on.append(seconds_per_request(counted, request, args.requests))
            ratios = [b / a for a, b in zip(off, on, strict=True)]
            print(f"GET {target}: off median {statistics.median(off) * 1e6:.1f} us, "
                  f"on median {statistics.median(on) * 1e6:.1f} us; on/off per round "
                  f"{', '.join(f'{r:.2f}' for r in ratios)} (median "
                  f"{statistics.median(ratios):.2f}; {args.rounds} rounds x "
                  f"{args.requests} requests)")
        assert counted.generation is not None
        collector.harvest(counted.generation.lua)
        counted.stop()
        plain.stop()
        hits = sum(sum(entry.hits.values()) for entry in collector.files.values())
        print(f"lines counted while on: {hits}")


if __name__ == "__main__":
    main()
