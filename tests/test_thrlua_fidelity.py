"""``momentum-httpsrv lua`` behaves as thrLua's ``rclua``: each expected value here is what
rclua prints for the same script (thrLua built from SparkPost/thrlua)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from momentum_httpsrv.cli import main


def run_lua(tmp_path: Path, source: str, *args: str) -> tuple[int, str, str]:
    """Run ``source`` as a script file with ``momentum-httpsrv lua``: exit, stdout, stderr."""
    script = tmp_path / "script.lua"
    script.write_bytes(source.encode("latin-1"))
    result = CliRunner().invoke(main, ["lua", str(script), *args])
    return result.exit_code, result.stdout, result.stderr


def lua_lines(tmp_path: Path, source: str) -> list[str]:
    """stdout lines of a script that must succeed."""
    code, out, err = run_lua(tmp_path, source)
    assert code == 0, err
    return out.splitlines()


# -- Test.More ------------------------------------------------------------------------------


def test_test_more_is_compares_numbers_as_printed(tmp_path: Path) -> None:
    lines = lua_lines(tmp_path, """require("Test.More")
plan(3)
is(0.1 + 0.2, 0.3, "sum")
isnt(0.1 + 0.2, 0.3, "isnt")
is(1e300 * 10, 1e301, "big")
""")
    assert lines[1:] == ["ok 1 - sum", "not ok 2 - isnt", "ok 3 - big"]


def test_test_more_lays_out_names_todo_and_skip_as_thrlua(tmp_path: Path) -> None:
    lines = lua_lines(tmp_path, """require("Test.More")
plan(5)
ok(true, "a # b")
todo("later", 1)
ok(false, "soon")
skip("no network", 1)
skip()
todo_skip("someday")
""")
    assert [line for line in lines if not line.startswith("#")] == [
        "1..5", "ok 1 - a # b", "not ok 2 - soon # TODO # later", "ok 3 - # skip no network",
        "ok 4 - # skip", "not ok 5 - # TODO & SKIP someday",
    ]
