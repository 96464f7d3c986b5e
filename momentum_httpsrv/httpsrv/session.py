"""``ec_httpsrv_session``: the per-request API of Momentum's HTTP server (httpsrv.md §3).

Each method is one ``ec_httpsrv_*`` C function with the ``ec_httpsrv_`` prefix and the
``sess`` argument dropped (``ec_httpsrv_request_url_get(sess)`` → ``request_url_get()``),
which is also its Lua name (``session:request_url_get()``). C conventions are kept:
setters return 0 or an errno value; out-parameters become ``(rc, value…)`` tuples; NULL
becomes None. The Lua binding (``lua_binding.py``) adapts these to Lua return values.

Output model ([PROP] §3.G): writers append to a pending buffer; nothing reaches the
client before ``response_flush`` or completion. The head is committed by the first flush
(streamed framing) or at completion (Content-Length).
"""

from __future__ import annotations

import errno
import re

from .requests import Request
from .responses import MOMENTUM_REASONS, ResponseSink, standard_reason
from .url import UrlDetails, parse_url

# Headers the server owns; a handler's values are dropped at commit ([PROP] §1.4).
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def sanitise_reason(message: str) -> str:
    """Reason phrases may not carry CR, LF or other control characters ([PROP] §3.E)."""
    return _CONTROL_CHARS.sub(" ", message)


