"""msys.getopt, the option parser shipped for console commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_console import write_site

from momentum_httpsrv.lua.runtime import LuaState
from momentum_httpsrv.node import MomentumNode

# Renders what getopt returned as one line: sorted opts, then the remaining words.
RENDER = """
local getopt = require("msys.getopt")
local opts, rest = getopt.getopt(..., "vxn:", { verbose = "v", count = "n" })
if not opts then return "error: " .. rest end
local keys = {}
for k, v in pairs(opts) do keys[#keys + 1] = k .. "=" .. tostring(v) end
table.sort(keys)
return table.concat(keys, ",") .. " | " .. table.concat(rest, ",")
"""


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ([], " | "),
        (["a", "b"], " | a,b"),
        (["-v", "a"], "v=true | a"),
        (["-vx", "a", "-n", "5"], "n=5,v=true,x=true | a"),
        (["-n5", "-n", "6"], "n=6 | "),
        (["-vn7", "rest"], "n=7,v=true | rest"),
        (["--verbose", "--count=3", "x"], "n=3,v=true | x"),
        (["--count", "4"], "n=4 | "),
        (["--", "-v", "b"], " | -v,b"),
        (["-"], " | -"),
        (["-q"], "error: unknown option -q"),
        (["-n"], "error: option -n needs a value"),
        (["--count"], "error: option --count needs a value"),
        (["--verbose=1"], "error: option --verbose takes no value"),
        (["--nope"], "error: unknown option --nope"),
    ],
)
def test_getopt(words: list[str], expected: str) -> None:
    state = LuaState()
    (result,) = state.execute(RENDER, "=getopt_test", state.lua.table_from(words))
    assert result == expected


def test_getopt_reads_a_command_construct(tmp_path: Path) -> None:
    script = """
local getopt = require("msys.getopt")
msys.registerControl("queue", function(cc)
  local opts, rest = getopt.getopt(cc, "fn:")
  if not opts then print("usage: queue [-f] [-n count] domain: " .. rest); return end
  print(opts.f and "forced" or "normal", opts.n or "-", table.concat(rest, " "))
end)
"""
    node = MomentumNode(write_site(tmp_path, script))
    node.start()
    try:
        assert node.console("queue -f -n 3 example.com") == "forced\t3\texample.com\n"
        assert node.console("queue example.com") == "normal\t-\texample.com\n"
        assert node.console("queue -z").startswith("usage: queue [-f] [-n count] domain: unknown")
    finally:
        node.stop()
