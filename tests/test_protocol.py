"""The sans-IO HTTP/1.1 classes alone: bytes in, events and bytes out, time passed in.

Every test runs against both parsers (llhttp through httptools, and h11). Where the RFCs
allow both answers and the parsers differ, a table cell is a dict keyed by parser name.
"""

from __future__ import annotations

from typing import Any

import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from momentum_httpsrv.httpsrv.httptools_protocol import HttptoolsProtocol
from momentum_httpsrv.httpsrv.listener import PARSERS
from momentum_httpsrv.httpsrv.protocol import (
    CLOSE,
    CONTINUE_RESPONSE,
    NEED_DATA,
    HttpProtocol,
    Interim,
    ListenerSettings,
    Reject,
    ResponseError,
    reason_for,
)
from momentum_httpsrv.httpsrv.requests import ConnectionInfo, Request

DATE = "Thu, 01 Jan 2026 00:00:00 GMT"


@pytest.fixture(params=sorted(PARSERS))
def parser(request: pytest.FixtureRequest) -> type[HttpProtocol]:
    return PARSERS[request.param]


def per_parser(expected: Any, parser: type[HttpProtocol]) -> Any:
    """A table cell: the same for both parsers, or a dict keyed by parser name."""
    if isinstance(expected, dict):
        return expected[next(name for name, cls in PARSERS.items() if cls is parser)]
    return expected


def protocol(parser: type[HttpProtocol], now: float = 0.0, **overrides: Any) -> HttpProtocol:
    return parser(ListenerSettings(**overrides), now)


def first_event(parser: type[HttpProtocol], data: bytes, **overrides: Any) -> object:
    proto = protocol(parser, **overrides)
    proto.feed(data, 0.0)
    return proto.next_event()


def respond(proto: HttpProtocol, body: bytes = b"ok", now: float = 0.0) -> bytes:
    out = proto.start_response(200, "OK", [], len(body), DATE)
    return out + proto.body(body) + proto.end_response(now)


def head_lines(wire: bytes) -> list[str]:
    return wire.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")


def header(wire: bytes, name: str) -> str | None:
    for line in head_lines(wire)[1:]:
        key, _, value = line.partition(": ")
        if key.lower() == name.lower():
            return value
    return None


GET = b"GET /hello HTTP/1.1\r\nHost: h\r\n\r\n"

# ------------------------------------------------------------------ rejections

