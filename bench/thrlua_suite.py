"""Run thrLua's own test suite (``t/`` of a SparkPost/thrlua tree) under ``momentum-httpsrv
lua``, and optionally under thrLua's ``rclua`` to compare, the way thrLua's ``runtests``
harness runs it: cwd is the thrlua tree, ``LUA_PATH='./?.lua;./etc/?.lua;./etc/?/init.lua'``,
``.lua`` files given to the interpreter, ``.luat`` files through ``perl t/doluat`` with
``LUA_EXECUTABLE`` set. Each side loads its own ``Test.More``.

    python bench/thrlua_suite.py /path/to/thrlua [--rclua /path/to/thrlua/.libs/rclua]

Prints one row per file (ok / not ok / plan / exit, and with ``--rclua`` whether the two
runs agree) and ``N passed, M failed`` per runtime. A file passes when its TAP is clean:
a plan, as many tests as planned, no failure outside TODO, exit status 0. Files that need
what this project does not emulate (README, "Not emulated") are listed as excluded.
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from momentum_httpsrv.testing.tap import parse_tap

LUA_PATH = "./?.lua;./etc/?.lua;./etc/?/init.lua"
EXCLUDED = {
    "t/java.lua": "needs a JVM (javabridge)",
    "t/curl.lua": "needs the network (curl)",
    "t/lpeg.lua": "lpeg is not emulated",
}
EXCLUDED_DIRS = {"t/thread/": "real OS threads (the thread library is emulated on tasks)"}
TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class TapResult:
    """What a harness judges a test file by."""

    passed_tests: int
    failed_tests: int  # failures outside TODO
    plan: int | None
    exit_code: int
    timed_out: bool = False
    outcomes: str = ""  # one letter per test in order: "." passed, "F" failed (for --rclua)

    @property
    def clean(self) -> bool:
        return (
            not self.timed_out
            and self.exit_code == 0
            and self.plan is not None
            and self.failed_tests == 0
            and self.passed_tests == self.plan
        )

    def summary(self) -> str:
        if self.timed_out:
            return "timeout"
        plan = "-" if self.plan is None else str(self.plan)
        return f"{self.passed_tests} ok {self.failed_tests} nok 1..{plan} exit {self.exit_code}"


def judge(stdout: str, exit_code: int, timed_out: bool = False) -> TapResult:
    report = parse_tap(stdout)
    outcomes = "".join("F" if point.counts_as_failure else "." for point in report.points)
    failed = outcomes.count("F")
    plan = 0 if report.skip_all is not None else report.planned
    return TapResult(len(outcomes) - failed, failed, plan, exit_code, timed_out, outcomes)


def discover(tree: Path) -> list[str]:
    """Test files as thrlua's runtests finds them (``.lua``, ``.t``, ``.luat`` under t/)."""
    found = []
    for path in sorted((tree / "t").rglob("*")):
        if path.is_file() and path.suffix in (".lua", ".t", ".luat"):
            found.append(path.relative_to(tree).as_posix())
    return found


def exclusion(relative: str) -> str | None:
    if relative in EXCLUDED:
        return EXCLUDED[relative]
    return next((why for prefix, why in EXCLUDED_DIRS.items() if relative.startswith(prefix)),
                None)


def harness_environment(tree: Path, executable: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LUA_PATH=LUA_PATH,
        RCLUA_PATH=LUA_PATH,
        RCLUA_CPATH=".libs/?.so",
        LD_LIBRARY_PATH=str(tree / ".libs"),
        LUA_EXECUTABLE=executable,
        THIS_ENV_VAR_IS_SET_FOR_THE_ENV_TEST="w00t",
        RCLUA_INIT="platform = {\n  osname=[[linux]],\n}\n",
    )
    return env


def run_file(tree: Path, relative: str, executable: str) -> TapResult:
    if relative.endswith(".luat"):
        command = ["perl", "t/doluat", relative]
    else:
        command = [executable, relative]
    try:
        done = subprocess.run(
            command, cwd=tree, env=harness_environment(tree, executable), capture_output=True,
            timeout=TIMEOUT_SECONDS, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout or b""
        return judge(out.decode("latin-1"), -1, timed_out=True)
    return judge(done.stdout.decode("latin-1"), done.returncode)


def momentum_executable(directory: Path) -> str:
    """``LUA_EXECUTABLE`` must be one program (doluat execs it without a shell): a wrapper
    that runs ``momentum-httpsrv lua``."""
    program = shutil.which("momentum-httpsrv") or str(
        Path(sys.executable).with_name("momentum-httpsrv")
    )
    wrapper = directory / "momentum-lua"
    wrapper.write_text(f'#!/bin/sh\nexec "{program}" lua "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return str(wrapper)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("thrlua", type=Path, help="a SparkPost/thrlua tree")
    parser.add_argument("--rclua", help="thrLua's interpreter, to compare (e.g. TREE/.libs/rclua)")
    parser.add_argument("files", nargs="*", help="only these files (relative to the tree)")
    options = parser.parse_intermixed_args()
    tree = options.thrlua.resolve()
    if not (tree / "t").is_dir():
        parser.error(f"{tree} has no t/ directory: not a thrlua tree")
    files = options.files or discover(tree)
    with tempfile.TemporaryDirectory() as scratch:
        ours = momentum_executable(Path(scratch))
        rclua = str(Path(options.rclua).resolve()) if options.rclua else None
        totals = {"momentum": [0, 0], "rclua": [0, 0]}
        agree = differ = 0
        header = f"{'file':34} {'momentum-httpsrv lua':30}"
        if rclua:
            header += f" {'rclua':30} same"
        print(header)
        for relative in files:
            why = None if options.files else exclusion(relative)  # named files always run
            if why:
                print(f"{relative:34} excluded: {why}")
                continue
            mine = run_file(tree, relative, ours)
            totals["momentum"][0 if mine.clean else 1] += 1
            row = f"{relative:34} {('PASS ' if mine.clean else 'FAIL ') + mine.summary():30}"
            if rclua:
                theirs = run_file(tree, relative, rclua)
                totals["rclua"][0 if theirs.clean else 1] += 1
                same = theirs == mine
                agree, differ = agree + same, differ + (not same)
                row += f" {('PASS ' if theirs.clean else 'FAIL ') + theirs.summary():30}"
                row += " yes" if same else " NO"
            print(row, flush=True)
        passed, failed = totals["momentum"]
        print(f"momentum-httpsrv lua: {passed} passed, {failed} failed")
        if rclua:
            passed, failed = totals["rclua"]
            print(f"rclua: {passed} passed, {failed} failed")
            print(f"same ok / not ok / plan / exit: {agree} files, different: {differ}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
