"""The control channel over real sockets: serve + ec_console, socket files, concurrency."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_console import write_site

from momentum_httpsrv.console.protocol import encode_command
from momentum_httpsrv.console.server import ControlListenerError
from momentum_httpsrv.node import MomentumNode

EC_CONSOLE = [sys.executable, "-c", "from momentum_httpsrv.cli import ec_console_main as m; m()"]


def control_site(directory: Path, extra: str = "") -> tuple[Path, Path]:
    socket_path = directory / "ctl"
    config = write_site(
        directory,
        extra='HTTP_Listener { Listen "127.0.0.1:0" {} }\n'
        f'Control_Listener {{ {extra}\n'
        f'  Listen "{socket_path}" {{ File_Mode = 0640 }}\n'
        '  Listen "127.0.0.1:0" {}\n'
        "}",
    )
    return config, socket_path


def ec_console(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*EC_CONSOLE, *args], capture_output=True, text=True, timeout=30)


def test_serve_and_ec_console_batch(tmp_path: Path) -> None:
    config, socket_path = control_site(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "momentum_httpsrv.cli", "serve", "-c", str(config)],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        tcp = None
        while tcp is None:
            line = server.stderr.readline()
            assert line, "serve exited before its Control_Listener listened"
            match = re.search(r"Control_Listener '127.0.0.1:0': listening on (\S+)", line)
            tcp = match.group(1) if match else None
        assert stat.S_IMODE(os.stat(socket_path).st_mode) == 0o640

        done = ec_console(str(socket_path), "delay_domain", "example.com")
        assert (done.returncode, done.stdout) == (0, "example.com\tadded to the delayed queue.\n")
        assert "example.com" in ec_console(str(socket_path), "delayed").stdout
        assert "  delay_domain " in ec_console(tcp, "help").stdout
        assert ec_console(tcp, "delay_domain").stdout == "usage: delay_domain <domain>\n"
        # Like Momentum's ec_console, the exit status is the transport's, not the
        # command's: an unknown command is a reply, read from the text (README: Console).
        unknown = ec_console(str(socket_path), "frobnicate")
        assert (unknown.returncode, unknown.stdout.split(":")[0]) == (0, "Unknown command")
        beyond = ec_console(str(socket_path), "beyond")
        assert beyond.returncode == 0
        assert "cc.argv index 5 out of range (argc=1)" in beyond.stdout
        piped = subprocess.run(
            [*EC_CONSOLE, tcp], input="pid\nargs \"x y\"\n", capture_output=True, text=True,
            timeout=30,
        )
        assert piped.stdout == f"{server.pid}\n0\targs\n1\tx y\nxml\t0\t2\n"

        assert ec_console(str(socket_path), "shutdown").stdout == "Shutting down.\n"
        assert server.wait(15) == 0
        assert not socket_path.exists()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert ec_console(str(socket_path), "pid").returncode == 1  # nobody listens any more


def test_socket_file_checks_before_binding(tmp_path: Path) -> None:
    config, socket_path = control_site(tmp_path)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(socket_path))  # a killed server leaves its file behind
    stale.close()
    node = MomentumNode(config)
    node.start()

    async def start_and_close() -> None:
        await node.start_control_listeners()
        assert stat.S_ISSOCK(os.stat(socket_path).st_mode)
        other = MomentumNode(config)
        other.start()
        with pytest.raises(ControlListenerError, match="another server is listening"):
            await other.start_control_listeners()
        other.stop()
        await node.close_listeners()

    try:
        asyncio.run(start_and_close())
    finally:
        node.stop()
    assert not socket_path.exists()
    socket_path.write_text("not a socket")
    node = MomentumNode(config)
    node.start()
    with pytest.raises(ControlListenerError, match="exists and is not a socket"):
        asyncio.run(node.start_control_listeners())
    node.stop()


async def ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: str) -> str:
    writer.write(encode_command(line))
    length = int(await reader.readline())
    return (await reader.readexactly(length)).decode("latin-1")


async def http_get(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
    data = await reader.read()
    writer.close()
    return data


async def serving(node: MomentumNode) -> tuple[asyncio.Task, int, str]:
    """Start ``serve`` as a task; return it, the HTTP port and the control socket path."""
    announced: list[str] = []
    task = asyncio.create_task(node.serve(announce=announced.append))
    while len(announced) < 3:
        await asyncio.sleep(0.01)
    port = node.listeners[0].bound_addresses[0][1]
    return task, port, node.control_listeners[0].bound_addresses[0]


def test_a_sleeping_console_command_delays_nobody(tmp_path: Path) -> None:
    config, _ = control_site(tmp_path)
    node = MomentumNode(config)
    node.start()

    async def scenario() -> None:
        serve, port, path = await serving(node)
        slow = await asyncio.open_unix_connection(path)
        other = await asyncio.open_unix_connection(path)
        started = time.monotonic()
        napping = asyncio.create_task(ask(*slow, "nap 2"))
        await asyncio.sleep(0.1)
        for _ in range(5):
            assert (await http_get(port, "/hello")).endswith(b"hello")
            assert (await ask(*other, "pid")).strip() == str(os.getpid())
        assert time.monotonic() - started < 1.0
        assert await napping == "rested\n"
        assert time.monotonic() - started >= 2.0
        for _, writer in (slow, other):
            writer.close()
        node.request_shutdown()
        await serve

    try:
        asyncio.run(scenario())
    finally:
        node.stop()


def test_idle_connections_are_closed_after_timeout(tmp_path: Path) -> None:
    config, _ = control_site(tmp_path, extra="Timeout = 0.3")
    node = MomentumNode(config)
    node.start()

    async def scenario() -> None:
        serve, _, path = await serving(node)
        reader, writer = await asyncio.open_unix_connection(path)
        assert (await ask(reader, writer, "pid")).strip().isdigit()
        started = time.monotonic()
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server
        assert 0.2 < time.monotonic() - started < 3
        writer.close()
        node.request_shutdown()
        await serve

    try:
        asyncio.run(scenario())
    finally:
        node.stop()
