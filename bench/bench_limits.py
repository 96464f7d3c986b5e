"""Hot-path cost of the Lua limits (the CPU-time hook and the memory accounting), and of
each of their parts alone.

1. Requests through the in-process pipeline: a node with the defaults (CPU_Time_Limit
   10 s, Memory_Limit 1024 MB) against one with both off (0: no hook is installed, the
   plain allocator), for a trivial handler and one that computes. The same node with its
   CPU-time limit switched off for the round ("on, cpu 0") separates the hook (same Lua
   state, same compiled handlers) from the allocator; a second node with both off
   ("off again") shows how far two identical states differ here, the floor below which
   a ratio says nothing.
2. A pure Lua loop (the worst case for the count hook): one state with the hook switched
   on and off between runs, and the defaults state against the both-off one.
3. The parts, in ns: `hooks.enter()` (once per entry into the state: a request that does
   not suspend enters once), `hooks.install(co)` (once per new coroutine), one check of
   the count hook (from a state checking every 1,000 instructions), `os.clock()`, and an
   allocation under lupa's limited allocator and under the plain one.

Rounds alternate between the modes (each mode takes every place in turn) in one process
pinned to one core and are timed in process CPU time (others' load on the shared
machine does not count), so noise hits all alike; each round's ratio is printed, and the
median of the ratios is what to read.

    python bench/bench_limits.py [--rounds 9] [--round-ms 150]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from momentum_httpsrv.httpsrv.requests import ConnectionInfo, Request
from momentum_httpsrv.lua import hooks
from momentum_httpsrv.lua.runtime import LuaState
from momentum_httpsrv.node import MomentumNode

SITE = r'''
require("msys.extended.httpsrv")
msys.httpsrv.register("GET", "/status", function(s)
  s:response_header_set("Content-Type", "text/plain")
  s:response_append("OK")
end)
-- Lua that computes: 80,000 VM instructions per request.
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
NODE_LIMITS = {"on": "", "off": "CPU_Time_Limit = 0\n  Memory_Limit = 0"}
NODE_OF_MODE = {"on": "on", "on, cpu 0": "on", "off": "off", "off again": "off again"}
RATIOS = (  # (mode, against): what each ratio isolates
    ("on", "off", "both limits (the headline)"),
    ("on", "on, cpu 0", "the CPU-time hook alone, same state"),
    ("on, cpu 0", "off", "the limited allocator (and two states' layout)"),
    ("off again", "off", "two identical states: the noise floor"),
)
INSTRUCTIONS_PER_ITERATION = 4  # MOD, MUL, ADD, FORLOOP (a count hook of 1 counts them)
LOOP_ITERATIONS = 2_000_000
LOOP = (
    f"local total = 0 for i = 1, {LOOP_ITERATIONS} do total = total + (i % 7) * 3 end "
    "return total"
)


def set_cpu_limit(state: LuaState, seconds: float) -> None:
    """Switch one state's CPU-time hook on or off between rounds (hooks.set_limit)."""
    state.hooks.set_limit(seconds)


def start_node(directory: Path, name: str) -> MomentumNode:
    (directory / name).mkdir()
    (directory / name / "bench_site.lua").write_text(SITE)
    limits = NODE_LIMITS["off" if name == "off again" else name]
    (directory / name / "ecelerity.conf").write_text(CONFIG.format(limits=limits))
    node = MomentumNode(directory / name / "ecelerity.conf")
    node.start()
    return node


def node_state(node: MomentumNode) -> LuaState:
    assert node.generation is not None
    return node.generation.lua


def per_request_us(node: MomentumNode, target: str, count: int) -> float:
    connection = ConnectionInfo(1, "127.0.0.1:0", ("127.0.0.1", 5555), ("127.0.0.1", 80))
    request = Request("GET", target, "1.1", [("Host", "bench")], b"", connection)

    async def run() -> float:
        started = time.process_time()
        for _ in range(count):
            await node.handle(request)
        return (time.process_time() - started) / count * 1e6

    return asyncio.run(run())


def interleaved(
    modes: list[str], rounds: int, run: Callable[[str], float]
) -> dict[str, list[float]]:
    """``run(mode)`` for every mode in every round, each mode taking every place in turn."""
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    for round_number in range(rounds):
        shift = round_number % len(modes)
        for mode in modes[shift:] + modes[:shift]:
            times[mode].append(run(mode))
    return times


def report_ratio(label: str, times: list[float], against: list[float]) -> None:
    ratios = [t / base for t, base in zip(times, against, strict=True)]
    quartiles = statistics.quantiles(ratios, n=4)
    print(
        f"    {label}: median {statistics.median(ratios):.3f}"
        f" (quartiles {quartiles[0]:.3f}-{quartiles[2]:.3f}); rounds "
        + " ".join(f"{r:.3f}" for r in ratios)
    )


