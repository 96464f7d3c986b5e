"""An in-process client: requests go through a node's pipeline with no sockets, so a
Momentum site can be tested in pytest exactly as it is served."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from ..generation import GenerationError
from ..httpsrv.requests import Request
from ..httpsrv.responses import Response
from ..lua.errors import LuaScriptError, script_text
from ..node import MomentumNode


class MomentumTestClient:
    """Start a configuration and send it requests; ``close()`` runs ``deinit``.
    ``paniclog_path`` overrides where the configuration puts the paniclog.

    Requests run on one event loop kept for the client's life, as ``serve`` runs them on
    one loop: connections a script's datasources and HTTP client open are reused."""

    def __init__(self, config_path: Path | str, paniclog_path: Path | None = None) -> None:
        self.node = MomentumNode(config_path, paniclog_path=paniclog_path)
        try:
            self.node.start()
        except GenerationError as error:  # its message as the script wrote it
            self.node.stop()
            raise GenerationError(script_text(str(error))) from error
        except LuaScriptError as error:
            self.node.stop()
            raise LuaScriptError(
                script_text(error.message), error.traceback and script_text(error.traceback)
            ) from error
        except BaseException:
            self.node.stop()
            raise
        self._loop = asyncio.new_event_loop()

    def request(
        self,
        method: str,
        target: str,
        body: bytes | str = b"",
        headers: Iterable[tuple[str, str]] = (),
    ) -> Response:
        if isinstance(body, str):
            body = body.encode()
        header_list = [("Host", "localhost"), *headers]
        if body:
            header_list.append(("Content-Length", str(len(body))))
        request = Request(method, target, "1.1", header_list, body)
        return self._loop.run_until_complete(self.node.handle(request))

    def get(self, target: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
        return self.request("GET", target, headers=headers)

    def post(
        self, target: str, body: bytes | str = b"", headers: Iterable[tuple[str, str]] = ()
    ) -> Response:
        return self.request("POST", target, body, headers)

    def console(self, line: str) -> str:
        """A console command's reply, as the script wrote it."""
        return script_text(self._loop.run_until_complete(self.node.run_console(line)))

    @property
    def paniclog(self) -> str:
        assert self.node.paniclog is not None
        return self.node.paniclog.text()

    def close(self) -> None:
        self.node.stop()
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def __enter__(self) -> MomentumTestClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
