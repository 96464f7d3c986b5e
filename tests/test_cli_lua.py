"""`momentum-httpsrv lua FILE [ARGS…]`: run a Lua file like thrlua's rclua."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import momentum_httpsrv

# What `python -m momentum_httpsrv` has as argv[0], which errors start with as rclua's
# start with its own argv[0].
PROGRAM = str(Path(momentum_httpsrv.__file__).with_name("__main__.py"))


def run_lua(*args, cwd, env_path=None):
    env = None if env_path is None else {**os.environ, "MOMENTUM_LUA_PATH": env_path}
    return subprocess.run(
        [sys.executable, "-m", "momentum_httpsrv", "lua", *args],
        capture_output=True, cwd=cwd, env=env, timeout=60,
    )


def test_prints_to_stdout_with_arg_table_and_varargs(tmp_path):
    (tmp_path / "show.lua").write_text(
        'print(arg[0], arg[1], arg[2], select("#", ...), ...)\n'
        'print("bin\\0\\255")\n'
    )
    result = run_lua("show.lua", "one", "-two", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"show.lua\tone\t-two\t2\tone\t-two\nbin\x00\xff\n"


def test_dialect_msys_and_suspension_are_available(tmp_path):
    (tmp_path / "d.lua").write_text(
        "local flags = msys.core.O_CREAT | msys.core.O_APPEND\n"
        "if flags != 0 then print(0660, '\\x41', flags & msys.core.O_CREAT) end\n"
        "msys.sleep(0.01)\n"
        "print(msys.asyncOk())\n"
    )
    result = run_lua("d.lua", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().split("\n")[:2] == [f"432\tA\t{os.O_CREAT}", "true"]


@pytest.mark.parametrize("via_env", [False, True])
def test_include_dirs_and_environment_extend_package_path(tmp_path, via_env):
    (tmp_path / "lib" / "pkg").mkdir(parents=True)
    (tmp_path / "lib" / "pkg" / "mod.lua").write_text("return { name = 'found' }\n")
    (tmp_path / "main.lua").write_text("print(require('pkg.mod').name)\n")
    if via_env:
        result = run_lua("main.lua", cwd=tmp_path, env_path=str(tmp_path / "lib"))
    else:
        result = run_lua("-I", str(tmp_path / "lib"), "main.lua", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, b"found\n"), result.stderr


def test_error_exits_1_with_chunkname_line_and_traceback(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "fail.lua").write_text(
        'print("before")\nlocal function f()\n  error("went wrong")\nend\nf()\n'
    )
    result = run_lua("sub/fail.lua", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == b"before\n"
    stderr = result.stderr.decode()
    assert stderr.startswith(f"{PROGRAM}: sub/fail.lua:3: went wrong\nstack traceback:")
    assert "sub/fail.lua:5: in main chunk" in stderr


def test_syntax_error_and_missing_file(tmp_path):
    (tmp_path / "bad.lua").write_text("x = = 1\n")
    bad = run_lua("bad.lua", cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.decode() == f"{PROGRAM}: bad.lua:1: unexpected symbol near '='\n"
    missing = run_lua("absent.lua", cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.decode() == (
        f"{PROGRAM}: cannot open absent.lua: No such file or directory\n"
    )
    (tmp_path / "dir.lua").mkdir()
    directory = run_lua("dir.lua", cwd=tmp_path)
    assert directory.returncode == 1
    assert directory.stderr.decode() == f"{PROGRAM}: cannot read dir.lua: Is a directory\n"
