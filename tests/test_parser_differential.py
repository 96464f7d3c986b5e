"""llhttp (the default parser) against h11 (the conformance reference): the same bytes,
valid or mutated, must get the same answers from both — the same requests (method,
target, version, body) in the same order, then the same end: a rejection (the status may
differ where the RFCs allow either, e.g. 400 or 501 for ``chunked`` applied twice; the
exact statuses are pinned per parser in test_protocol.py), waiting, or a close.
A request left incomplete is answered as its deadline would answer it (408), and one whose
target the dispatcher cannot parse as a URL as the dispatcher answers it (400)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from momentum_httpsrv.httpsrv.h11_protocol import H11Protocol
from momentum_httpsrv.httpsrv.httptools_protocol import HttptoolsProtocol
from momentum_httpsrv.httpsrv.protocol import (
    CLOSE,
    NEED_DATA,
    HttpProtocol,
    Interim,
    ListenerSettings,
    Reject,
)
from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.httpsrv.url import UrlParseError, parse_url

SETTINGS = ListenerSettings(max_request_line=200, max_head_size=600, max_request_size=300)
# "hell\r" is the 5 bytes of chunk data; the LF after it is no CRLF (smuggling material).
CHUNK_DATA_THEN_BARE_LF = (
    b"POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhell\r\n0\r\n\r\n"
)
DATE = "Thu, 01 Jan 2026 00:00:00 GMT"


def answers(parser: type[HttpProtocol], wire: bytes) -> list[tuple]:
    """What a client sending ``wire`` at once would get, event by event."""
    proto = parser(SETTINGS, 0.0)
    proto.feed(wire, 0.0)
    seen: list[tuple] = []
    for _ in range(20):
        event = proto.next_event()
        if event is NEED_DATA:
            if not proto.expire(1e6):
                seen.append(("waits",))
                break
            continue
        if type(event) is Request:
            try:
                parse_url(event.target)
            except UrlParseError:
                seen.append(("reject",))  # the dispatcher's 400, and the connection closes
                break
            seen.append(("request", event.method, event.target, event.http_version, event.body))
            proto.start_response(200, "OK", [], 0, DATE)
            proto.end_response(0.0)
        elif type(event) is Interim:
            continue
        elif type(event) is Reject:
            seen.append(("reject",))
            break
        else:
            assert event is CLOSE
            seen.append(("close",))
            break
    return seen


# The known differences, both in what the server reads and drops: h11 discards a chunk
# extension unread, whatever bytes it holds, and takes a folded trailer line; llhttp
# refuses a control character in an extension and a folded trailer line (400).
_CONTROL_IN_CHUNK_EXTENSION = re.compile(rb"\n[0-9A-Fa-f]+[ \t]*;[^\n]*[\x00-\x08\x0b-\x1f\x7f]")
_FOLDED_TRAILER = re.compile(rb"\n0+[ \t;\r][^\n]*\n(?:[^\n]+\n)*?[ \t]")


def assert_same_answers(wire: bytes) -> None:
    assume(_CONTROL_IN_CHUNK_EXTENSION.search(wire) is None)
    assume(_FOLDED_TRAILER.search(wire) is None)
    assert answers(HttptoolsProtocol, wire) == answers(H11Protocol, wire), wire


TOKEN = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~",
                min_size=1, max_size=8)
METHOD = st.one_of(st.sampled_from(["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS"]), TOKEN)
TARGET = st.one_of(
    st.sampled_from(["/", "/hello", "/a/b?x=1&y=2", "*", "http://h/x", "/%20"]),
    st.text("abcxyz/?=&%;:@", min_size=1, max_size=20).map(lambda t: "/" + t),
)
VALUE = st.text(" \tabcXYZ019,;=/-", max_size=12)


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    """A well-formed request: line, Host, a few fields, and a body framed by
    Content-Length, by chunks (with extensions and trailers) or not at all."""
    method, target = draw(METHOD), draw(TARGET)
    version = draw(st.sampled_from(["1.1", "1.1", "1.0"]))
    eol = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"]))
    fields = [("Host", "h")] if version == "1.1" else []
    fields += draw(st.lists(st.tuples(TOKEN, VALUE), max_size=3))
    body = draw(st.binary(max_size=40))
    framing = draw(st.sampled_from(["length", "chunked", "none"]))
    payload = b""
    if framing == "length":
        fields.append(("Content-Length", str(len(body))))
        payload = body
    elif framing == "chunked" and version == "1.1":
        fields.append(("Transfer-Encoding", "chunked"))
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=3)))
        pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        for piece in pieces:
            if piece:
                ext = draw(st.sampled_from([b"", b";x=y", b";q"]))
                payload += b"%x%b\r\n%b\r\n" % (len(piece), ext, piece)
        payload += b"0\r\n" + draw(st.sampled_from([b"", b"T: t\r\n"])) + b"\r\n"
    head = f"{method} {target} HTTP/{version}".encode() + eol
    head += b"".join(f"{name}: {value}".encode() + eol for name, value in fields)
    return head + eol + payload


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid request (or two, pipelined) with a few bytes inserted, removed or changed."""
    wire = bytearray(draw(requests()))
    if draw(st.booleans()):
        wire += draw(requests())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(wire)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "duplicate-line"]))
        byte = draw(st.sampled_from(b"\r\n \t:;,0aZ\x00\x7f\xff"))
        if kind == "insert":
            wire[at:at] = bytes([byte])
        elif kind == "delete" and at < len(wire):
            del wire[at]
        elif kind == "replace" and at < len(wire):
            wire[at] = byte
        elif kind == "duplicate-line":
            start = wire.rfind(b"\n", 0, at) + 1
            end = wire.find(b"\n", at)
            if end >= 0:
                wire[end + 1 : end + 1] = wire[start : end + 1]
    return bytes(wire)


@given(requests())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_both_parsers_read_valid_requests_alike(wire: bytes) -> None:
    assert_same_answers(wire)


@given(mutated())
@example(CHUNK_DATA_THEN_BARE_LF)
@example(b"POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab")
@example(b"FOO /e HTTP/1.1\r\nHost: h\r\n\r\nCONNECT h:1 HTTP/1.1\r\nHost: h\r\n\r\n")
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_both_parsers_answer_mutated_requests_alike(wire: bytes) -> None:
    assert_same_answers(wire)


def test_bare_lf_after_chunk_data_is_rejected_by_both() -> None:
    wire = CHUNK_DATA_THEN_BARE_LF
    for parser in (HttptoolsProtocol, H11Protocol):
        assert answers(parser, wire) == [("reject",)]


@pytest.mark.parametrize("parser", [HttptoolsProtocol, H11Protocol])
def test_the_comparison_sees_a_difference(parser: type[HttpProtocol]) -> None:
    """The oracle is not blind: different bytes give different answers."""
    ok = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
    assert answers(parser, ok) != answers(parser, ok.replace(b"/a", b"/b"))
    assert answers(parser, ok) != answers(parser, ok.replace(b"Host", b"H\x00st"))
