"""vm/build_lupa.py fails on one line that says what is missing (README, "The Lua VM"):
no C compiler is found before anything is fetched, and a failing pip step is summed up
by its last error line, its whole output kept in a log file."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "vm" / "build_lupa.py"


def test_a_missing_c_compiler_is_one_line_before_any_download(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "vm")],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "CC": str(tmp_path / "no-such-cc")},
    )
    assert built.returncode == 1
    assert built.stdout == ""
    (line,) = built.stderr.splitlines()
    assert line.startswith("vm/build_lupa: no C compiler")
    assert "gcc" in line and "python3-dev" in line
    assert not (tmp_path / "vm").exists()  # nothing fetched


def test_a_failing_step_is_its_last_error_line_and_a_log(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("build_lupa", SCRIPT)
    assert spec is not None and spec.loader is not None
    build_lupa = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_lupa)
    log = tmp_path / "build.log"
    noisy = ("print('collecting'); print('ERROR: No matching distribution'); "
             "print('hint'); raise SystemExit(1)")
    with pytest.raises(build_lupa.BuildError) as raised:
        build_lupa.run([sys.executable, "-c", noisy], "downloading lupa", log)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("downloading lupa failed: ERROR: No matching distribution")
    assert str(log) in message
    assert "collecting" in log.read_text() and "hint" in log.read_text()
