"""``Control_Listener``: the server side of the console channel (framing in protocol.py).

Each client connection is its own task running one command at a time, so a slow command
(a Lua command in ``msys.sleep``) holds up only its own client, never the HTTP listener
or other consoles.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..config import ConfigScope, Configuration, ConfigValueError
from ..netlistener import (
    ListenSocket,
    NetListenerError,
    configured_listen_address,
    set_in_scope_or_above,
)
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
    """Every enabled ``Control_Listener`` ``Listen``, its options resolved with Momentum's
    fallback (Listen, Control_Listener, defaults). A Control_Listener with no Listen listens on
    ``/tmp/2025``. Bad values and addresses are ConfigValueErrors at their location, and so is
    a TCP address other than loopback: this console has no authentication and runs Lua
    (``scriptlet eval``), so it must not be reachable from other hosts."""
    specs = []
    for control in config.root.scopes("Control_Listener"):
        if not control.get_bool("enable", True):
            continue
        listens = control.scopes("Listen")
        if not listens:
            specs.append(_spec(config, control, DEFAULT_CONTROL_SOCKET))
        for listen in listens:
            if listen.get_bool("enable", True):
                specs.append(_spec(config, listen, listen.name or ""))
    return specs


def _spec(config: Configuration, scope: ConfigScope, address: str) -> ControlListenSpec:
    where = configured_listen_address(scope, address)
    if where.host is not None and not ipaddress.ip_address(where.host).is_loopback:
        raise ConfigValueError(
            scope.location,
            f"Control_Listener {address!r}: the console has no authentication here; listen on "
            "a Unix socket or a loopback address (127.0.0.1, [::1])",
        )
    timeout = config.lookup(scope.path, "timeout")
    # The issue fixes 0600 for the console socket; the options summary's 0660 is the
    # default for listeners in general, so only a File_Mode actually written counts.
    file_mode = config.lookup(scope.path, "file_mode")
    return ControlListenSpec(
        address,
        timeout.as_float() if timeout is not None else 60.0,
        file_mode.as_int()
        if file_mode is not None and set_in_scope_or_above(scope, "file_mode") else 0o600,
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
