"""The server socket of one ``Listen`` address, as HTTP_Listener and Control_Listener
share it (Momentum calls both netlisteners): TCP or a Unix-domain socket whose stale file
is replaced and whose mode is ``File_Mode``, and which is removed again on close."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import stat
from collections.abc import Callable

from .config import ConfigScope, ConfigValueError
from .listen_address import ListenAddress, ListenAddressError, parse_listen_address


class NetListenerError(Exception):
    """A listener could not start: bad address, port in use, socket path taken."""

    kind = "listener"

    def __init__(self, address: str, message: str) -> None:
        super().__init__(f"{self.kind} {address!r}: {message}")
        self.address = address


def configured_listen_address(scope: ConfigScope, address: str | None = None) -> ListenAddress:
    """The address of a ``Listen`` scope (or ``address`` given for it), checked when the
    configuration is applied so that ``check`` reports it at its ``file:line:col``."""
    text = scope.name if address is None else address
    try:
        return parse_listen_address(text or "")
    except ListenAddressError as error:
        raise ConfigValueError(scope.location, f"{scope.kind} {text!r}: {error}") from None


def set_in_scope_or_above(scope: ConfigScope, name: str) -> bool:
    """Whether the configuration itself sets ``name`` for ``scope`` (not a default)."""
    current: ConfigScope | None = scope
    while current is not None:
        if current.option(name) is not None:
            return True
        current = current.parent
    return False


class ListenSocket:
    """A bound, accepting server for one Listen address."""

    def __init__(self, address: str, server: asyncio.Server, unix_path: str | None):
        self.address = address
        self._server = server
        self._unix_path = unix_path

    @classmethod
    async def bind(
        cls,
        address: str,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        *,
        backlog: int = 500,
        file_mode: int = 0o660,
        error: type[NetListenerError] = NetListenerError,
        ssl_context: ssl.SSLContext | None = None,
        handshake_timeout: float | None = None,
        reuse_port: bool = False,
    ) -> ListenSocket:
        """Bind ``address``; failures raise ``error`` naming the address. With
        ``ssl_context`` every connection starts with a TLS handshake; the protocol sees
        only connections whose handshake succeeded within ``handshake_timeout``. With
        ``reuse_port`` (TCP) several processes share the address (SO_REUSEPORT)."""
        try:
            where = parse_listen_address(address)
        except ListenAddressError as exc:
            raise error(address, str(exc)) from None
        loop = asyncio.get_running_loop()
        # asyncio refuses a handshake timeout without TLS.
        tls_timeout = None if ssl_context is None else handshake_timeout
        try:
            if where.path is not None:
                _remove_stale_socket(address, where.path, error)
                server = await loop.create_unix_server(
                    protocol_factory, where.path, backlog=backlog, ssl=ssl_context,
                    ssl_handshake_timeout=tls_timeout,
                )
                os.chmod(where.path, file_mode)
            else:
                server = await loop.create_server(
                    protocol_factory, where.host, where.port, family=where.family,
                    backlog=backlog, reuse_address=True, reuse_port=reuse_port or None,
                    ssl=ssl_context, ssl_handshake_timeout=tls_timeout,
                )
        except OSError as exc:
            raise error(address, exc.strerror or str(exc)) from exc
        return cls(address, server, where.path)

    @property
    def bound_addresses(self) -> list[tuple[str, int] | str]:
        """What the sockets are actually bound to: (host, port) pairs or a Unix path."""
        names = [sock.getsockname() for sock in self._server.sockets]
        return [name if isinstance(name, str) else (name[0], name[1]) for name in names]

    def stop_accepting(self) -> None:
        self._server.close()

    async def close(self) -> None:
        """Stop accepting, wait for the server to close, remove the socket file."""
        self._server.close()
        await self._server.wait_closed()
        if self._unix_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._unix_path)
            self._unix_path = None


def _remove_stale_socket(address: str, path: str, error: type[NetListenerError]) -> None:
    """Remove a socket file left by a dead server; refuse a live one or a non-socket."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise error(address, f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)
        return
    finally:
        probe.close()
    raise error(address, f"another server is listening on {path}")
