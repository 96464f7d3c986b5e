"""``config reload`` reads files off the event loop and refuses anything but regular
files of a sane size; the running generation keeps serving."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

import momentum_httpsrv.generation as generation_module
from momentum_httpsrv.config.reading import MAX_SOURCE_BYTES
from momentum_httpsrv.testing.client import MomentumTestClient

SITE = 'require("msys.extended.httpsrv")\n' \
    'msys.httpsrv.register("GET", "/ok", function(s) s:response_append("alive") end)\n'
CONF = 'scriptlet "scriptlet" { script "site" { source = "site" } }\n'


@pytest.fixture
def client(tmp_path: Path):
    (tmp_path / "site.lua").write_text(SITE)
    (tmp_path / "ecelerity.conf").write_text(CONF)
    started = MomentumTestClient(tmp_path / "ecelerity.conf")
    yield started
    started.close()


def special_file(tmp_path: Path, kind: str) -> Path:
    if kind == "fifo":
        os.mkfifo(tmp_path / "fifo")
        return tmp_path / "fifo"
    if kind == "device":
        return Path("/dev/zero")
    if kind == "directory":
        return tmp_path
    big = tmp_path / "big.conf"
    with big.open("wb") as file:
        file.truncate(MAX_SOURCE_BYTES + 1)
    return big


EXPECTED = {
    "fifo": "a FIFO, not a regular file; not read",
    "device": "a character device, not a regular file; not read",
    "directory": "a directory, not a regular file; not read",
    "oversized": "larger than 16 MB; not read",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_reload_refuses_what_is_not_a_regular_file(client, tmp_path, kind):
    target = special_file(tmp_path, kind)
    reply = client.node.console(f"config reload {target}")
    assert EXPECTED[kind] in reply
    assert client.node.generation.number == 1
    assert client.get("/ok").body == b"alive"


@pytest.mark.parametrize("kind", ["fifo", "oversized"])
def test_an_included_file_is_refused_at_its_line(client, tmp_path, kind):
    special = special_file(tmp_path, kind)
    (tmp_path / "included.conf").write_text(f'include "{special}"\n')
    reply = client.node.console(f"config reload {tmp_path / 'included.conf'}")
    assert "included.conf:1:9:" in reply and EXPECTED[kind] in reply
    assert client.get("/ok").body == b"alive"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("fifo", "Unable to open"), ("oversized", EXPECTED["oversized"])],
)
def test_a_script_that_is_no_regular_file_is_refused(client, tmp_path, kind, expected):
    special = special_file(tmp_path, kind)
    (tmp_path / "script.conf").write_text(
        f'scriptlet "scriptlet" {{ script "x" {{ source = "{special}" }} }}\n'
    )
    assert expected in client.node.console(f"config reload {tmp_path / 'script.conf'}")
    assert client.get("/ok").body == b"alive"


def test_reload_reads_its_files_in_a_thread(client, monkeypatch):
    threads = []
    original = generation_module.read_configuration

    def recording(path):
        threads.append(threading.current_thread())
        return original(path)

    monkeypatch.setattr(generation_module, "read_configuration", recording)
    assert "generation 2" in client.node.console("config reload")
    assert threads and threads[0] is not threading.main_thread()
