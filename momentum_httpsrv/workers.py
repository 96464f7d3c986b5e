"""``serve --workers N``: N processes serve the HTTP listeners side by side.

The supervisor (the process ``serve`` started) applies the configuration, reserves each
TCP ``Listen`` address (binding it with SO_REUSEPORT, so ``:0`` becomes one concrete
port), and starts N workers. Each worker is ``serve`` again with its own Lua state (module
globals are per worker) and binds every reserved address with SO_REUSEPORT, so the kernel
spreads connections over them. The supervisor alone runs the Control_Listener: a console
line runs there, and one that made a new generation (``config reload``/``set``/``unset``
succeeded) is run by every worker too. A broken reload fails in the supervisor first, so
no worker moves. SIGTERM stops every worker; a worker that dies is logged and restarted.

Supervisor and worker talk over a socket pair, one JSON object per line: the worker says
``{"ready": true}`` once its listeners are bound; the supervisor sends ``{"line": …}``
and the worker answers ``{"reply": …, "generation": n}``.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .listen_address import parse_listen_address
from .node import MomentumNode

RESTART_DELAY = 0.5  # seconds between a worker's death and its replacement
STOP_GRACE = 10.0  # seconds a worker has to finish after SIGTERM before SIGKILL


class WorkersError(Exception):
    """``serve --workers`` cannot run this configuration (e.g. a Unix-socket Listen)."""


def reserve_addresses(node: MomentumNode) -> tuple[dict[str, str], list[socket.socket]]:
    """Bind every HTTP ``Listen`` address with SO_REUSEPORT, without listening: the
    concrete address each configured one became (``127.0.0.1:0`` → a port) and the
    sockets that keep it reserved while the workers come and go."""
    assert node.generation is not None
    shared: dict[str, str] = {}
    sockets: list[socket.socket] = []
    for address, _ in node.generation.http_listens:
        where = parse_listen_address(address)
        if where.path is not None:
            raise WorkersError(
                f"HTTP listener {address!r}: --workers shares TCP addresses only "
                "(SO_REUSEPORT); serve a Unix socket with one worker"
            )
        sock = socket.socket(where.family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((where.host or "", where.port))
        host, port = sock.getsockname()[:2]
        shared[address] = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        sockets.append(sock)
    return shared, sockets


@dataclass
class _Worker:
    """One worker process and the supervisor's end of its link."""

    index: int
    process: asyncio.subprocess.Process
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def run(self, line: str) -> str:
        async with self.lock:
            self.writer.write(json.dumps({"line": line}).encode() + b"\n")
            await self.writer.drain()
            answer = await self.reader.readline()
        if not answer:
            raise ConnectionError(f"worker {self.index} (pid {self.process.pid}) is gone")
        return str(json.loads(answer)["reply"])


