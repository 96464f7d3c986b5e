"""How long the thrLua translator takes on a 5,000-line script.

Rows: a script using the extensions on every few lines (cold: memory cache cleared), the
same script written in stock Lua with no candidate character (the fast path), stock Lua that
still has candidates (string escapes, gmatch loops) so it is tokenized and parsed, and cache
hits from memory and from the on-disk cache. Then the run-time cost of the code it emits:
ns per evaluation of short bitwise expressions, as translated now (nested helper calls) and,
for folds of two or more operators, as the flat call chain they were translated to before
(now kept only for folds of more than 32 operators).
Run: ``python bench/bench_translate.py``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable

from lupa import lua51

from momentum_httpsrv.lua import dialect

LINES = 5000

EXTENSION_BLOCK = """\
local function flags_{n}(mode, extra)
  local fd = msys.core.O_CREAT | msys.core.O_APPEND | (extra & 0xFF)
  if mode != nil and !extra then
    return fd << 2 >> 1, 0660, ~mode, 7 \\ 2, fd ^^ 1
  end
  local name = "log\\x2D{n}\\u00e9"
  for k, v in headers_{n} do
    count = count + #k
  end
  for k, v in pairs(extra) do print(k, v) end
  return name .. fd
end
"""

PLAIN_BLOCK = """\
local function flags_{n}(mode, extra)
  local fd = msys.core.O_CREAT + msys.core.O_APPEND + (extra % 256)
  if mode ~= nil and not extra then
    return fd * 2 / 1, 660, -mode, 7 / 2, fd - 1
  end
  local name = 'log-{n}'
  for key, value in pairs(headers_{n}) do
    count = count + #key
  end
  for k, v in ipairs(extra) do print(k, v) end
  return name .. fd
end
"""

PLAIN_WITH_CANDIDATES_BLOCK = PLAIN_BLOCK.replace(
    "'log-{n}'", "'log\\t{n}\\n'"
).replace("ipairs(extra)", "string.gmatch(extra, '%a+')")


def script(block: str) -> str:
    per_block = block.count("\n")
    text = "".join(block.format(n=n) for n in range(LINES // per_block + 1))
    return "".join(text.splitlines(keepends=True)[:LINES])


def median_ms(action: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def cold(source: str) -> Callable[[], object]:
    def run() -> object:
        dialect.clear_memory_cache()
        return dialect.translate(source, "=bench")

    return run


# (expression, the flat call chain folds of 2 to 32 operators were translated to before they
# became nested calls again, or None if unchanged)
HELPER_CASES = [
    ("a | b", None),
    ("a | b | c", '__thrlua.chain(a)("|", b)("|", c)()'),
    ("a | b & c ^^ d << 2", '__thrlua.chain(a)("|", b)("&", c)("^^", __thrlua.shl(d, 2))()'),
    ("a | b | c | d | e", '__thrlua.chain(a)("|", b)("|", c)("|", d)("|", e)()'),
    ("a + b", None),
]
HELPER_LOOP = """local __thrlua = ("").__thrlua
return function(n)
  local a, b, c, d, e, x = 12, 10, 3, 64, 128
  local clock = os.clock
  local started = clock()
  for _ = 1, n do x = {expression} end
  return (clock() - started) / n * 1e9
end"""


def helper_ns(lua: lua51.LuaRuntime, lua_expression: str, iterations: int = 300_000) -> float:
    loop = lua.execute(HELPER_LOOP.format(expression=lua_expression))
    return min(loop(iterations) for _ in range(5))


def print_helper_costs() -> None:
    lua = lua51.LuaRuntime(encoding="latin-1", unpack_returned_tuples=True)
    dialect.install_dialect_runtime(lua)
    print("\nrun time of translated expressions, ns per evaluation (best of 5)")
    print(f"{'expression':<24}{'now':>10}{'flat chain':>14}")
    for expression, nested in HELPER_CASES:
        translated = dialect.translate(f"x = {expression}", "=bench").removeprefix(
            dialect.PRELUDE).removeprefix("x = ")
        baseline = f"{helper_ns(lua, nested):>14.0f}" if nested else f"{'-':>14}"
        print(f"{expression:<24}{helper_ns(lua, translated):>10.0f}{baseline}")


def main() -> None:
    with_extensions = script(EXTENSION_BLOCK)
    plain = script(PLAIN_BLOCK)
    plain_with_candidates = script(PLAIN_WITH_CANDIDATES_BLOCK)
    assert dialect.translate(plain, "=p") is plain
    assert dialect.translate(plain_with_candidates, "=p") == plain_with_candidates

    dialect.translate(with_extensions, "=warm")
    rows = [
        ("extensions, cold", median_ms(cold(with_extensions), 7)),
        ("no extensions, fast path", median_ms(cold(plain), 7)),
        ("no extensions, tokenized + parsed", median_ms(cold(plain_with_candidates), 7)),
        ("memory cache hit", median_ms(lambda: dialect.translate(with_extensions, "=b"), 50)),
    ]
    with tempfile.TemporaryDirectory() as cache_dir:
        dialect.translate(with_extensions, "=b", cache_dir=cache_dir)

        def disk_hit() -> object:
            dialect.clear_memory_cache()
            return dialect.translate(with_extensions, "=b", cache_dir=cache_dir)

        rows.append(("disk cache hit", median_ms(disk_hit, 20)))

    print(f"translate() on a {LINES}-line script ({len(with_extensions) // 1024} KiB), "
          "median of repeated runs")
    print(f"{'case':<36}{'ms':>10}")
    for name, ms in rows:
        print(f"{name:<36}{ms:>10.2f}")
    print_helper_costs()


if __name__ == "__main__":
    main()
