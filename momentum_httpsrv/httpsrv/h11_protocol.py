"""HTTP/1.1 parsing and serialising with h11 (``parser: h11``, the default).

h11 parses each request head and body and serialises each response; ``HttpProtocol``
adds what h11 leaves to the server (request-line and head limits, version, Host and
framing rules, Max_Request_Size, timeouts). One ``h11.Connection`` per request (about
1 µs): the head is only handed to h11 once the shared pre-scan has seen all of it and
applied the limits, so bytes of the next request never sit inside h11.
"""

from __future__ import annotations

import h11

from .protocol import (
    BodyFraming,
    HttpProtocol,
    Interim,
    ListenerSettings,
    Reject,
    ResponseError,
    _Marker,
    latin1,
)
from .requests import OFFLINE_CONNECTION, ConnectionInfo, Request

# A chunked body is handed to h11 in pieces of at most this size, so that what h11 has
# buffered beyond the body's end (the next request, returned to our buffer) stays small.
_CHUNKED_FEED = 16 * 1024


class H11Protocol(HttpProtocol):
    """HttpProtocol whose parsing and framing are done by h11.

    Differences from the httptools parser that the RFCs allow: HTTP/1.0 connections
    always close after one response (h11 has no 1.0 keep-alive); Transfer-Encoding is
    lower-cased; two Transfer-Encoding fields are answered 501 rather than 400; a chunk
    extension or folded trailer line is read and dropped whatever it holds.
    """

    __slots__ = ("_h11",)

    def __init__(
        self,
        settings: ListenerSettings,
        now: float,
        connection: ConnectionInfo = OFFLINE_CONNECTION,
    ) -> None:
        super().__init__(settings, now, connection)
        self._h11: h11.Connection | None = None

    def _parse_head(self, head: bytes) -> Request | Interim | Reject | _Marker:
        tunnel = head.startswith(b"CONNECT ")
        if tunnel:  # never a tunnel here: an ordinary request (h11 would switch protocols)
            head = b"GET" + head[7:]
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self.settings.max_head_size)
        conn.receive_data(head)
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            return self._fail(Reject(exc.error_status_hint, str(exc)))
        if type(event) is not h11.Request:  # the pre-scan saw a complete head
            return self._fail(Reject(400, "malformed request head"))
        self._h11 = conn
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in event.headers.raw_items()
        ]
        outcome = self._accept_head(
            "CONNECT" if tunnel else event.method.decode("latin-1"),
            event.target.decode("latin-1"),
            event.http_version.decode("latin-1"),
            headers,
        )
        if event.http_version == b"1.0":
            self.close_after_response()  # h11 closes every HTTP/1.0 connection
        return outcome

    def _read_body(self) -> Request | Interim | Reject | _Marker:
        conn = self._h11
        framing = self.framing
        assert conn is not None and framing is not None
        buf = self.buffer
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                return self._fail(Reject(400, f"malformed request body: {exc}"))
            kind = type(event)
            if isinstance(event, h11.Data):
                rejected = self._add_body(event.data)
                if rejected:
                    return rejected
            elif kind is h11.EndOfMessage:
                break
            elif not buf:
                return self._wait_for_body()
            elif framing.chunked:
                piece = buf[:_CHUNKED_FEED]
                del buf[:_CHUNKED_FEED]
                conn.receive_data(bytes(piece))
            else:
                size = min(len(buf), self.body_remaining)
                conn.receive_data(bytes(buf[:size]))
                del buf[:size]
                self.body_remaining -= size
        if framing.chunked:
            leftover = conn.trailing_data[0]
            if leftover:
                buf[:0] = leftover
        return self._request_complete()

    def _continue_response(self) -> bytes:
        assert self._h11 is not None
        return self._h11.send(
            h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")
        )

    def _write_head(
        self,
        status: int,
        reason: str,
        fields: list[tuple[str, str]],
        framing: BodyFraming,
        body_length: int | None,
    ) -> bytes:
        conn = self._h11
        if conn is None or not self.dispatched:  # a Reject: the request is abandoned
            conn = self._h11 = h11.Connection(h11.SERVER)
        headers = [(latin1(name), latin1(value)) for name, value in fields]
        if framing is BodyFraming.LENGTH:
            assert body_length is not None
            headers.append((b"Content-Length", b"%d" % body_length))
        elif framing is BodyFraming.UNFRAMED and not self.version_10:
            # h11 frames a streamed response to an HTTP/1.1 client as chunked; it leaves
            # the body unframed (close-delimited) only for a peer it takes for HTTP/1.0.
            conn.their_http_version = b"1.0"
        if not self.keep_alive:
            headers.append((b"Connection", b"close"))
        try:
            response = h11.Response(status_code=status, headers=headers, reason=latin1(reason))
            return conn.send(response)
        except h11.LocalProtocolError as exc:
            raise ResponseError(f"unusable response head: {exc}") from None

    def _frame(self, data: bytes) -> bytes:
        assert self._h11 is not None
        return self._h11.send(h11.Data(data=data))

    def _write_end(self) -> bytes:
        conn = self._h11
        assert conn is not None
        tail = conn.send(h11.EndOfMessage())
        if conn.our_state is not h11.DONE:
            self.close_after_response()
        return tail
