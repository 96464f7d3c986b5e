"""``serve --workers 2``: two processes share the HTTP port (SO_REUSEPORT), the console's
reconfigurations reach both, a broken reload moves neither, a dead worker is replaced,
and SIGTERM stops them all. Over real sockets and real processes; bounded in count."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from momentum_httpsrv.console.client import connect

SITE = """
require("msys.extended.httpsrv")
local mod = {}
local function answer(session)
  session:response_status_set_std(200, "OK", "text/plain")
  session:response_append(BODY)
end
function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/which", answer)
  return true
end
msys.registerModule("which", mod)
"""


def write_site(directory: Path, body: str) -> None:
    (directory / "which.lua").write_text(f'BODY = "{body}"\n' + SITE)


def start_serve(directory: Path) -> tuple[subprocess.Popen, int, Path]:
    control = directory / "ctl"
    (directory / "ecelerity.conf").write_text(
        'HTTP_Listener { Listen "127.0.0.1:0" {} }\n'
        f'Control_Listener {{ Listen "{control}" {{}} }}\n'
        'scriptlet "scriptlet" { script "which" { source = "which" } }\n'
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "momentum_httpsrv.cli", "serve", "-c",
         str(directory / "ecelerity.conf"), "--workers", "2"],
        stderr=subprocess.PIPE, text=True, cwd=directory,
    )
    port = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = server.stderr.readline()
        assert line, "serve --workers 2 exited before listening"
        if match := re.search(r"listening on http://127\.0\.0\.1:(\d+)", line):
            port = int(match.group(1))
        if "Control_Listener" in line:
            break
    assert port is not None
    threading.Thread(target=server.stderr.read, daemon=True).start()  # keep stderr drained
    return server, port, control


def get(port: int) -> tuple[int, str]:
    """One request on a new connection (so the kernel may pick either worker)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/which")
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def worker_pids(server: subprocess.Popen) -> set[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return {int(pid) for pid in children}


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_reloads_under_load_reach_both_workers_and_a_broken_one_moves_neither(
    tmp_path: Path,
) -> None:
    write_site(tmp_path, "one")
    server, port, control = start_serve(tmp_path)
    try:
        workers = worker_pids(server)
        assert len(workers) == 2
        answers: list[tuple[int, str]] = []
        loading = threading.Event()
        loading.set()

        def load() -> None:
            while loading.is_set():
                answers.append(get(port))

        clients = [threading.Thread(target=load) for _ in range(4)]
        for client in clients:
            client.start()
        console = connect(str(control))
        for number in range(20):
            write_site(tmp_path, "two" if number % 2 == 0 else "one")
            reply = console.request("config reload")
            assert reply.startswith("Configuration reloaded"), reply
            time.sleep(0.05)
        loading.clear()
        for client in clients:
            client.join(30)
        assert answers and all(status == 200 for status, _ in answers)
        assert {body for _, body in answers} <= {"one", "two"}
        assert {body for _, body in answers} == {"one", "two"}  # the reloads were seen

        # after 20 reloads the site says "one" again, in both workers
        assert {get(port) for _ in range(40)} == {(200, "one")}

        (tmp_path / "which.lua").write_text("this is not Lua (\n")
        reply = console.request("config reload")
        assert reply.startswith("Reconfigure failed"), reply
        assert {get(port) for _ in range(40)} == {(200, "one")}
        assert worker_pids(server) == workers  # no worker died on the way
    finally:
        stop(server)


def test_a_dead_worker_is_logged_and_replaced_and_sigterm_stops_all(tmp_path: Path) -> None:
    write_site(tmp_path, "one")
    server, port, _ = start_serve(tmp_path)
    try:
        first = worker_pids(server)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(worker_pids(server) - {victim}) < 2:
            time.sleep(0.1)
        now = worker_pids(server)
        assert victim not in now and len(now) == 2
        assert all(get(port)[0] == 200 for _ in range(10))
        assert f"(pid {victim}) exited with status -9" in (tmp_path / "paniclog.ec").read_text()
    finally:
        stop(server)
    assert server.returncode == 0
    for pid in now:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
