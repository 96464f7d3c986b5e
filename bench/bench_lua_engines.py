"""lupa's Lua 5.1 against its LuaJIT 2.1 on the same request: ``bench_offline.py`` run
in turn under each engine (LuaJIT put in the place of ``lupa.lua51`` for that process
only), interleaved rounds, CPU time per request.

The server itself runs on ``lua51``: LuaJIT does not behave as thrLua's Lua 5.1 does
(see README, Performance), so this script only measures what it would change.

    python bench/bench_lua_engines.py [--rounds 3] [--requests 10000]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run bench_offline.py with the named lupa engine standing in for lupa.lua51.
RUN_UNDER = """
import runpy, sys, lupa, importlib
engine = importlib.import_module("lupa." + sys.argv[1])
sys.modules["lupa.lua51"] = engine
lupa.lua51 = engine
sys.argv = ["bench_offline.py", "--requests", sys.argv[2]]
sys.path.insert(0, {here!r})
runpy.run_path({script!r}, run_name="__main__")
"""


def run(engine: str, requests: int) -> float:
    code = RUN_UNDER.format(here=str(HERE), script=str(HERE / "bench_offline.py"))
    out = subprocess.run(
        [sys.executable, "-c", code, engine, str(requests)],
        capture_output=True, text=True, check=True,
    ).stdout
    return float(re.search(r"median ([\d.]+) us", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"lua51": [], "luajit21": []}
    for number in range(args.rounds):
        for engine, figures in results.items():
            figures.append(run(engine, args.requests))
        print(f"round {number + 1}: " + ", ".join(
            f"{engine} {figures[-1]:.1f} us" for engine, figures in results.items()))
    lua51, luajit = (statistics.median(results[e]) for e in ("lua51", "luajit21"))
    print(f"offline GET, CPU us/request (median of {args.rounds}): lua51 {lua51:.1f}, "
          f"luajit21 {luajit:.1f} ({luajit / lua51:.2f}x)")


if __name__ == "__main__":
    main()
