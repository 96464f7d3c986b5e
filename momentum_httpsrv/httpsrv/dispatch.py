"""From a complete request to a complete response: the pipeline both the listener and
offline calls run (docs/request-lifecycle.md#dispatch)."""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from .auth import AccessControl
from .listener import Dispatch
from .protocol import (
    SERVER_ERROR_HEADERS,
    ListenerSettings,
    Reject,
    RequestFraming,
    check_request,
    reason_for,
)
from .requests import Request
from .responses import CollectingSink, Response, ResponseSink
from .routing import EndpointRegistry, HandlerError, Registration
from .session import (
    HANDLER_ASYNC,
    HANDLER_DONE,
    HttpSession,
    SessionHandover,
    plain_response_parts,
    respond_whole,
)
from .url import UrlParseError, plain_path
from .wire import MOMENTUM_REASONS

ErrorLog = Callable[[str, str | None], None]


class PlainHandler(Protocol):
    """What a handler offers to run without a session (``serve_plain``,
    docs/request-lifecycle.md#dispatch): given the request, its sink and the
    registration's closure, the whole response as ``HttpSession.adopt_response``'s
    arguments (status, reason, std message, body, header names and values), or a
    SessionHandover once it needed a session. A failure is a HandlerError (its
    ``session`` set if one was made)."""

    def __call__(
        self, request: Request, sink: ResponseSink, closure: object
    ) -> tuple | SessionHandover: ...
_OFFLINE_SETTINGS = ListenerSettings()


async def respond_offline(dispatch: Dispatch, request: Request) -> Response:
    """Run ``request`` through ``dispatch`` (the listener's kind: it answers at once, or
    gives a coroutine that finishes) with no socket and answer it as the listener would:
    a request the listener rejects gets its error response (Host may be missing: there
    is no connection), the response is framed by the listener's rules, and a dispatch
    that ends without a response is a 500."""
    checked = check_request(request, _OFFLINE_SETTINGS, host_required=False)
    if type(checked) is Reject:
        return _server_response(request, checked.status)
    assert type(checked) is RequestFraming
    sink = CollectingSink(request, keep_alive=checked.keep_alive)
    pending = dispatch(request, sink)
    if pending is not None:
        await pending
    if sink.response is None:
        return _server_response(request, 500)
    return sink.response


def _server_response(request: Request, status: int) -> Response:
    sink = CollectingSink(request, keep_alive=False)
    sink.start(status, reason_for(status), list(SERVER_ERROR_HEADERS), 0)
    sink.end()
    assert sink.response is not None
    return sink.response