class Supervisor:
    """Starts, watches, reconfigures and stops the workers of one ``serve``."""

    def __init__(
        self,
        node: MomentumNode,
        count: int,
        worker_command: list[str],
        announce: Callable[[str], None],
    ) -> None:
        self.node = node
        self.count = count
        self._command = worker_command
        self._announce = announce
        self._workers: dict[int, _Worker] = {}
        self._processes: set[asyncio.subprocess.Process] = set()  # started, not yet reaped
        self._stopping = False
        self.shared: dict[str, str] = {}

    def _log(self, message: str) -> None:
        if self.node.paniclog is not None:
            self.node.paniclog.warn(message)

    async def _start_worker(self, index: int) -> _Worker:
        ours, theirs = socket.socketpair()
        spec = json.dumps({"fd": theirs.fileno(), "shared": self.shared})
        process = await asyncio.create_subprocess_exec(
            *self._command, "--worker-spec", spec, pass_fds=(theirs.fileno(),),
            start_new_session=True,  # a terminal's SIGINT reaches the supervisor only
        )
        theirs.close()
        self._processes.add(process)
        process_done = asyncio.get_running_loop().create_task(process.wait())
        process_done.add_done_callback(lambda _: self._processes.discard(process))
        reader, writer = await asyncio.open_connection(sock=ours)
        ready = await reader.readline()
        if not ready:
            code = await process.wait()
            raise WorkersError(f"worker {index} exited with status {code} before serving")
        worker = _Worker(index, process, reader, writer)
        self._workers[index] = worker
        asyncio.get_running_loop().create_task(self._watch(worker))
        return worker

    async def _watch(self, worker: _Worker) -> None:
        """A worker that exits while the node serves is logged and replaced."""
        code = await worker.process.wait()
        worker.writer.close()
        if self._stopping or self._workers.get(worker.index) is not worker:
            return
        self._log(
            f"serve: worker {worker.index} (pid {worker.process.pid}) exited with status "
            f"{code}; restarting it"
        )
        await asyncio.sleep(RESTART_DELAY)
        if not self._stopping:
            try:
                await self._start_worker(worker.index)
            except (OSError, WorkersError) as error:
                self._log(f"serve: worker {worker.index} could not be restarted: {error}")

    async def run_console(self, line: str) -> str:
        """A console line in the supervisor; one that made a new generation there is run
        by every worker too (their failures are added to the reply)."""
        before = self.node.generation.number if self.node.generation else None
        reply = await self.node.run_console(line)
        after = self.node.generation.number if self.node.generation else None
        if after != before:
            for worker in list(self._workers.values()):
                try:
                    answer = await worker.run(line)
                except (OSError, ConnectionError) as error:
                    reply += f"worker {worker.index}: {error}\n"
                    continue
                if answer.startswith("Reconfigure failed"):
                    reply += f"worker {worker.index}: {answer}"
        return reply

    async def serve(self) -> None:
        """Reserve the addresses, start the workers, serve the console until SIGTERM or
        SIGINT (or ``shutdown``), then stop the workers."""
        node = self.node
        self.shared, reserved = reserve_addresses(node)
        stop = node._stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        if node.generation is not None:
            node.generation.lua.msys_async.start()
        try:
            for index in range(self.count):
                await self._start_worker(index)
            for address, concrete in self.shared.items():
                host, _, port = concrete.rpartition(":")
                self._announce(
                    f"HTTP_Listener {address!r}: listening on http://{host}:{port} "
                    f"({self.count} workers)"
                )
            if not self.shared:
                self._announce("no enabled HTTP_Listener Listen scope; nothing to serve")
            for control in await node.start_control_listeners(self.run_console):
                for bound in control.bound_addresses:
                    shown = bound if isinstance(bound, str) else f"{bound[0]}:{bound[1]}"
                    self._announce(f"Control_Listener {control.address!r}: listening on {shown}")
            await stop.wait()
        finally:
            await self._stop_workers()
            await node.close_listeners()
            for sock in reserved:
                sock.close()

    async def _stop_workers(self) -> None:
        """SIGTERM every worker, a starting one included; SIGKILL what outlives the grace."""
        self._stopping = True
        processes = list(self._processes)
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), STOP_GRACE)
            except TimeoutError:
                process.kill()
                await process.wait()
        for worker in self._workers.values():
            worker.writer.close()


class WorkerChannel:
    """The worker's end of the link (``node.WorkerLink``), from ``--worker-spec``."""

    def __init__(self, spec: str) -> None:
        parsed = json.loads(spec)
        self._fd = int(parsed["fd"])
        self.shared: dict[str, str] = dict(parsed["shared"])

    async def serve(
        self, run_console: Callable[[str], Awaitable[str]], stop: asyncio.Event
    ) -> None:
        reader, writer = await asyncio.open_connection(sock=socket.socket(fileno=self._fd))
        writer.write(b'{"ready": true}\n')
        await writer.drain()
        stopped = asyncio.ensure_future(stop.wait())
        try:
            while True:
                reading = asyncio.ensure_future(reader.readline())
                await asyncio.wait([reading, stopped], return_when=asyncio.FIRST_COMPLETED)
                if stopped.done():
                    reading.cancel()
                    return
                request = reading.result()
                if not request:  # the supervisor is gone: stop serving
                    return
                reply = await run_console(str(json.loads(request)["line"]))
                writer.write(json.dumps({"reply": reply}).encode() + b"\n")
                await writer.drain()
        finally:
            stopped.cancel()
            writer.close()


def worker_command(config_path: str, http_parser: str, access_log: str | None) -> list[str]:
    """The command line of one worker: ``serve`` on the same configuration, parser and
    access log (each worker appends its own lines)."""
    log = ["--access-log", access_log] if access_log else []
    return [sys.executable, "-m", "momentum_httpsrv.cli", "serve", "-c", config_path,
            "--http-parser", http_parser, *log]


__all__ = ["Supervisor", "WorkerChannel", "WorkersError", "reserve_addresses", "worker_command"]
