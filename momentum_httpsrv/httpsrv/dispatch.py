"""From a complete request to a complete response: the pipeline both the listener and
offline calls run (httpsrv.md §1.2 steps 8–11)."""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable

from ..lua.runtime import LuaScriptError
from .auth import AccessControl
from .requests import Request
from .responses import MOMENTUM_REASONS, ResponseSink
from .routing import EndpointRegistry
from .session import HANDLER_ASYNC, HANDLER_DONE, HttpSession
from .url import UrlParseError

ErrorLog = Callable[[str, str | None], None]


class Dispatcher:
    """Find the first matching registration, run its handler, finish the response."""

    def __init__(
        self, registry: EndpointRegistry, log_error: ErrorLog, access: AccessControl | None = None
    ) -> None:
        self.registry = registry
        self._log_error = log_error
        self.access = access  # IP ACL and authentication (§1.2 steps 5, 7); None: open

    async def __call__(self, request: Request, sink: ResponseSink) -> None:
        session = HttpSession(request, sink)
        try:
            path = session.url.path
        except UrlParseError as error:
            session.response_status_set(400, "Bad Request")
            self._log_error(f"httpsrv: {error}", None)
            await session.complete()
            return
        if self.access is not None and not await self.access.admit(session, sink, path):
            return
        registration = self.registry.match(request.method, path)
        if registration is None:
            session.response_status_set(404, MOMENTUM_REASONS[404])
            session.response_header_set("Content-Type", "text/plain")
            await session.complete()
            return
        session.service_closure = registration.closure
        try:
            finished = await self._run_handler(registration.handler, session)
            if finished:
                await session.complete()
        except LuaScriptError as error:
            self._log_error(error.message, error.traceback)
            session.fail()
            return
        except Exception as error:  # a bug in a handler must not stop the server
            self._log_error(f"httpsrv: handler raised {error!r}", traceback.format_exc())
            session.fail()
            return
        if session.ignored_framing_headers:
            self._log_error(
                "httpsrv: the server owns framing headers; ignored "
                + ", ".join(session.ignored_framing_headers),
                None,
            )

    async def _run_handler(self, handler, session: HttpSession) -> bool:
        """Call the handler until it is DONE (httpsrv.md §6.1): ASYNC after
        ``session_suspend`` waits for ``session_resume``; resume(0) calls it again,
        resume(finished) ends it. Returns False when the session already failed."""
        while True:
            result = handler(session)
            if inspect.isawaitable(result):
                result = await result
            if result != HANDLER_ASYNC:
                if result not in (None, HANDLER_DONE):
                    self._log_error(f"httpsrv: handler returned {result!r}; taken as DONE", None)
                return True
            if not session.suspended:
                self._log_error("httpsrv: handler returned ASYNC without session_suspend", None)
                session.fail()
                return False
            if await session.wait_resumed():
                return True