REJECTED = [
    ("request line over the limit", b"GET /" + b"u" * 100 + b" HTTP/1.1\r\nHost: h\r\n\r\n", 414),
    ("request line over the limit, head unfinished", b"GET /" + b"u" * 100, 414),
    ("head over the limit", b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"v" * 300 + b"\r\n\r\n", 431),
    ("head over the limit, unfinished", b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"v" * 300, 431),
    ("HTTP/2.0", b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
    ("HTTP/0.9", b"GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505),
    ("bad version token", b"GET / HTP/1.1\r\nHost: h\r\n\r\n", 400),
    ("lower-case version", b"GET / http/1.1\r\nHost: h\r\n\r\n", 400),
    ("missing target", b"GET HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    ("extra token", b"GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n", 400),
    ("space in target", b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    ("non-ASCII in target", b"GET /\xe9 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    ("TE and CL", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400),
    ("unknown transfer coding", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: x-c\r\n\r\n",
     501),
    ("gzip then chunked", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
     501),
    ("chunked twice", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n", {"httptools": 400, "h11": 501}),
    ("missing Host on 1.1", b"GET / HTTP/1.1\r\nX: y\r\n\r\n", 400),
    ("two Host fields", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("two Host fields on 1.0", b"GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400),
    ("Content-Length abc", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", 400),
    ("Content-Length -5", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -5\r\n\r\n", 400),
    ("Content-Length +5", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", 400),
    ("Content-Length empty", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400),
    ("Content-Length 2, 2", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\n\r\nab", 400),
    ("two identical Content-Length", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n"
     b"content-length: 2\r\n\r\nab", 400),
    ("Content-Length 5, 6", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n", 400),
    ("two different Content-Length", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
     b"Content-Length: 6\r\n\r\n", 400),
    ("Content-Length with 19 digits", b"POST / HTTP/1.1\r\nHost: h\r\n"
     b"Content-Length: 1900000000000000000\r\n\r\n", 400),
    ("header without colon", b"GET / HTTP/1.1\r\nHost: h\r\nNoColonHere\r\n\r\n", 400),
    ("space before colon", b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
    ("empty header name", b"GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400),
    ("obsolete line folding", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  b\r\n\r\n", 400),
    ("NUL in a value", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", 400),
    ("DEL in a value", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n", 400),
    ("bare CR in a value", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400),
    ("binary garbage", b"\x16\x03\x01\x02\x00\x01\xff\xfe\r\n\r\n", 400),
    ("body over Max_Request_Size", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n",
     413),
    ("chunked body over Max_Request_Size", b"POST / HTTP/1.1\r\nHost: h\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n", 413),
    ("bad chunk size", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"zz\r\n", 400),
    ("empty chunk size", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"\r\n", 400),
    ("chunk data without CRLF", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"3\r\nabcde", 400),
    ("chunk-size line too long", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"3;" + b"e" * 5000, 400),
    ("trailer without colon", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"0\r\nbroken\r\n\r\n", 400),
]


@pytest.mark.parametrize(
    ("data", "status"), [case[1:] for case in REJECTED], ids=[case[0] for case in REJECTED]
)
def test_rejected_requests_get_their_status_and_close(
    parser: type[HttpProtocol], data: bytes, status: int | dict[str, int]
) -> None:
    proto = protocol(parser, max_request_line=64, max_head_size=256, max_request_size=10)
    proto.feed(data, 0.0)
    event = proto.next_event()
    status = per_parser(status, parser)
    assert isinstance(event, Reject) and event.status == status, event
    wire = proto.start_response(status, reason_for(status), [], 0, DATE) + proto.end_response(0)
    assert head_lines(wire)[0] == f"HTTP/1.1 {status} {reason_for(status)}"
    assert header(wire, "Connection") == "close"
    assert proto.closed and proto.next_event() is CLOSE


def test_request_after_a_rejected_one_is_never_parsed(parser: type[HttpProtocol]) -> None:
    proto = protocol(parser)
    proto.feed(b"GET / HTTP/1.1\r\n\r\n" + GET, 0.0)
    assert isinstance(proto.next_event(), Reject)
    proto.start_response(400, "Bad Request", [], 0, DATE)
    proto.end_response(0)
    proto.feed(GET, 0.0)
    assert proto.next_event() is CLOSE


# ------------------------------------------------------------------ accepted

ACCEPTED = [
    ("plain GET", GET, ("GET", "/hello", "1.1", [("Host", "h")], b"")),
    ("leading empty lines", b"\r\n\n" + GET, ("GET", "/hello", "1.1", [("Host", "h")], b"")),
    ("bare LF line ends", b"GET /x HTTP/1.1\nHost: h\nA:\tb \n\n",
     ("GET", "/x", "1.1", [("Host", "h"), ("A", "b")], b"")),
    ("spelling, order and OWS kept/trimmed", b"GET /?q=1 HTTP/1.1\r\nhOsT:  h \r\n"
     b"X-B: two  words\t\r\nx-a: \r\n\r\n",
     ("GET", "/?q=1", "1.1", [("hOsT", "h"), ("X-B", "two  words"), ("x-a", "")], b"")),
    ("obs-text in a value", b"GET / HTTP/1.1\r\nHost: h\r\nX: caf\xe9\xff\r\n\r\n",
     ("GET", "/", "1.1", [("Host", "h"), ("X", "caf\xe9\xff")], b"")),
    ("HTTP/1.0 without Host", b"GET / HTTP/1.0\r\n\r\n", ("GET", "/", "1.0", [], b"")),
    ("HTTP/1.1 absolute-form", b"GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n",
     ("GET", "http://h/x", "1.1", [("Host", "h")], b"")),
    ("any method token", b"PURGE * HTTP/1.1\r\nHost: h\r\n\r\n",
     ("PURGE", "*", "1.1", [("Host", "h")], b"")),
    ("Content-Length body with binary bytes", b"POST /e HTTP/1.1\r\nHost: h\r\n"
     b"Content-Length: 6\r\n\r\n\x00\x01\r\n\xfe\xff",
     ("POST", "/e", "1.1", [("Host", "h"), ("Content-Length", "6")], b"\x00\x01\r\n\xfe\xff")),
    ("chunked with extension, upper-case hex and trailer", b"POST /e HTTP/1.1\r\nHost: h\r\n"
     b"Transfer-Encoding: Chunked\r\n\r\nA;x=y\r\n0123456789\r\n3 \r\nabc\r\n0\r\nT: t\r\n\r\n",
     {name: ("POST", "/e", "1.1", [("Host", "h"), ("Transfer-Encoding", coding)],
             b"0123456789abc") for name, coding in (("httptools", "Chunked"), ("h11", "chunked"))}),
    # RFC 9112 §2.2 allows bare LF in the start line and fields only: llhttp rejects a
    # bare-LF chunk line, h11 waits for a CRLF one (the body timeout answers 408).
    ("chunked with bare LF", b"POST /e HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n"
     b"2\nab\n0\n\n", {"httptools": 400, "h11": NEED_DATA}),
    ("bare LF after chunk data", b"POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked"
     b"\r\n\r\n5\r\nhell\r\n0\r\n\r\n", 400),
]


@pytest.mark.parametrize(
    ("data", "expected"), [case[1:] for case in ACCEPTED], ids=[case[0] for case in ACCEPTED]
)
def test_accepted_requests_are_parsed(
    parser: type[HttpProtocol], data: bytes, expected: tuple | dict[str, tuple]
) -> None:
    event = first_event(parser, data, max_request_size=100)
    expected = per_parser(expected, parser)
    if expected is NEED_DATA:
        assert event is NEED_DATA
        return
    if isinstance(expected, int):
        assert isinstance(event, Reject) and event.status == expected, event
        return
    assert isinstance(event, Request)
    parsed = (event.method, event.target, event.http_version, event.headers, event.body)
    assert parsed == expected


def test_request_carries_the_connection_info(parser: type[HttpProtocol]) -> None:
    info = ConnectionInfo(conn_id=7, listener=":2081", peer=("10.0.0.1", 5000))
    proto = parser(ListenerSettings(), 0.0, info)
    proto.feed(GET, 0.0)
    event = proto.next_event()
    assert isinstance(event, Request) and event.connection is info


def test_request_line_and_head_limits_are_inclusive(parser: type[HttpProtocol]) -> None:
    line = b"GET /" + b"u" * 59 + b" HTTP/1.1"  # exactly 73 bytes
    event = first_event(parser, line + b"\r\nHost: h\r\n\r\n", max_request_line=len(line))
    assert isinstance(event, Request)
    data = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"
    assert isinstance(first_event(parser, data, max_head_size=len(data)), Request)
    event = first_event(parser, data, max_head_size=len(data) - 1)
    assert event == Reject(431, "request head too large")


# --------------------------------------------------------- incremental input


def test_one_byte_at_a_time(parser: type[HttpProtocol]) -> None:
    data = (
        b"POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n"
    )
    proto = protocol(parser)
    events = []
    for index in range(len(data)):
        proto.feed(data[index : index + 1], float(index))
        events.append(proto.next_event())
    assert all(event is NEED_DATA for event in events[:-1])
    assert isinstance(events[-1], Request) and events[-1].body == b"hello"


PIPELINE = (
    b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nfirst"
    b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
    b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nthi\r\n2\r\nrd\r\n0\r\n\r\n"
)


def serve_all(proto: HttpProtocol, pieces: list[bytes]) -> list[tuple[str, bytes]]:
    """Feed ``pieces``; answer every request; return (target, body) in order."""
    seen = []
    for piece in pieces:
        proto.feed(piece, 0.0)
        while True:
            event = proto.next_event()
            if not isinstance(event, Request):
                assert event is NEED_DATA
                break
            seen.append((event.target, event.body))
            respond(proto)
    return seen


def test_pipelined_requests_come_out_in_order_one_at_a_time(parser: type[HttpProtocol]) -> None:
    proto = protocol(parser)
    proto.feed(PIPELINE, 0.0)
    first = proto.next_event()
    assert isinstance(first, Request) and first.target == "/a"
    with pytest.raises(ResponseError):
        proto.next_event()  # the second is not parsed before the first is answered
    respond(proto)
    assert serve_all(proto, [b""]) == [("/b", b""), ("/c", b"third")]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(min_value=0, max_value=len(PIPELINE)), max_size=12))
def test_any_split_of_a_pipeline_gives_the_same_requests(
    parser: type[HttpProtocol], cuts: list[int]
) -> None:
    bounds = [0, *sorted(cuts), len(PIPELINE)]
    pieces = [PIPELINE[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    expected = [("/a", b"first"), ("/b", b""), ("/c", b"third")]
    assert serve_all(protocol(parser), pieces) == expected


def test_eof_inside_a_head_closes_without_a_response(parser: type[HttpProtocol]) -> None:
    proto = protocol(parser)
    proto.feed(b"GET / HTTP/1.1\r\nHo", 0.0)
    proto.feed_eof()
    assert proto.next_event() is CLOSE


def test_eof_inside_a_body_closes_without_a_response(parser: type[HttpProtocol]) -> None:
    proto = protocol(parser)
    proto.feed(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\nabc", 0.0)
    proto.feed_eof()
    assert proto.next_event() is CLOSE


def test_half_closed_client_still_gets_its_pipelined_answers(parser: type[HttpProtocol]) -> None:
    proto = protocol(parser)
    proto.feed(GET + GET, 0.0)
    proto.feed_eof()
    assert isinstance(proto.next_event(), Request)
    respond(proto)
    assert isinstance(proto.next_event(), Request)
    respond(proto)
    assert proto.next_event() is CLOSE


# ------------------------------------------------------------------ keep-alive

KEEP_ALIVE = [
    ("1.1 default", b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", True, None),
    ("1.1 close", b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", False, "close"),
    ("1.1 close among tokens",
     b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", False, "close"),
    ("1.0 default", b"GET / HTTP/1.0\r\n\r\n", False, "close"),
    ("1.0 keep-alive", b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
     {"httptools": True, "h11": False}, {"httptools": "keep-alive", "h11": "close"}),
    ("1.0 with Transfer-Encoding", b"POST / HTTP/1.0\r\nConnection: keep-alive\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", False, "close"),
]


@pytest.mark.parametrize(
    ("data", "keep", "connection_header"),
    [case[1:] for case in KEEP_ALIVE],
    ids=[case[0] for case in KEEP_ALIVE],
)
def test_keep_alive_decision(
    parser: type[HttpProtocol], data: bytes, keep: Any, connection_header: Any
) -> None:
    keep, connection_header = per_parser(keep, parser), per_parser(connection_header, parser)
    proto = protocol(parser)
    proto.feed(data + GET, 0.0)
    assert isinstance(proto.next_event(), Request)
    wire = respond(proto)
    assert header(wire, "Connection") == connection_header
    assert proto.keep_alive is keep
    follow_up = proto.next_event()
    assert isinstance(follow_up, Request) if keep else follow_up is CLOSE


def test_close_after_response_makes_the_current_response_the_last(
    parser: type[HttpProtocol],
) -> None:
    proto = protocol(parser)
    proto.feed(GET + GET, 0.0)
    assert isinstance(proto.next_event(), Request)
    proto.close_after_response()
    assert header(respond(proto), "Connection") == "close"
    assert proto.next_event() is CLOSE


# ------------------------------------------------------------- response framing

FRAMING = [
    # request, status, body_length, disable_chunked -> framing header, body bytes, tail, keep
    ("1.1 known length", GET, 200, 5, False, ("Content-Length", "5"), b"abcde", b"", True),
    ("1.1 streamed", GET, 200, None, False, ("Transfer-Encoding", "chunked"),
     b"2\r\nab\r\n3\r\ncde\r\n", b"0\r\n\r\n", True),
    ("1.0 streamed", b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, None, False,
     ("Connection", "close"), b"abcde", b"", False),
    ("Disable_Chunked", GET, 200, None, True, ("Connection", "close"), b"abcde", b"", False),
    ("HEAD known length", b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", 200, 5, False,
     ("Content-Length", "5"), b"", b"", True),
    ("HEAD streamed", b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", 200, None, False,
     ("Transfer-Encoding", "chunked"), b"", b"", True),
    ("HEAD streamed on 1.0", b"HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, None,
     False, {"httptools": ("Connection", "keep-alive"), "h11": ("Connection", "close")}, b"", b"",
     {"httptools": True, "h11": False}),
    ("204", GET, 204, 5, False, ("Content-Length", None), b"", b"", True),
    ("304", GET, 304, 5, False, ("Content-Length", "5"), b"", b"", True),
]


@pytest.mark.parametrize(
    ("request_data", "status", "body_length", "disable_chunked", "framing", "body", "tail", "keep"),
    [case[1:] for case in FRAMING],
    ids=[case[0] for case in FRAMING],
)
def test_response_framing(
    parser: type[HttpProtocol],
    request_data: bytes,
    status: int,
    body_length: int | None,
    disable_chunked: bool,
    framing: Any,
    body: bytes,
    tail: bytes,
    keep: Any,
) -> None:
    proto = protocol(parser, disable_chunked=disable_chunked)
    proto.feed(request_data, 0.0)
    assert isinstance(proto.next_event(), Request)
    wire = proto.start_response(status, "X", [], body_length, DATE)
    framing = per_parser(framing, parser)
    assert header(wire, framing[0]) == framing[1]
    assert proto.body(b"ab") + proto.body(b"") + proto.body(b"cde") == body
    assert proto.end_response(0.0) == tail
    assert proto.keep_alive is per_parser(keep, parser)


def test_server_owns_framing_headers_and_adds_date_but_no_server(
    parser: type[HttpProtocol],
) -> None:
    proto = protocol(parser)
    proto.feed(GET, 0.0)
    proto.next_event()
    handler_headers = [
        ("Content-Type", "text/plain"),
        ("content-length", "999"),
        ("Transfer-Encoding", "gzip"),
        ("Connection", "Keep-Alive"),
        ("X-Custom", "v"),
    ]
    wire = proto.start_response(200, "OK", handler_headers, 2, DATE)
    assert head_lines(wire) == [
        "HTTP/1.1 200 OK",
        "Content-Type: text/plain",
        "X-Custom: v",
        f"Date: {DATE}",
        "Content-Length: 2",
    ]
    assert proto.keep_alive


@pytest.mark.parametrize(("value", "keep"), [("close", False), ("Upgrade, Close", False),
                                             ("keep-alive", True)])
def test_handler_connection_close_is_honoured(
    parser: type[HttpProtocol], value: str, keep: bool
) -> None:
    proto = protocol(parser)
    proto.feed(GET + GET, 0.0)
    proto.next_event()
    wire = proto.start_response(200, "OK", [("Connection", value)], 0, DATE)
    assert header(wire, "Connection") == (None if keep else "close")
    proto.end_response(0.0)
    assert isinstance(proto.next_event(), Request) is keep


def test_handler_date_is_kept(parser: type[HttpProtocol]) -> None:
    proto = protocol(parser)
    proto.feed(GET, 0.0)
    proto.next_event()
    wire = proto.start_response(200, "OK", [("date", "yesterday")], 0, DATE)
    assert header(wire, "Date") == "yesterday" and wire.count(b"ate:") == 1


BAD_RESPONSES = [
    ("CRLF in a value", 200, "OK", [("X", "a\r\nSet-Cookie: evil")]),
    ("LF in a value", 200, "OK", [("X", "a\nb")]),
    ("NUL in a value", 200, "OK", [("X", "a\x00b")]),
    ("CR in the reason", 200, "O\rK", []),
    ("space in a name", 200, "OK", [("X Y", "v")]),
    ("colon in a name", 200, "OK", [("X:Y", "v")]),
    ("non-Latin-1 value", 200, "OK", [("X", "\u20ac")]),
    ("interim status", 100, "Continue", []),
    ("status out of range", 1000, "X", []),
]


@pytest.mark.parametrize(
    ("status", "reason", "headers"),
    [case[1:] for case in BAD_RESPONSES],
    ids=[case[0] for case in BAD_RESPONSES],
)
def test_unsafe_response_heads_are_refused(
    parser: type[HttpProtocol], status: int, reason: str, headers: list
) -> None:
    proto = protocol(parser)
    proto.feed(GET, 0.0)
    proto.next_event()
    with pytest.raises(ResponseError):
        proto.start_response(status, reason, headers, 0, DATE)


def test_body_beyond_declared_length_is_refused(parser: type[HttpProtocol]) -> None:
    proto = protocol(parser)
    proto.feed(GET, 0.0)
    proto.next_event()
    proto.start_response(200, "OK", [], 3, DATE)
    with pytest.raises(ResponseError):
        proto.body(b"four")


def test_body_short_of_declared_length_closes_the_connection(parser: type[HttpProtocol]) -> None:
    proto = protocol(parser)
    proto.feed(GET + GET, 0.0)
    proto.next_event()
    proto.start_response(200, "OK", [], 3, DATE)
    proto.body(b"ab")
    proto.end_response(0.0)
    assert not proto.keep_alive and proto.next_event() is CLOSE


def test_abort_response_closes(parser: type[HttpProtocol]) -> None:
    proto = protocol(parser)
    proto.feed(GET + GET, 0.0)
    proto.next_event()
    proto.start_response(200, "OK", [], None, DATE)
    proto.abort_response()
    assert proto.closed and proto.next_event() is CLOSE


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.start_response(200, "OK", [], 0, DATE),
        lambda p: p.body(b"x"),
        lambda p: p.end_response(0.0),
    ],
    ids=["start", "body", "end"],
)
def test_response_calls_out_of_order_are_refused(parser: type[HttpProtocol], call) -> None:
    with pytest.raises(ResponseError):
        call(protocol(parser))


def test_reason_phrases_of_generated_responses() -> None:
    assert [reason_for(code) for code in (400, 408, 500, 505)] == [
        "Bad Request",
        "Request Timeout",
        "ERROR",
        "HTTP Version Not Supported",
    ]


# ------------------------------------------------------------------ 100-continue

EXPECT = b"POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n"


def test_expect_continue_sends_100_before_the_body_is_read(parser: type[HttpProtocol]) -> None:
    proto = protocol(parser)
    proto.feed(EXPECT, 0.0)
    assert proto.next_event() == Interim(CONTINUE_RESPONSE)
    assert proto.next_event() is NEED_DATA
    proto.feed(b"body", 0.0)
    event = proto.next_event()
    assert isinstance(event, Request) and event.body == b"body"


@pytest.mark.parametrize(
    ("data", "overrides", "expected"),
    [
        (EXPECT + b"bo", {}, NEED_DATA),  # body already arriving: no 100 needed
        (EXPECT.replace(b"HTTP/1.1", b"HTTP/1.0"), {}, NEED_DATA),  # 1.0 ignores Expect
        (EXPECT.replace(b"Length: 4", b"Length: 0"), {}, Request),  # no body to wait for
        (EXPECT, {"max_request_size": 3}, Reject(413, "body of 4 bytes exceeds 3")),
    ],
    ids=["body-already-sent", "http-1.0", "empty-body", "too-large"],
)
def test_expect_continue_is_not_sent_when_pointless(
    parser: type[HttpProtocol], data: bytes, overrides: dict, expected: object
) -> None:
    event = first_event(parser, data, **overrides)
    assert isinstance(event, Request) if expected is Request else event == expected


# ---------------------------------------------------------------------- timers


def test_fresh_connection_gets_the_head_timeout_then_closes(parser: type[HttpProtocol]) -> None:
    proto = protocol(parser, now=100.0, head_timeout=10.0)
    assert proto.deadline == 110.0
    assert not proto.expire(109.9)
    assert proto.expire(110.0) and proto.next_event() is CLOSE


def test_head_deadline_is_total_not_per_read(parser: type[HttpProtocol]) -> None:
    proto = protocol(parser, head_timeout=10.0)
    proto.feed(b"GET / HTTP/1.1\r\n", 1.0)
    for second in range(2, 11):  # one byte per second, like a slowloris client
        proto.feed(b"X", float(second))
        assert proto.next_event() is NEED_DATA
    assert proto.deadline == 11.0
    assert proto.expire(11.0)
    assert proto.next_event() == Reject(408, "request head not received in time")
    proto.feed(b"\r\n\r\n", 11.5)  # too late: ignored
    wire = proto.start_response(408, reason_for(408), [], 0, DATE) + proto.end_response(12.0)
    assert header(wire, "Connection") == "close" and proto.next_event() is CLOSE


def test_body_timeout_counts_from_the_last_progress(parser: type[HttpProtocol]) -> None:
    proto = protocol(parser, body_timeout=15.0)
    proto.feed(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\nab", 0.0)
    assert proto.next_event() is NEED_DATA
    proto.feed(b"cd", 5.0)
    assert proto.next_event() is NEED_DATA
    assert proto.deadline == 20.0 and not proto.expire(19.0)
    assert proto.expire(20.0)
    assert proto.next_event() == Reject(408, "request body not received in time")


def test_idle_time_between_requests(parser: type[HttpProtocol]) -> None:
    proto = protocol(parser, idle_time=7)
    proto.feed(GET, 1.0)
    proto.next_event()
    assert proto.deadline is None  # no timer while the dispatcher works
    respond(proto, now=3.0)
    assert proto.next_event() is NEED_DATA and proto.deadline == 10.0
    assert proto.expire(10.0) and proto.next_event() is CLOSE


def test_idle_time_0_keeps_a_connection_between_requests_forever(
    parser: type[HttpProtocol],
) -> None:
    """Momentum's Idle_Time: 0 means never (the head, body and send deadlines still apply)."""
    proto = protocol(parser, idle_time=0)
    proto.feed(GET, 1.0)
    proto.next_event()
    respond(proto, now=3.0)
    assert proto.next_event() is NEED_DATA and proto.deadline is None
    proto.feed(b"GET / HTTP/1.1\r\n", 1000.0)  # a new head starts its own deadline
    assert proto.deadline == 1010.0


def test_pipelined_head_deadline_starts_when_the_previous_response_ends(
    parser: type[HttpProtocol],
) -> None:
    proto = protocol(parser, head_timeout=10.0)
    proto.feed(GET + b"GET / HT", 0.0)
    proto.next_event()
    respond(proto, now=4.0)
    assert proto.next_event() is NEED_DATA and proto.deadline == 14.0


# ------------------------------------------------ differential check against h11

_TOKENS = st.from_regex(r"[-!#$%&'*+.^_`|~0-9A-Za-z]{1,12}", fullmatch=True)
_VALUES = st.from_regex(r"[\x21-\x7e\x80-\xff]([\t\x20-\x7e\x80-\xff]{0,20}[\x21-\x7e\x80-\xff])?",
                        fullmatch=True)
_TARGETS = st.from_regex(r"/[\x21-\x7e]{0,30}", fullmatch=True)
_SKIPPED_NAMES = {"host", "content-length", "transfer-encoding", "connection", "expect"}


@settings(max_examples=150, deadline=None)
@given(
    method=_TOKENS,
    target=_TARGETS,
    fields=st.lists(st.tuples(_TOKENS, _VALUES), max_size=6),
    padding=st.sampled_from(["", " ", "\t", " \t "]),
    body=st.binary(max_size=40),
    chunked=st.booleans(),
)
def test_well_formed_requests_parse_as_h11_parses_them(
    method: str, target: str, fields: list, padding: str, body: bytes, chunked: bool
) -> None:
    fields = [(name, value) for name, value in fields if name.lower() not in _SKIPPED_NAMES]
    lines = [f"{method} {target} HTTP/1.1", "Host: example"]
    lines += [f"{name}:{padding}{value}{padding}" for name, value in fields]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        payload = (b"%x\r\n%b\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {len(body)}")
        payload = body
    wire = "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + payload

    oracle = h11.Connection(h11.SERVER)
    oracle.receive_data(wire)
    head = oracle.next_event()
    oracle_body = b""
    while type(event := oracle.next_event()) is h11.Data:
        oracle_body += event.data

    ours = first_event(HttptoolsProtocol, wire)
    assert isinstance(ours, Request)
    assert (ours.method, ours.target) == (head.method.decode(), head.target.decode())
    assert [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in ours.headers] == [
        (k, v) for k, v in head.headers
    ]
    assert ours.body == oracle_body == body


def test_a_repeated_response_head_is_checked_once_and_stays_whole(
    parser: type[HttpProtocol],
) -> None:
    """Heads seen before come from the checked-head cache (and, for httptools, as prebuilt
    bytes); what a caller does with the fields it got never reaches the next response."""
    from momentum_httpsrv.httpsrv.protocol import response_fields

    fields, _ = response_fields(200, "OK", [("X-A", "1"), ("Date", DATE)], DATE)
    fields.append(("Content-Length", "9"))
    again, _ = response_fields(200, "OK", [("X-A", "1"), ("Date", DATE)], DATE)
    assert again == [("X-A", "1"), ("Date", DATE)]
    heads = []
    for _ in range(2):
        proto = protocol(parser)
        proto.feed(GET, 0.0)
        assert isinstance(proto.next_event(), Request)
        heads.append(proto.start_response(200, "OK", [("X-A", "1")], 2, DATE))
    assert heads[0] == heads[1] and header(heads[1], "X-A") == "1"
    assert header(heads[1], "Content-Length") == "2" and header(heads[1], "Date") == DATE
    with pytest.raises(ResponseError):
        response_fields(200, "OK", [("Bad Name", "v")], DATE)
    with pytest.raises(ResponseError):  # a refused head is refused again, not cached
        response_fields(200, "OK", [("Bad Name", "v")], DATE)
