"""The Lua face of httpsrv: ``msys.httpsrv`` and ``session:<method>()`` over HttpSession.

Every session method call from Lua crosses into Python once, through ``call(name, sid,
…)``; the session is found by number, so no Python object is handed to Lua per request
(lupa pins such objects until Lua's GC runs). C return conventions become Lua ones here
(docs/lua-boundary.md#return-conventions): setters return the C integer, getters the
value or nil, getters with a status code the value or ``nil, errno``.
"""

from __future__ import annotations

import errno
import itertools
import math
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

from ..lua.auth_schemes import AuthSchemeError, LuaAuthSchemes
from ..lua.runtime import LuaScriptError, LuaState, as_tuple, lua_type_name
from .requests import Request
from .responses import ResponseSink
from .routing import EndpointRegistry, HandlerError
from .session import HttpSession, SessionHandover
from .wire import MOMENTUM_REASONS, standard_reason


class LuaArgumentError(Exception):
    """A session method got an argument of the wrong type (a Lua error for the script)."""


def _integer(value: object, position: int, method: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LuaArgumentError(
            f"bad argument #{position} to '{method}' (number expected, got {lua_type_name(value)})"
        )
    if not math.isfinite(value):
        raise LuaArgumentError(
            f"bad argument #{position} to '{method}' (number has no integer representation)"
        )
    return int(value)


@overload
def _text(value: object, position: int, method: str, optional: Literal[False] = False) -> str: ...
@overload
def _text(value: object, position: int, method: str, optional: bool) -> str | None: ...
def _text(value: object, position: int, method: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.14g}"  # Lua converts numbers to strings where strings are expected
    if not isinstance(value, str):
        raise LuaArgumentError(
            f"bad argument #{position} to '{method}' (string expected, got {lua_type_name(value)})"
        )
    return value


def _value_or_errno(rc_and_values: tuple) -> Any:
    """C ``(rc, value…)`` → Lua ``value…`` or ``nil, errno, message``."""
    rc, *values = rc_and_values
    if rc:
        return None, rc, os.strerror(rc)
    return values[0] if len(values) == 1 else tuple(values)


class LuaStream:
    """An IoSource over a Lua file or io_object that ``session:response_io`` queued: the
    object stays in session.lua under ``stream_id``; reads and the final close go
    through the main state's trampolines (never while a coroutine runs)."""

    __slots__ = ("_api", "_stream_id")

    def __init__(self, api: Any, stream_id: int) -> None:
        self._api: Any = api  # session.lua's table (a lupa value); None once closed
        self._stream_id = stream_id

    def read(self, size: int) -> bytes:
        if self._api is None:
            return b""
        chunk = self._api.stream_read(self._stream_id, size)
        if isinstance(chunk, tuple):  # nil, message from a failed read
            raise OSError(f"response_io: read failed: {chunk[1:]}")
        return chunk.encode("latin-1") if chunk else b""

    def close(self) -> None:
        if self._api is not None:
            api, self._api = self._api, None
            api.stream_close(self._stream_id)


def _status_helper(name: str) -> Callable[..., int]:
    def adapter(session: HttpSession, mimetype: object = None) -> int:
        return getattr(session, name)(_text(mimetype, 1, name, optional=True))

    return adapter


def _connection_parts(session: HttpSession) -> tuple:
    info = session.request_accept_construct_get()
    peer, local = info.peer or (None, None), info.local or (None, None)
    return (info.conn_id, info.listener, *peer, *local)


def _content_type_default(session: HttpSession, value: str) -> int:
    if session.has_response_header("Content-Type"):
        return 0
    return session.response_header_set("Content-Type", value)


def _url_parts(lua: Any, session: HttpSession) -> tuple:
    """The URL's fields; the query attributes as one flat key, value, … table (any number
    of them: Lua's stack would not take thousands of return values)."""
    url = session.request_url_get()
    attrs = None
    if url.attrs is not None:
        attrs = lua.table_from([item for pair in url.attrs for item in pair])
    return (
        url.url, url.path, url.scheme, url.user, url.password, url.host, url.port,
        url.raw_query, url.query, url.fragment, attrs,
    )


# session:<name>(…) → the HttpSession method, with Lua argument checks and returns.
LUA_SESSION_METHODS: dict[str, Callable[..., Any]] = {
    "request_header_get": lambda s, name=None: _value_or_errno(
        s.request_header_get(_text(name, 1, "request_header_get"))
    ),
    "request_content_type_get": lambda s: _value_or_errno(s.request_content_type_get()),
    "request_username_get": lambda s: s.request_username_get(),
    "request_subject_cn_get": lambda s: s.request_subject_cn_get(),
    "request_data_get_string": lambda s: _value_or_errno(
        (lambda rc, data: (rc, data.decode("latin-1")))(*s.request_data_get_string())
    ),
    "response_status_set": lambda s, code=None, message=None: s.response_status_set(
        _integer(code, 1, "response_status_set"),
        _text(message, 2, "response_status_set", optional=True),
    ),
    "response_status_set_std": lambda s, code=None, message=None, mimetype=None: (
        s.response_status_set_std(
            _integer(code, 1, "response_status_set_std"),
            _text(message, 2, "response_status_set_std", optional=True),
            _text(mimetype, 3, "response_status_set_std", optional=True),
        )
    ),
    "response_status_ok": _status_helper("response_status_ok"),
    "response_status_error": _status_helper("response_status_error"),
    "response_status_denied": _status_helper("response_status_denied"),
    "response_status_not_found": _status_helper("response_status_not_found"),
    "response_header_set": lambda s, name=None, value=None: s.response_header_set(
        _text(name, 1, "response_header_set"),
        _text(value, 2, "response_header_set", optional=True),
    ),
    "response_append": lambda s, data=None: s.response_append(
        _text(data, 1, "response_append").encode("latin-1")
    ),
}
# Reached only through the Lua methods that wrap them (request_url_get, response_io,
# response_flush).
_INTERNAL_CALLS: dict[str, Callable[..., Any]] = {
    "connection_parts": _connection_parts,
    "content_type_default": _content_type_default,
    "response_flush": lambda s, final=0: s.response_flush(
        0 if final in (None, False) else _integer(final, 1, "response_flush")
    ),
}


class HttpAuthSchemes:
    """The schemes scripts registered with msys.registerAuth, as the HTTP core's access
    check asks them (auth.AuthSchemes): their failures become HandlerError."""

    def __init__(self, schemes: LuaAuthSchemes) -> None:
        self._schemes = schemes

    def __contains__(self, scheme: str) -> bool:
        return scheme in self._schemes

    def authenticate(self, *arguments: Any) -> tuple[int, str | None]:
        """``LuaAuthSchemes.authenticate`` (scheme, filename, params, user, password)."""
        try:
            return self._schemes.authenticate(*arguments)
        except LuaScriptError as error:
            raise HandlerError(error.message, error.traceback) from error
        except AuthSchemeError as error:
            raise HandlerError(f"httpsrv: authentication: {error}") from error


@dataclass(frozen=True)
class LuaHandler:
    """A registered Lua function, run through the binding of the state it lives in. When
    the last reference goes (its registry was replaced), the binding queues its number
    and session.lua forgets the function."""

    binding: LuaHttpsrvBinding
    handler_id: int
    kind: str = "endpoint"  # or "auth" (register_auth)

    def __call__(self, session: HttpSession) -> tuple | None | Awaitable[object]:
        """An endpoint handler's return value is settled in Lua (DONE, or a warning); an
        auth function's values are its verdict and user name. A call that ended without
        suspending answers at once; one that suspended gives an awaitable."""
        try:
            begun = self.binding.begin(self.handler_id, session, self.kind != "auth")
        except LuaScriptError as error:
            raise HandlerError(error.message, error.traceback) from error
        if type(begun) is tuple:
            return begun if self.kind == "auth" else None
        return self._finish(begun)  # type: ignore[arg-type]

    def serve_plain(
        self, request: Request, sink: ResponseSink, closure: object
    ) -> tuple | SessionHandover:
        """An endpoint run without a session (dispatch.PlainHandler): the response
        session.lua kept, or the session the handler needed, handed over."""
        assert self.kind == "endpoint", "auth functions are asked through a session"
        begun = self.binding.begin_plain(self.handler_id, request, sink, closure)
        if type(begun) is SessionHandover and begun.pending is not None:
            return SessionHandover(begun.session, self._finish(begun.pending))
        return begun

    async def _finish(self, begun: Awaitable[object]) -> object:
        try:
            values = await begun
        except LuaScriptError as error:
            raise HandlerError(error.message, error.traceback) from error
        return values if self.kind == "auth" else None


def _reason_table(state: LuaState) -> object:
    """Reason phrases for session.lua: code → IANA phrase, and ``momentum`` → Momentum's
    helper phrases (the same tables session.py uses)."""
    phrases = {code: standard_reason(code) for code in range(200, 1000) if standard_reason(code)}
    table = state.lua.table_from(phrases)
    table.momentum = state.lua.table_from(MOMENTUM_REASONS)
    return table


class LuaHttpsrvBinding:
    """Installs ``msys.httpsrv`` and the session class into one Lua state.

    Handler functions live in a Lua id table (lua/boundary.py) under numbers; registries
    hold LuaHandler objects naming them. A collected LuaHandler retires its number; Lua
    forgets it when the next ``register`` returns or the next request starts."""

    def __init__(self, state: LuaState) -> None:
        self.state = state
        # sid → its session, or (request, sink, closure) until a host call needs one
        self.sessions: dict[int, HttpSession | tuple] = {}
        self.sessions_made = 0  # sessions made lazily for begin_plain's requests (tests)
        self._session_ids = itertools.count(1)
        self._handlers = state.boundary.id_table("httpsrv handler")
        # Where register() and register_auth() add now (a generation swaps them).
        self.registry = EndpointRegistry(warn=state.warn)
        self.auth_registry = EndpointRegistry(warn=state.warn)
        # msys.registerAuth: credential stores a listener's Auth*Parameters uri may name.
        self.auth_schemes = HttpAuthSchemes(LuaAuthSchemes(state))
        self._error_marker = state.lua.table()
        self._calls: dict[str, Callable[..., Any]] = {
            **LUA_SESSION_METHODS,
            **_INTERNAL_CALLS,
            "request_url_parts": lambda s: _url_parts(state.lua, s),
            "response_io_stream": lambda s, stream_id: s.response_io(
                LuaStream(self._api, int(stream_id)), 0
            ),
            "take_pending": lambda s, *response: s.adopt_response(*response),
        }
        host = state.lua.table_from(
            {
                "call": self._call,
                "register": state.boundary.host_function(self._register),
                "warn": state.warn,
            }
        )
        self._api: Any = state.run_package_lua(
            Path(__file__).with_name("session.lua"),
            host,
            self._error_marker,
            state.lua.table_from(sorted(LUA_SESSION_METHODS)),
            state.core_internals,
            state.api,
            state.msys_async.master_scheduler,
            _reason_table(state),
            self._handlers.lua_table,
        )
        # Looked up once: reading a field of a Lua table from Python is a crossing too.
        self._start_handler, self._end_session = self._api.start_handler, self._api.end_session
        self._take_pending = self._api.take_pending
        httpsrv = self._api.httpsrv
        for name in ("msys.httpsrv", "msys.extended.httpsrv"):
            state.preload(name, lambda: httpsrv)
        state.yield_services["drain_response"] = self._drain_response

    def registered_handlers(self) -> int:
        """How many handler functions Lua holds (leak checks)."""
        return self._handlers.count()

    def _session(self, sid: int) -> HttpSession | None:
        """The session of ``sid``, made now if its request began without one
        (``begin_plain``); None once the request has ended."""
        entry = self.sessions.get(sid)
        if type(entry) is tuple:
            entry = self.sessions[sid] = self._session_of(entry)
        return entry  # type: ignore[return-value]

    def _call(self, name: str, sid: int, *args: object) -> object:
        session = self._session(sid)
        if session is None:
            return self._error_marker, "session is no longer valid"
        try:
            return self._calls[name](session, *args)
        except LuaArgumentError as error:
            return self._error_marker, str(error)

    def _register(self, method: str | None, endpoint: str, handler_id: int, kind: str) -> tuple:
        """A host call: the errno of the registry for ``kind`` ("endpoint" or "auth"), and
        the retired handler numbers for session.lua to forget (a table), if any. The
        closure stays in session.lua (service_ctx_get reads it there)."""
        handler = LuaHandler(self, handler_id, kind)
        registry = self.auth_registry if kind == "auth" else self.registry
        rc = registry.register(method, endpoint, handler)
        if rc == 0:
            self._handlers.watch(handler, (handler_id,))
        return rc, self._handlers.retired()

    async def _drain_response(self, sid: int) -> tuple:
        """A handler's ``response_flush`` got EAGAIN: resume it once the client has taken
        enough of the output (0), or with EPIPE when it is gone."""
        session = self._session(sid)
        if session is None:
            return (errno.EPIPE,)
        return (await session.drain_output(),)

    async def run(self, handler_id: int, session: HttpSession, keep_response: bool) -> tuple:
        """Run one handler call to its end (it may suspend) and return what it returned
        (an auth function's verdict and user); a Lua error raises LuaScriptError after
        the session object has been invalidated. With ``keep_response`` (an endpoint)
        session.lua keeps the response until the handler ends or yields, and hands it
        over then (``HttpSession.adopt_response``)."""
        begun = self.begin(handler_id, session, keep_response)
        return begun if type(begun) is tuple else await begun  # type: ignore[misc]

    def begin(
        self, handler_id: int, session: HttpSession, keep_response: bool
    ) -> tuple | Awaitable[tuple]:
        """``run`` as far as it goes without waiting: a handler that ended without
        suspending and left no jobs running gives its values here, with no coroutine
        (docs/request-lifecycle.md#handlers); otherwise an awaitable finishes it."""
        self._handlers.release()
        sid = next(self._session_ids)
        self.sessions[sid] = session
        keep = keep_response and not session.peer_gone
        try:
            request = session.request
            task_id, result = self.state.begin_task(
                self._start_handler, handler_id, sid, keep, request.method, request.target
            )
        except BaseException:
            self._end(sid)
            raise
        if result[0] == "yield" or self.state.msys_async.has_jobs(task_id):
            return self._finish(task_id, result, sid, session, keep)
        try:
            values = self.state.task_result(result)
        finally:
            self._end(sid)
        if keep and values:
            session.adopt_response(*values)
            return ()
        return values

    def begin_plain(
        self, handler_id: int, request: Request, sink: ResponseSink, closure: object
    ) -> tuple | SessionHandover:
        """``begin`` for an endpoint with no session made up front
        (docs/lua-boundary.md#the-session-less-path): the handler's kept response
        (``HttpSession.adopt_response``'s arguments) when it ended without a host call
        that needed a session; otherwise that session, with the response adopted and an
        awaitable of the rest when the handler suspended or left jobs running. A Lua
        error is a HandlerError that carries the session, if one was made."""
        self._handlers.release()
        sid = next(self._session_ids)
        self.sessions[sid] = (request, sink, closure)
        keep = not sink.peer_gone
        try:
            task_id, result = self.state.begin_task(
                self._start_handler, handler_id, sid, keep, request.method, request.target
            )
            if result[0] == "yield" or self.state.msys_async.has_jobs(task_id):
                session = self._session(sid)
                assert session is not None
                return SessionHandover(
                    session, self._finish(task_id, result, sid, session, keep)
                )
            values = self.state.task_result(result)
        except LuaScriptError as error:
            entry = self.sessions.pop(sid, None)
            self._end_session(sid)
            session = entry if type(entry) is HttpSession else None
            raise HandlerError(error.message, error.traceback, session) from error
        except BaseException:
            self._end(sid)
            raise
        entry = self.sessions.pop(sid)
        self._end_session(sid)
        if type(entry) is tuple and values:
            return values
        session = self._session_of(entry)
        if values:
            session.adopt_response(*values)
        return SessionHandover(session, None)

    def _session_of(self, entry: HttpSession | tuple) -> HttpSession:
        if type(entry) is tuple:
            self.sessions_made += 1
            return HttpSession(*entry)
        return entry  # type: ignore[return-value]

    async def _finish(
        self, task_id: int, result: tuple, sid: int, session: HttpSession, keep: bool
    ) -> tuple:
        def suspended() -> None:
            if keep:
                response = as_tuple(self._take_pending(sid))
                if response[0] is not None:
                    session.adopt_response(*response)
            session.session_suspend()

        def resumed() -> None:
            session.session_resume(0)
            session.take_resume()

        try:
            # A yield suspends the session (docs/lua-boundary.md#tasks-and-suspension);
            # resuming re-enters the coroutine. Fire-and-forget runInPool jobs finish
            # before the response.
            try:
                values = await self.state.finish_task(task_id, result, suspended, resumed)
                if keep and values:
                    session.adopt_response(*values)
                    return ()
                return values
            finally:
                await self.state.msys_async.wait_jobs(task_id)
        finally:
            self._end(sid)

    def _end(self, sid: int) -> None:
        del self.sessions[sid]
        self._end_session(sid)


__all__ = ["LuaHandler", "LuaHttpsrvBinding", "LuaStream", "LUA_SESSION_METHODS"]
