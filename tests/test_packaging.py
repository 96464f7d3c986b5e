"""The install is clean: building the package gives no setuptools warnings (each folder
of the shipped Lua is a declared package) and ships every Lua file; ``make`` says what
it is doing while pip stays quiet."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def test_building_the_wheel_warns_about_nothing_and_ships_every_lua_file(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(tmp_path),
         str(REPOSITORY)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr
    log = built.stdout + built.stderr
    assert "is absent from the `packages` configuration" not in log
    assert not re.search(r"SetuptoolsDeprecationWarning|_Warning:", log), log
    (wheel,) = tmp_path.glob("*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    for lua_file in REPOSITORY.glob("lua/**/*.lua"):
        relative = lua_file.relative_to(REPOSITORY / "lua").as_posix()
        assert f"momentum_httpsrv/shipped_lua/{relative}" in shipped
    for lua_file in REPOSITORY.glob("momentum_httpsrv/**/*.lua"):
        assert lua_file.relative_to(REPOSITORY).as_posix() in shipped


def test_make_announces_each_install_step_and_keeps_pip_quiet():
    planned = subprocess.run(
        ["make", "-n", "-B", ".venv/bin/momentum-httpsrv"],
        cwd=REPOSITORY, capture_output=True, text=True, timeout=60,
    ).stdout
    steps = [line for line in planned.splitlines() if line.startswith("echo ")]
    assert len(steps) >= 3 and any("about a minute" in step for step in steps), planned
    installs = [line for line in planned.splitlines() if " install " in line]
    assert installs and all("--quiet" in line for line in installs), planned


def test_the_editable_install_make_runs_prints_nothing(tmp_path):
    """`make run` and `make test` install in editable mode: that step must be silent too."""
    planned = subprocess.run(
        ["make", "-n", "-B", ".venv/bin/momentum-httpsrv"],
        cwd=REPOSITORY, capture_output=True, text=True, timeout=60,
    ).stdout
    installs = [line for line in planned.splitlines() if " install " in line]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # The same commands (pip's upgrade, then ours with the lupa our venv was built with),
    # into a scratch venv, without our dependencies (the wheel test above covers what ships).
    command = " && ".join(installs).replace(".venv/bin/pip", f"{venv}/bin/pip").replace(
        "-e '.[test]'", f"--no-deps -e '{REPOSITORY}'").replace(
        ".venv/lupa-wheel", f"{REPOSITORY}/.venv/lupa-wheel")
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    noise = [line for line in (done.stdout + done.stderr).splitlines()
             if line.strip() and "is ignored: it is neither a file nor a directory" not in line]
    assert noise == [], "\n".join(noise)
