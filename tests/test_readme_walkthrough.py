"""README's quick-start walk-through, step by step, on a copy of the default site: the
test it shows passes under ``--momentum-cov`` with a coverage summary of hello_api.lua,
and ``serve --reload`` picks up the edit it describes (and survives a broken one)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from momentum_httpsrv.testing.process import serve_process, stderr_until

REPOSITORY = Path(__file__).resolve().parents[1]
README = (REPOSITORY / "README.md").read_text()


def walkthrough_test() -> tuple[str, str]:
    """The walk-through's test file: (path as README names it, text)."""
    block = re.search(r"<!-- walkthrough: test_hello.py -->\n```python\n(.*?)```", README, re.S)
    assert block, "README lost its walk-through test"
    first, _, rest = block.group(1).partition("\n")
    return first.removeprefix("# "), rest


def copy_of_the_default_site(root: Path) -> Path:
    shutil.copytree(REPOSITORY / "conf", root / "conf",
                    ignore=shutil.ignore_patterns("paniclog.ec"))
    config = root / "conf" / "ecelerity.conf"
    text = config.read_text()  # ephemeral port and a private console: tests run side by side
    text = text.replace('Listen "127.0.0.1:2081"', 'Listen "127.0.0.1:0"')
    text = text.replace('Listen "127.0.0.1:2025"', f'Listen "{root}/console.sock"')
    config.write_text(text)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")  # the rootdir
    return config


def test_the_readme_walkthrough_runs_as_written(tmp_path):
    config = copy_of_the_default_site(tmp_path)
    name, text = walkthrough_test()
    (tmp_path / name).parent.mkdir(parents=True)
    (tmp_path / name).write_text(text)

    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "--momentum-cov", "-p", "no:cacheprovider", name],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    shown = re.search(r"^# (conf/hello_api\.lua .*)$", README, re.M)
    assert shown and shown.group(1) in tested.stdout.splitlines(), tested.stdout
    assert (tmp_path / "momentum-coverage" / "html" / "index.html").is_file()
    assert not (tmp_path / "conf" / "paniclog.ec").exists()  # the test wrote elsewhere

    script = tmp_path / "conf" / "hello_api.lua"
    original = script.read_text()
    with serve_process(config, 30.0, "--reload") as (process, port):
        stderr_until(process, r"--reload: watching \d+ files")
        script.write_text(original.replace("Hello world!", "Hello again!"))
        stderr_until(process, r"reloaded: generation 2")
        assert post_hello(port) == "/hello says: Hello again!"
        script.write_text(original.replace("local mod = {}", "local mod = {"))
        log = stderr_until(process, r"config reload failed: .*hello_api\.lua:\d+: .*; still "
                                    r"serving generation 2")
        assert log.count("hello_api.lua:") == 1
        assert post_hello(port) == "/hello says: Hello again!"


def post_hello(port: int) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/hello", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.read().decode()
