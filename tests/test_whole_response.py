"""``HttpProtocol.respond`` (a whole response in one piece): the same bytes and connection
state as start_response + body + end_response, whether its head is built or reused
(``_WHOLE_HEADS``), for both parsers; ``CollectingSink.respond`` likewise against its
start + write + end."""

from __future__ import annotations

import pytest

from momentum_httpsrv.httpsrv import protocol
from momentum_httpsrv.httpsrv.h11_protocol import H11Protocol
from momentum_httpsrv.httpsrv.httptools_protocol import HttptoolsProtocol
from momentum_httpsrv.httpsrv.protocol import HttpProtocol, ListenerSettings
from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.httpsrv.responses import CollectingSink
from momentum_httpsrv.httpsrv.session import field_pairs

DATE = "Thu, 01 Jan 2026 00:00:00 GMT"
REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
]
RESPONSES = [
    (200, "OK", [("Content-Type", "text/plain")], b"hello"),
    (204, "No Content", [], b""),
    (404, "Not Found", [("X-A", "1"), ("Date", "given")], b"gone"),
    (200, "OK", [("Connection", "close")], b"last"),  # ends the connection
]


def exchange(parser: type[HttpProtocol], whole: bool) -> list[tuple]:
    """Every request × response pair on a fresh connection, twice over (the second time
    from reused heads): the bytes sent and whether the connection stays open."""
    seen = []
    for _ in range(2):
        for wire in REQUESTS:
            for status, reason, headers, body in RESPONSES:
                proto = parser(ListenerSettings(), 0.0)
                proto.feed(wire, 0.0)
                assert type(proto.next_event()) is Request
                if whole:
                    data, sent = proto.respond(status, reason, headers, body, DATE, 0.0)
                else:
                    data = proto.start_response(status, reason, headers, len(body), DATE)
                    framed = proto.body(body)
                    data += framed + proto.end_response(0.0)
                    sent = len(body) if framed else 0
                seen.append((data, sent, proto.keep_alive, proto.closed))
    return seen


@pytest.mark.parametrize("parser", [HttptoolsProtocol, H11Protocol])
def test_respond_sends_what_the_three_steps_send(parser: type[HttpProtocol]) -> None:
    protocol._WHOLE_HEADS.clear()
    steps = exchange(parser, whole=False)
    assert exchange(parser, whole=True) == steps
    reused = len(protocol._WHOLE_HEADS)
    assert reused == (len(set(REQUESTS)) * len(RESPONSES) if parser is HttptoolsProtocol else 0)
    assert steps[0][0].startswith(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n")
    assert steps[-1][2:] == (False, True)  # Connection: close from the handler ends it


def collect(whole: bool) -> list[tuple]:
    """``CollectingSink`` (offline calls) for every request × response pair, by
    ``respond`` or by start + write + end: the Response each gives."""
    seen = []
    for method, version in (("GET", "1.1"), ("HEAD", "1.1"), ("GET", "1.0")):
        for keep_alive in (True, False):
            for status, reason, headers, body in [*RESPONSES, (304, "Not Modified", [], b"")]:
                sink = CollectingSink(Request(method, "/", version), keep_alive=keep_alive)
                if whole:
                    sink.respond(status, reason, headers, body)
                else:
                    sink.start(status, reason, headers, len(body))
                    if body:
                        sink.write(body)
                    sink.end()
                assert sink.finished and sink.response is not None
                response = sink.response
                seen.append((response.status, response.reason, response.headers,
                             response.body, response.streamed))
    return seen


def test_collecting_sink_respond_gives_what_the_three_steps_give() -> None:
    steps = collect(whole=False)
    assert collect(whole=True) == steps
    assert steps[0][3] == b"hello" and ("Content-Length", "5") in steps[0][2]
    assert steps[2 * (len(RESPONSES) + 1)][3] == b""  # HEAD: no body bytes


def test_field_pairs_takes_names_and_values_in_turn() -> None:
    flat = (200, "OK", None, "", "A", "1", "B", "2")
    assert field_pairs(flat, 4) == [("A", "1"), ("B", "2")]
    assert field_pairs((), 0) == []
    with pytest.raises(ValueError, match="odd number"):
        field_pairs(("A", "1", "B"), 0)
