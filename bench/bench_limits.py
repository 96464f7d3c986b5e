"""Hot-path cost of the Lua limits (the CPU-time hook and the memory accounting): the
same requests through the in-process pipeline on a node with the defaults
(CPU_Time_Limit 10 s, Memory_Limit 1024 MB), on one with both off (0: no hook is
installed), and with one of them each. Rounds alternate between them in one process
pinned to one core and are timed in process CPU time (others' load on the shared
machine does not count), so noise hits all alike; the ratio per round is what to read.

    python bench/bench_limits.py [--rounds 31] [--requests 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from momentum_httpsrv.httpsrv.requests import ConnectionInfo, Request
from momentum_httpsrv.lua.runtime import LuaState
from momentum_httpsrv.node import MomentumNode

SITE = r'''
require("msys.extended.httpsrv")
msys.httpsrv.register("GET", "/status", function(s)
  s:response_header_set("Content-Type", "text/plain")
  s:response_append("OK")
end)
-- Lua that computes: the hook runs every 10000 VM instructions of it.
msys.httpsrv.register("GET", "/compute", function(s)
  local total = 0
  for i = 1, 20000 do total = total + (i % 7) * 3 end
  s:response_append(tostring(total))
end)
'''
CONFIG = '''
scriptlet "scriptlet" {{
  {limits}
  script "bench_site" {{ source = "bench_site" }}
}}
'''
LIMITS = {
    "on": "",
    "off": "CPU_Time_Limit = 0\n  Memory_Limit = 0",
    "cpu-only": "Memory_Limit = 0",
    "memory-only": "CPU_Time_Limit = 0",
}


def start_node(directory: Path, mode: str) -> MomentumNode:
    (directory / mode).mkdir()
    (directory / mode / "bench_site.lua").write_text(SITE)
    (directory / mode / "ecelerity.conf").write_text(CONFIG.format(limits=LIMITS[mode]))
    node = MomentumNode(directory / mode / "ecelerity.conf")
    node.start()
    return node


def per_request_us(node: MomentumNode, target: str, count: int) -> float:
    connection = ConnectionInfo(1, "127.0.0.1:0", ("127.0.0.1", 5555), ("127.0.0.1", 80))
    request = Request("GET", target, "1.1", [("Host", "bench")], b"", connection)

    async def run() -> float:
        started = time.process_time()
        for _ in range(count):
            await node.handle(request)
        return (time.process_time() - started) / count * 1e6

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    with tempfile.TemporaryDirectory() as tmp:
        nodes = {mode: start_node(Path(tmp), mode) for mode in LIMITS}
        for target in ("/status", "/compute"):
            for node in nodes.values():
                per_request_us(node, target, 500)  # warm-up
            times: dict[str, list[float]] = {mode: [] for mode in LIMITS}
            modes = list(LIMITS)
            for round_number in range(args.rounds):
                shift = round_number % len(modes)  # each mode takes every place in turn
                for mode in modes[shift:] + modes[:shift]:
                    times[mode].append(per_request_us(nodes[mode], target, args.requests))
            print(f"GET {target} ({args.rounds} rounds x {args.requests} requests):")
            for mode in LIMITS:
                ratios = [t / off for t, off in zip(times[mode], times["off"], strict=True)]
                print(
                    f"  {mode:12} median {statistics.median(times[mode]):7.1f} us per request;"
                    f" /off per round: median {statistics.median(ratios):.3f},"
                    f" quartiles {statistics.quantiles(ratios, n=4)[0]:.3f}-"
                    f"{statistics.quantiles(ratios, n=4)[2]:.3f}"
                )
        for node in nodes.values():
            node.stop()
    pure_lua_loop(args.rounds)


LOOP = "local total = 0 for i = 1, 2000000 do total = total + (i % 7) * 3 end return total"


def pure_lua_loop(rounds: int) -> None:
    """The worst case: Lua that only computes, hook on vs no hook, in two states."""
    states = {"on": LuaState(), "off": LuaState(cpu_limit=0, max_memory=0)}
    chunks = {mode: state.compile(LOOP, "=loop") for mode, state in states.items()}
    times: dict[str, list[float]] = {"on": [], "off": []}
    for round_number in range(rounds):
        order = ["on", "off"] if round_number % 2 else ["off", "on"]
        for mode in order:
            state = states[mode]
            started = time.process_time()
            state.call(chunks[mode])
            times[mode].append((time.process_time() - started) * 1e3)
    ratios = [on / off for on, off in zip(times["on"], times["off"], strict=True)]
    print(
        f"2,000,000-iteration Lua loop ({rounds} rounds): on {statistics.median(times['on']):.1f}"
        f" ms, off {statistics.median(times['off']):.1f} ms; on/off per round: median "
        f"{statistics.median(ratios):.3f}, quartiles {statistics.quantiles(ratios, n=4)[0]:.3f}-"
        f"{statistics.quantiles(ratios, n=4)[2]:.3f}"
    )


if __name__ == "__main__":
    main()
