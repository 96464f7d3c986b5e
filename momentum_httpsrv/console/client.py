"""The ``ec_console`` client: batch mode (command words, or commands on a non-TTY stdin) and
interactive mode (banner, ``HH:MM:SS ENDPOINT>`` prompt, readline editing, history and
completion of command names taken from ``help``)."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterable
from typing import TextIO

from .protocol import BlockingConnection, CommandSyntaxError, ProtocolError
from .server import DEFAULT_CONTROL_SOCKET

CONNECT_TIMEOUT = 10.0
LEAVE_WORDS = ("quit", "exit")


class EndpointError(ValueError):
    """An ENDPOINT that is not a socket path, ``host:port`` or ``[v6]:port``."""


def connect(endpoint: str = DEFAULT_CONTROL_SOCKET) -> BlockingConnection:
    """Open a connection to a control listener (OSError if nothing answers there).

    A path (``/tmp/2025``, ``ctl.sock``, ``run/ctl.sock``) is a Unix socket: anything with
    a ``/`` or without a ``:`` cannot be ``host:port``.
    """
    if endpoint.startswith(".") or "/" in endpoint or ":" not in endpoint:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(CONNECT_TIMEOUT)
            sock.connect(endpoint)
        except OSError:
            sock.close()
            raise
    else:
        host, port = split_host_port(endpoint)
        sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
    sock.settimeout(None)  # a command may take as long as it takes
    return BlockingConnection(sock)


def split_host_port(endpoint: str) -> tuple[str, int]:
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise EndpointError(
            f"endpoint {endpoint!r}: use a socket path, host:port or [ipv6]:port"
        )
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def command_line(words: list[str]) -> str:
    """The console line for ``ec_console ENDPOINT WORD…``, as a user means it at a shell.

    One argument is the whole line (``ec_console sock "config reload"``). Several are joined
    with spaces, as typed; a word with whitespace but no quotes (a shell-quoted argument,
    ``delay_domain "my domain"``) is quoted so it stays one argument, while a word that
    carries its own quotes (Lua for ``scriptlet eval 'print("a b")'``) is sent as it is.
    """
    if len(words) == 1:
        return words[0]
    return " ".join(
        f'"{word}"' if any(c.isspace() for c in word) and '"' not in word else word
        for word in words
    )


def _write(out: TextIO, reply: str) -> None:
    data = reply.encode("latin-1", "replace")
    if data and not data.endswith(b"\n"):
        data += b"\n"
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        out.flush()
        buffer.write(data)
        buffer.flush()
    else:
        out.write(data.decode("latin-1"))


def run_batch(endpoint: str, lines: Iterable[str], out: TextIO = sys.stdout) -> int:
    """Send each command, print each reply; 0, or 1 on a transport error."""
    try:
        connection = connect(endpoint)
    except (OSError, EndpointError) as error:
        print(f"ec_console: cannot connect to {endpoint}: {error}", file=sys.stderr)
        return 1
    try:
        for line in lines:
            line = line.rstrip("\r\n")
            if line.strip() in LEAVE_WORDS:
                break
            if not line.strip():
                continue
            _write(out, connection.request(line))
    except (OSError, ProtocolError) as error:
        print(f"ec_console: {endpoint}: {error}", file=sys.stderr)
        return 1
    except CommandSyntaxError as error:
        print(f"ec_console: {error}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    return 0


class CommandCompleter:
    """readline completion of command names, word by word (``config`` → ``reload``…)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = [name.split() for name in names]
        self._matches: list[str] = []

    def candidates(self, before: str, text: str) -> list[str]:
        typed = before.split()
        return sorted(
            {
                words[len(typed)] + " "
                for words in self.names
                if len(words) > len(typed)
                and words[: len(typed)] == typed
                and words[len(typed)].startswith(text)
            }
        )

    def complete(self, text: str, state: int) -> str | None:
        if state == 0:
            import readline

            line = readline.get_line_buffer()
            before = line[: readline.get_begidx()]
            self._matches = self.candidates(before, text)
        return self._matches[state] if state < len(self._matches) else None


def help_command_names(help_reply: str) -> list[str]:
    """Command names from ``help``: each indented line, up to the two-space gap."""
    names = []
    for line in help_reply.splitlines():
        if line.startswith("  "):
            names.append(line.strip().split("  ", 1)[0])
    return names


def run_interactive(endpoint: str) -> int:
    """The interactive console; returns the exit status."""
    import readline

    try:
        connection = connect(endpoint)
        _write(sys.stdout, connection.request("version"))
        completer = CommandCompleter(help_command_names(connection.request("help")))
    except (OSError, EndpointError, ProtocolError) as error:
        print(f"ec_console: cannot connect to {endpoint}: {error}", file=sys.stderr)
        return 1
    readline.set_completer(completer.complete)
    readline.set_completer_delims(" \t")
    readline.parse_and_bind("tab: complete")
    try:
        while True:
            try:
                line = input(f"{time.strftime('%H:%M:%S')} {endpoint}> ")
            except EOFError:
                print()
                return 0
            except KeyboardInterrupt:
                print()
                continue
            if line.strip() in LEAVE_WORDS:
                return 0
            if not line.strip():
                continue
            try:
                reply = connection.request(line)
            except CommandSyntaxError as error:
                print(f"ec_console: {error}", file=sys.stderr)
                continue
            except (OSError, ProtocolError):
                connection.close()  # idle timeout on the server: reconnect once
                try:
                    connection = connect(endpoint)
                    reply = connection.request(line)
                except (OSError, ProtocolError) as error:
                    print(f"ec_console: {endpoint}: {error}", file=sys.stderr)
                    return 1
            _write(sys.stdout, reply)
    finally:
        connection.close()


def main(endpoint: str, command: Iterable[str]) -> int:
    """``ec_console [ENDPOINT [COMMAND…]]``: batch with a command or a non-TTY stdin."""
    words = list(command)
    if words:
        return run_batch(endpoint, [command_line(words)])
    if sys.stdin.isatty():
        return run_interactive(endpoint)
    return run_batch(endpoint, sys.stdin)
