"""bench/thrlua_suite.py runs a thrlua tree's t/ files under `momentum-httpsrv lua` (and a
second interpreter to compare) and reports per file and in total."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

RUNNER = Path(__file__).resolve().parents[1] / "bench" / "thrlua_suite.py"


def test_runner_reports_each_file_and_the_totals_under_both_interpreters(tmp_path: Path) -> None:
    tree = tmp_path / "thrlua"
    (tree / "t" / "thread").mkdir(parents=True)
    (tree / "t" / "good.lua").write_text(
        'require("Test.More")\nplan(2)\nis(tonumber("010"), 8)\nok(_VERSION == "thrLua 5.1")\n'
    )
    (tree / "t" / "bad.lua").write_text('require("Test.More")\nplan(2)\nok(true)\n')
    (tree / "t" / "thread" / "basic.lua").write_text("error('not run')\n")
    other = tmp_path / "other-lua"
    other.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m momentum_httpsrv lua "$@"\n')
    other.chmod(0o755)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(tree), "--rclua", str(other)],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("t/")}
    assert "PASS 2 ok 0 nok 1..2 exit 0" in rows["t/good.lua"]
    assert rows["t/good.lua"].endswith(" yes")
    assert "FAIL 1 ok 0 nok 1..2 exit 0" in rows["t/bad.lua"]
    assert "excluded" in rows["t/thread/basic.lua"]
    assert "momentum-httpsrv lua: 1 passed, 1 failed" in done.stdout
    assert "rclua: 1 passed, 1 failed" in done.stdout
    assert "same ok / not ok / plan / exit: 2 files, different: 0" in done.stdout