class HttpSession:
    """One request/response exchange, independent of any socket."""

    def __init__(self, request: Request, sink: ResponseSink, closure: object = None) -> None:
        self.request = request
        self._sink = sink
        self.service_closure = closure
        self._url: UrlDetails | None = None
        self.status = 200
        self.reason = "OK"
        self._std_message: str | None = None
        self._headers: list[tuple[str, str]] = []
        self._pending = bytearray()
        self._produced_body = False
        self.committed = False
        self.output_closed = False
        self.completed = False
        self.ignored_framing_headers: list[str] = []

    # -- request inspection (§3.C) --------------------------------------------------

    @property
    def url(self) -> UrlDetails:
        """Parsed lazily once; the dispatcher reads it first, so a bad target is a 400."""
        if self._url is None:
            self._url = parse_url(self.request.target)
        return self._url

    def request_url_get(self) -> UrlDetails:
        """ec_httpsrv_request_url_get: the parsed request URL, owned by the session."""
        return self.url

    def request_method_get(self) -> str:
        """ec_httpsrv_request_method_get: the method exactly as the client sent it."""
        return self.request.method

    def request_header_get(self, name: str) -> tuple[int, str | None]:
        """ec_httpsrv_request_header_get: first occurrence, case-insensitive; ENOENT if absent."""
        value = self.request.header(name)
        return (errno.ENOENT, None) if value is None else (0, value)

    # -- request payload (§3.D) -----------------------------------------------------

    def request_data_get_string(self) -> tuple[int, bytes]:
        """ec_httpsrv_request_data_get_string: the whole (de-chunked) payload."""
        return 0, self.request.body

    # -- response status (§3.E) -----------------------------------------------------

    def response_status_set(self, code: int, message: str | None) -> int:
        """ec_httpsrv_response_status_set: code and reason phrase; nothing else."""
        if self.committed:
            return errno.EALREADY
        if not 100 <= code <= 999:
            return errno.EINVAL
        self.status = code
        self.reason = sanitise_reason(message) if message is not None else standard_reason(code)
        self._std_message = None
        return 0

    def response_status_set_std(self, code: int, message: str | None, mimetype: str | None) -> int:
        """ec_httpsrv_response_status_set_std: status, optional Content-Type, and the message
        also becomes the body if the handler produces none (std_message_mode
        ``reason+body-if-empty``, the decision of httpsrv.md §0.4 item 1)."""
        rc = self.response_status_set(code, message)
        if rc:
            return rc
        self._std_message = message or None
        if mimetype is not None:
            return self.response_header_set("Content-Type", mimetype)
        return 0

    def response_status_ok(self, mimetype: str | None) -> int:
        """ec_httpsrv_response_status_ok: ``200 OK`` plus Content-Type."""
        return self._status_helper(200, mimetype)

    def response_status_error(self, mimetype: str | None) -> int:
        """ec_httpsrv_response_status_error: ``500 ERROR`` plus Content-Type."""
        return self._status_helper(500, mimetype)

    def response_status_denied(self, mimetype: str | None) -> int:
        """ec_httpsrv_response_status_denied: ``403 DENIED`` plus Content-Type."""
        return self._status_helper(403, mimetype)

    def response_status_not_found(self, mimetype: str | None) -> int:
        """ec_httpsrv_response_status_not_found: ``404 NOT FOUND`` plus Content-Type."""
        return self._status_helper(404, mimetype)

    def _status_helper(self, code: int, mimetype: str | None) -> int:
        rc = self.response_status_set_std(code, MOMENTUM_REASONS[code], mimetype)
        self._std_message = None  # the helpers' phrase is a status line, never a body
        return rc

    # -- response headers (§3.F) ----------------------------------------------------

    def response_header_set(self, name: str, value: str | None) -> int:
        """ec_httpsrv_response_header_set: replace-or-add; None removes; CR/LF refused."""
        if self.committed:
            return errno.EALREADY
        if not name or "\r" in name or "\n" in name or ":" in name:
            return errno.EINVAL
        if value is not None and ("\r" in value or "\n" in value):
            return errno.EINVAL
        wanted = name.lower()
        self._headers = [(k, v) for k, v in self._headers if k.lower() != wanted]
        if value is not None:
            self._headers.append((name, value))
        return 0

    # -- response body (§3.G) -------------------------------------------------------

    def response_append(self, data: bytes) -> int:
        """ec_httpsrv_response_append: add bytes to the pending output."""
        if self.output_closed:
            return errno.EALREADY
        if data:
            self._pending += data
            self._produced_body = True
        return 0

    def response_printf(self, fmt: str, *args: object) -> int:
        """ec_httpsrv_response_printf: C-style formatting, then append."""
        try:
            text = fmt % args if args else fmt
        except (TypeError, ValueError):
            return errno.EINVAL
        return self.response_append(text.encode("latin-1", "replace"))

    def response_flush(self, final: int = 0) -> int:
        """ec_httpsrv_response_flush: commit the head (streamed framing) and send what is
        pending; ``final`` ends the body, after which writers return EALREADY."""
        if self.output_closed:
            return errno.EALREADY
        if self._sink.peer_gone:
            return errno.EPIPE
        if not self.committed:
            self._commit(body_length=None)
        if self._pending:
            self._sink.write(bytes(self._pending))
            self._pending.clear()
        if final:
            self.output_closed = True
            self._sink.end()
        return 0

    # -- completion -----------------------------------------------------------------

    def complete(self) -> None:
        """The handler is DONE: send whatever has not been sent and end the response."""
        if self.completed:
            return
        self.completed = True
        if not self.committed:
            body = bytes(self._pending)
            if not self._produced_body and self._std_message:
                body = self._std_message.encode("latin-1")
            self._pending.clear()
            self._commit(body_length=len(body))
            if body:
                self._sink.write(body)
            self._sink.end()
        elif not self.output_closed:
            self.response_flush(1)

    def fail(self) -> None:
        """A handler error: ``500 ERROR`` if nothing went out yet; else the sink must cut the
        connection, because the status can no longer change (§1.3)."""
        self.completed = True
        if self.committed:
            self.output_closed = True
            self._sink.abort()
            return
        self._headers = [("Content-Type", "text/plain")]
        self.status, self.reason = 500, MOMENTUM_REASONS[500]
        self._commit(body_length=0)
        self._sink.end()

    def _commit(self, body_length: int | None) -> None:
        headers = []
        for name, value in self._headers:
            if name.lower() in FRAMING_HEADERS:
                self.ignored_framing_headers.append(name)
            else:
                headers.append((name, value))
        self.committed = True
        self._sink.start(self.status, self.reason, headers, body_length)