class Dispatcher:
    """Find the first matching registration, run its handler, finish the response."""

    def __init__(
        self, registry: EndpointRegistry, log_error: ErrorLog, access: AccessControl | None = None
    ) -> None:
        self.registry = registry
        self._log_error = log_error
        # (endpoint, header) pairs whose overridden framing header was already reported.
        self._framing_warned: set[tuple[str, str]] = set()
        # docs/request-lifecycle.md#access-control-and-authentication; None: open.
        self.access = access
        self._admit = access.admit if access is not None and access.enforced else None
        # Requests answered by a plain handler with no session made (tests read it).
        self.plain_answers = 0

    async def __call__(self, request: Request, sink: ResponseSink) -> None:
        pending = self.start(request, sink)
        if pending is not None:
            await pending

    def start(self, request: Request, sink: ResponseSink) -> Coroutine[Any, Any, None] | None:
        """Serve ``request`` as far as it goes without waiting: None when its response is
        complete (or failed), else a coroutine that finishes it. The listener calls this
        inside its protocol callback, so a handler that does not suspend is answered
        there with no coroutine at all (docs/request-lifecycle.md#dispatch)."""
        if self._admit is None:
            path = plain_path(request.target)
            if path is not None:
                registration = self.registry.match(request.method, path)
                if registration is not None:
                    serve_plain = getattr(registration.handler, "serve_plain", None)
                    if serve_plain is not None:
                        return self._serve_plain(serve_plain, registration, request, sink)
        session = HttpSession(request, sink)
        try:
            path = plain_path(request.target) or session.url.path
        except UrlParseError:
            # Without the target: one line for a stream of them (the paniclog counts).
            self._log_error("httpsrv: answered 400 to a request-target ec_parse_url rejects", None)
            # No handler is involved: answer like the listener's own 400s (plain text,
            # the connection closes; a Connection: close header is the sink's signal).
            sink.start(400, reason_for(400), [*SERVER_ERROR_HEADERS, ("Connection", "close")], 0)
            sink.end()
            return None
        if self._admit is not None:
            return self._admit_then_serve(session, sink, path)
        return self._serve(session, path)

    async def _admit_then_serve(self, session: HttpSession, sink: ResponseSink, path: str) -> None:
        assert self._admit is not None
        if not await self._admit(session, sink, path):
            return
        pending = self._serve(session, path)
        if pending is not None:
            await pending

    def _serve(self, session: HttpSession, path: str) -> Coroutine[Any, Any, None] | None:
        request = session.request
        registration = self.registry.match(request.method, path)
        if registration is None:
            session.response_status_set(404, MOMENTUM_REASONS[404])
            session.response_header_set("Content-Type", "text/plain")
            return None if session.complete_now() else session.complete()
        session.service_closure = registration.closure
        try:
            result = registration.handler(session)
        except Exception as error:  # a bug in a handler must not stop the server
            self._handler_failed(session, error)
            return None
        return self._handler_returned(registration, session, result)

    def _serve_plain(
        self, serve_plain: PlainHandler, registration: Registration, request: Request,
        sink: ResponseSink,
    ) -> Coroutine[Any, Any, None] | None:
        """The session-less path (docs/request-lifecycle.md#dispatch): the handler's
        binding runs it on the request alone and answers with the whole response, or
        hands over the session it had to make (a host method, a suspension)."""
        try:
            outcome = serve_plain(request, sink, registration.closure)
        except Exception as error:  # a bug in a handler must not stop the server
            session = error.session if isinstance(error, HandlerError) else None
            self._handler_failed(session or HttpSession(request, sink), error)
            return None
        if type(outcome) is SessionHandover:
            return self._handler_returned(registration, outcome.session, outcome.pending)
        assert type(outcome) is tuple
        self.plain_answers += 1
        status, reason, headers, body = plain_response_parts(outcome)
        try:
            ignored = respond_whole(sink, status, reason, headers, body)
        except Exception as error:  # what the sink refused (HttpSession.complete_now's case)
            self._handler_failed(None, error)
            sink.abort()
            return None
        if ignored:
            self._warn_framing_once(registration, ignored)
        return None

    def _handler_returned(
        self, registration: Registration, session: HttpSession, result: object
    ) -> Coroutine[Any, Any, None] | None:
        """``_serve`` once the handler's first call returned ``result``."""
        try:
            if inspect.isawaitable(result) or result == HANDLER_ASYNC:
                return self._serve_async(registration, session, result)
            self._check_done(result)
            if not session.complete_now():
                return self._serve_async(registration, session, HANDLER_DONE)
        except Exception as error:  # a bug in a handler must not stop the server
            self._handler_failed(session, error)
            return None
        if session.ignored_framing_headers:
            self._warn_framing_once(registration, session.ignored_framing_headers)
        return None

    async def _serve_async(
        self, registration: Registration, session: HttpSession, result: object
    ) -> None:
        """``_serve`` once the handler suspended or its output streams."""
        try:
            finished = await self._run_handler(registration.handler, session, result)
            if finished:
                await session.complete()
        except Exception as error:  # a bug in a handler must not stop the server
            self._handler_failed(session, error)
            return
        if session.ignored_framing_headers:
            self._warn_framing_once(registration, session.ignored_framing_headers)

    def _handler_failed(self, session: HttpSession | None, error: Exception) -> None:
        if isinstance(error, HandlerError):
            self._log_error(error.message, error.traceback)
        else:
            self._log_error(f"httpsrv: handler raised {error!r}", traceback.format_exc())
        if session is not None:
            session.fail()

    def _warn_framing_once(self, registration: Registration, names: list[str]) -> None:
        """A handler's framing headers are overridden, with one warning per endpoint and
        header name (docs/request-lifecycle.md#framing-and-server-owned-headers)."""
        endpoint = registration.describe()
        new = [name for name in names if (endpoint, name.lower()) not in self._framing_warned]
        if not new:
            return
        self._framing_warned.update((endpoint, name.lower()) for name in new)
        self.registry.warn(
            f"httpsrv: {endpoint}: the server owns framing headers; "
            f"ignored {', '.join(new)} (reported once)"
        )

    async def _run_handler(self, handler, session: HttpSession, result: object) -> bool:
        """Call the handler until it is DONE (docs/request-lifecycle.md#handlers), from
        what its first call gave: ASYNC after ``session_suspend`` waits for
        ``session_resume``; resume(0) calls it again, resume(finished) ends it. Returns
        False when the session already failed."""
        while True:
            if inspect.isawaitable(result):
                result = await result
            if result != HANDLER_ASYNC:
                self._check_done(result)
                return True
            if not session.suspended:
                self._log_error("httpsrv: handler returned ASYNC without session_suspend", None)
                session.fail()
                return False
            if await session.wait_resumed():
                return True
            result = handler(session)

    def _check_done(self, result: object) -> None:
        if result not in (None, HANDLER_DONE):
            self._log_error(f"httpsrv: handler returned {result!r}; taken as DONE", None)
