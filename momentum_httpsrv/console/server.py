"""``Control_Listener``: the server side of the console channel (framing in protocol.py).

Each client connection is its own task running one command at a time, so a slow command
(a Lua command in ``msys.sleep``) holds up only its own client, never the HTTP listener
or other consoles.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..config import ConfigScope, Configuration
from ..netlistener import ListenSocket, NetListenerError
from .protocol import MAX_COMMAND_BYTES, ProtocolError, encode_reply, read_command

DEFAULT_CONTROL_SOCKET = "/tmp/2025"  # Momentum's default, and ec_console's
Execute = Callable[[str], Awaitable[str]]


class ControlListenerError(NetListenerError):
    """A control listener could not start (bad address, socket path taken, port in use)."""

    kind = "Control_Listener"


@dataclass(frozen=True)
class ControlListenSpec:
    """One ``Listen`` of a ``Control_Listener`` with its options resolved."""

    address: str
    timeout: float = 60.0  # idle seconds before the server closes a connection
    file_mode: int = 0o600  # of a Unix socket file


def control_listen_specs(config: Configuration) -> list[ControlListenSpec]:
    """Every enabled ``Control_Listener`` ``Listen``; options fall back from the Listen to its
    Control_Listener. A Control_Listener with no Listen listens on ``/tmp/2025``."""
    specs = []
    for control in config.root.scopes("Control_Listener"):
        if not control.get_bool("enable", True):
            continue
        listens = control.scopes("Listen")
        if not listens:
            specs.append(_spec(DEFAULT_CONTROL_SOCKET, [control]))
        for listen in listens:
            if listen.get_bool("enable", True):
                specs.append(_spec(listen.name or "", [listen, control]))
    return specs


def _spec(address: str, scopes: list[ConfigScope]) -> ControlListenSpec:
    def option(name: str, getter: str, default: object) -> object:
        for scope in scopes:
            if scope.option(name) is not None:
                return getattr(scope, getter)(name)
        return default

    return ControlListenSpec(
        address, option("timeout", "get_float", 60.0), option("file_mode", "get_int", 0o600)
    )


class ControlListener:
    """Accepts console clients on one address and runs their commands through ``execute``."""

    def __init__(self, spec: ControlListenSpec, execute: Execute) -> None:
        self.spec = spec
        self._execute = execute
        self._socket: ListenSocket | None = None
        self._clients: dict[asyncio.Task, bool] = {}  # task -> running a command now

    @property
    def address(self) -> str:
        return self.spec.address

    async def start(self) -> None:
        """Bind and accept; ControlListenerError names the address on failure."""

        def stream_protocol() -> asyncio.StreamReaderProtocol:
            reader = asyncio.StreamReader(limit=MAX_COMMAND_BYTES + 1)
            return asyncio.StreamReaderProtocol(reader, self._client)

        self._socket = await ListenSocket.bind(
            self.address, stream_protocol, file_mode=self.spec.file_mode,
            error=ControlListenerError,
        )

    @property
    def bound_addresses(self) -> list[tuple[str, int] | str]:
        return [] if self._socket is None else self._socket.bound_addresses

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients[task] = False
        try:
            while True:
                try:
                    line = await asyncio.wait_for(read_command(reader), self.spec.timeout)
                except (TimeoutError, ProtocolError, ConnectionError) as error:
                    if isinstance(error, ProtocolError):
                        writer.write(encode_reply(f"Protocol error: {error}\n"))
                    break
                if line is None or line.strip() in ("quit", "exit"):
                    break
                self._clients[task] = True
                reply = await self._execute(line)
                self._clients[task] = False
                writer.write(encode_reply(reply))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client went away, or close() ended the connection
        finally:
            del self._clients[task]
            writer.close()

    async def close(self, grace: float = 5.0) -> None:
        """Stop accepting; let commands being run finish (up to ``grace`` seconds), drop idle
        clients, and remove the socket file."""
        if self._socket is not None:
            self._socket.stop_accepting()
        busy = [task for task, running in self._clients.items() if running]
        for task, running in list(self._clients.items()):
            if not running:
                task.cancel()
        if busy:
            await asyncio.wait(busy, timeout=grace)
        remaining = list(self._clients)
        for task in remaining:
            task.cancel()
        if remaining:
            await asyncio.wait(remaining)
        if self._socket is not None:
            await self._socket.close()
            self._socket = None
