"""What thrLua's standard-library differences cost per call: ns for tonumber, tostring,
string.format and table.concat as stock Lua 5.1 has them and as replaced
(``thrlua_stdlib.lua``), measured in one process, interleaved, best of 5 per round.

    python bench/bench_stdlib.py [--rounds 3]
"""

from __future__ import annotations

import argparse

from lupa import lua51

from momentum_httpsrv.lua import dialect

CASES = [
    ('tonumber("42")', 'local x = tonumber("42")'),
    ('tonumber("0x1F")', 'local x = tonumber("0x1F")'),
    ("tostring(42.5)", "local x = tostring(42.5)"),
    ('string.format("%d %s", …)', 'local x = string.format("%d %s", 7, "seven")'),
    ("table.concat(10 strings)", "local x = table.concat(parts, ',')"),
]
LOOP = """return function(n)
  local parts = {{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}}
  local clock = os.clock
  local started = clock()
  for _ = 1, n do {statement} end
  return (clock() - started) / n * 1e9
end"""


def runtime(replaced: bool) -> lua51.LuaRuntime:
    lua = lua51.LuaRuntime(encoding="latin-1", unpack_returned_tuples=True)
    if replaced:
        dialect.install_dialect_runtime(lua)
    return lua


def ns_per_call(lua: lua51.LuaRuntime, statement: str, iterations: int = 200_000) -> float:
    loop = lua.execute(LOOP.format(statement=statement))
    return min(loop(iterations) for _ in range(5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    stock, replaced = runtime(False), runtime(True)
    print(f"{'call':<28}{'stock ns':>10}{'thrLua ns':>11}{'ratio':>7}   (rounds)")
    for name, statement in CASES:
        pairs = [(ns_per_call(stock, statement), ns_per_call(replaced, statement))
                 for _ in range(options.rounds)]
        best_stock = min(before for before, _ in pairs)
        best_replaced = min(after for _, after in pairs)
        ratios = " ".join(f"{after / before:.2f}" for before, after in pairs)
        print(f"{name:<28}{best_stock:>10.0f}{best_replaced:>11.0f}"
              f"{best_replaced / best_stock:>7.2f}   ({ratios})")


if __name__ == "__main__":
    main()