def requests(rounds: int, round_ms: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        nodes = {name: start_node(Path(tmp), name) for name in ("on", "off", "off again")}

        def run(target: str, count: int) -> Callable[[str], float]:
            def one(mode: str) -> float:
                state = node_state(nodes[NODE_OF_MODE[mode]])
                if mode == "on, cpu 0":
                    set_cpu_limit(state, 0)
                try:
                    return per_request_us(nodes[NODE_OF_MODE[mode]], target, count)
                finally:
                    if mode == "on, cpu 0":
                        set_cpu_limit(state, hooks.DEFAULT_CPU_LIMIT)

            return one

        for target in ("/status", "/compute"):
            warm = min(per_request_us(node, target, 300) for node in nodes.values())
            count = max(100, int(round_ms * 1000 / warm))
            times = interleaved(list(NODE_OF_MODE), rounds, run(target, count))
            print(f"GET {target} ({rounds} rounds x {count} requests), CPU us per request:")
            print("  " + ", ".join(
                f"{mode} {statistics.median(t):.1f}" for mode, t in times.items()))
            for mode, against, label in RATIOS:
                report_ratio(f"{mode} / {against} ({label})", times[mode], times[against])
        for node in nodes.values():
            node.stop()


def pure_lua_loop(rounds: int, round_ms: float) -> None:
    """The worst case: Lua that only computes, the hook on and off."""
    states = {"on": LuaState(), "off": LuaState(cpu_limit=0, max_memory=0)}
    chunks = {name: state.compile(LOOP, "=loop") for name, state in states.items()}
    started = time.process_time()
    states["off"].call(chunks["off"])
    repeats = max(1, round(round_ms / 1e3 / (time.process_time() - started)))

    def run(mode: str) -> float:
        name = "off" if mode == "off" else "on"
        state = states[name]
        if mode == "on, cpu 0":
            set_cpu_limit(state, 0)
        started = time.process_time()
        for _ in range(repeats):
            state.call(chunks[name])
        elapsed = (time.process_time() - started) * 1e3 / repeats
        if mode == "on, cpu 0":
            set_cpu_limit(state, hooks.DEFAULT_CPU_LIMIT)
        return elapsed

    times = interleaved(["on", "on, cpu 0", "off"], rounds, run)
    print(
        f"{LOOP_ITERATIONS:,}-iteration Lua loop ({rounds} rounds x {repeats} runs), ms per run: "
        + ", ".join(f"{mode} {statistics.median(t):.1f}" for mode, t in times.items())
    )
    report_ratio("on / on, cpu 0 (the hook, same state)", times["on"], times["on, cpu 0"])
    report_ratio("on / off (both limits, two states)", times["on"], times["off"])


PARTS = r'''
local what, n, hooks = ...
local clock, create = os.clock, coroutine.create
local fn = function() end
local co = create(fn)
local started = clock()
if what == "loop" then for i = 1, n do end
elseif what == "call" then for i = 1, n do fn() end
elseif what == "enter" then local enter = hooks.enter for i = 1, n do enter() end
elseif what == "install" then local install = hooks.install for i = 1, n do install(co) end
elseif what == "clock" then for i = 1, n do local x = clock() end
elseif what == "alloc" then for i = 1, n do local t = { i } end
end
return clock() - started
'''
CHECK_EVERY = 1000  # instructions, in the state that measures one check


def state_with_count(count: int, **options: Any) -> LuaState:
    """A state whose hook checks every ``count`` instructions (HOOK_COUNT at creation)."""
    default, hooks.HOOK_COUNT = hooks.HOOK_COUNT, count
    try:
        return LuaState(**options)
    finally:
        hooks.HOOK_COUNT = default


def parts(rounds: int) -> None:
    """Each part alone, in ns: the median over rounds."""
    on, plain = LuaState(max_memory=0), LuaState(cpu_limit=0, max_memory=0)
    limited = LuaState(cpu_limit=0)  # lupa's limited allocator, no hook
    checking = state_with_count(CHECK_EVERY, max_memory=0)
    chunks = {id(s): s.compile(PARTS, "=parts") for s in (on, plain, limited)}
    n = 200_000

    def ns(state: LuaState, what: str) -> float:
        return float(state.call(chunks[id(state)], what, n, state.hooks)[0]) / n * 1e9

    measured: dict[str, list[float]] = {}
    loop = checking.compile(LOOP, "=loop")
    for _ in range(rounds):
        for what in ("loop", "call", "enter", "install", "clock"):
            measured.setdefault(what, []).append(ns(on, what))
        measured.setdefault("alloc, limited allocator", []).append(ns(limited, "alloc"))
        measured.setdefault("alloc, plain allocator", []).append(ns(plain, "alloc"))
        for seconds in (hooks.DEFAULT_CPU_LIMIT, 0):
            set_cpu_limit(checking, seconds)
            started = time.process_time()
            checking.call(loop)
            measured.setdefault(f"loop {seconds}", []).append(time.process_time() - started)
        set_cpu_limit(checking, hooks.DEFAULT_CPU_LIMIT)
    checks = LOOP_ITERATIONS * INSTRUCTIONS_PER_ITERATION / CHECK_EVERY
    measured["one check"] = [
        (with_hook - without) / checks * 1e9
        for with_hook, without in zip(
            measured.pop(f"loop {hooks.DEFAULT_CPU_LIMIT}"), measured.pop("loop 0"), strict=True
        )
    ]
    loop_ns = statistics.median(measured.pop("loop"))
    print(f"Parts alone ({rounds} rounds of {n:,} calls; ns each, loop overhead subtracted):")
    for what, values in measured.items():
        cost = statistics.median(values) - (0 if what == "one check" else loop_ns)
        print(f"  {what:26} {cost:7.1f}")
    print(
        f"  (the hook checks every {hooks.HOOK_COUNT:,} instructions and polls Python every"
        f" {getattr(hooks, 'HOOK_POLL_INTERVAL', None)} CPU s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--round-ms", type=float, default=150, help="CPU ms per mode and round")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    requests(args.rounds, args.round_ms)
    pure_lua_loop(args.rounds, args.round_ms)
    parts(args.rounds)


if __name__ == "__main__":
    main()
