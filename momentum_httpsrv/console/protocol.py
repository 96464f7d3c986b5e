"""The control channel's wire framing and command-line tokenizing.

Momentum's own console protocol is not public (docs/emulation.md#console), so this is ours:

* the client sends one command as one line of bytes ending in ``\\n`` (a trailing ``\\r`` is
  dropped); lines longer than ``MAX_COMMAND_BYTES`` are refused and the connection closed;
* the server answers every command with a header line ``<length>\\n`` (decimal byte count)
  followed by exactly that many reply bytes, then waits for the next command;
* either side may close the connection between commands; the server closes it after
  ``Timeout`` idle seconds.

Bytes are Latin-1 text on both sides (one character per byte), like Lua strings.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

MAX_COMMAND_BYTES = 64 * 1024
MAX_REPLY_HEADER_BYTES = 20


class ProtocolError(Exception):
    """The peer broke the framing (bad header, oversized line, early close)."""


class CommandSyntaxError(ValueError):
    """A command line that cannot be split into words (an unterminated quote)."""


@dataclass(frozen=True)
class Word:
    """One word of a command line and where it started (``config set`` keeps the raw rest)."""

    text: str
    start: int


def split_command(line: str) -> list[Word]:
    """Split on whitespace; double quotes group words and are stripped (``"a b"c`` → ``a bc``).

    Inside quotes, ``\\"`` and ``\\\\`` stand for a quote and a backslash.
    """
    words: list[Word] = []
    index, length = 0, len(line)
    while index < length:
        if line[index].isspace():
            index += 1
            continue
        start, parts = index, []
        while index < length and not line[index].isspace():
            if line[index] != '"':
                parts.append(line[index])
                index += 1
                continue
            index += 1
            while True:
                if index >= length:
                    raise CommandSyntaxError(f"unterminated quote starting at column {start + 1}")
                char = line[index]
                if char == '"':
                    index += 1
                    break
                if char == "\\" and index + 1 < length and line[index + 1] in '"\\':
                    index += 1
                    char = line[index]
                parts.append(char)
                index += 1
        words.append(Word("".join(parts), start))
    return words


def wire_text(text: str) -> str:
    """A reply's text as the wire (and a Lua string) carries it: Latin-1, any other
    character as ``?``."""
    return text.encode("latin-1", "replace").decode("latin-1")


def encode_reply(text: str) -> bytes:
    """A reply as it goes on the wire: header line, then the Latin-1 bytes."""
    body = wire_text(text).encode("latin-1")
    return b"%d\n" % len(body) + body


def encode_command(line: str) -> bytes:
    if "\n" in line:
        raise CommandSyntaxError("a command cannot contain a newline")
    data = line.encode("latin-1", "replace") + b"\n"
    if len(data) > MAX_COMMAND_BYTES:
        raise CommandSyntaxError(f"command longer than {MAX_COMMAND_BYTES} bytes")
    return data


async def read_command(reader: asyncio.StreamReader) -> str | None:
    """The next command line, or None when the client closed between commands."""
    try:
        raw = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as error:
        if error.partial:
            raise ProtocolError("connection closed in the middle of a command") from None
        return None
    except asyncio.LimitOverrunError:
        raise ProtocolError(f"command longer than {MAX_COMMAND_BYTES} bytes") from None
    return raw[:-1].rstrip(b"\r").decode("latin-1")


class BlockingConnection:
    """A client connection with blocking sockets (the CLI has no event loop to run)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def request(self, line: str) -> str:
        """Send one command and return the whole reply."""
        self._sock.sendall(encode_command(line))
        header = self._read_line()
        if not header.isdigit():
            raise ProtocolError(f"bad reply header {header[:MAX_REPLY_HEADER_BYTES]!r}")
        return self._read_exactly(int(header)).decode("latin-1")

    def _read_line(self) -> bytes:
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_REPLY_HEADER_BYTES:
                raise ProtocolError("reply header line too long")
            self._fill()
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _read_exactly(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._fill()
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _fill(self) -> None:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ProtocolError("the server closed the connection")
        self._buffer += chunk

    def close(self) -> None:
        self._sock.close()
