"""Heads without a body that the httptools protocol splits itself (``_SIMPLE_HEAD``, no
llhttp callbacks) come out exactly as llhttp reads them: the same requests, fields,
keep-alive and rejections, request after request on one connection."""

from __future__ import annotations

import re

import pytest

from momentum_httpsrv.httpsrv import httptools_protocol
from momentum_httpsrv.httpsrv.httptools_protocol import HttptoolsProtocol
from momentum_httpsrv.httpsrv.protocol import CLOSE, NEED_DATA, ListenerSettings, Reject
from momentum_httpsrv.httpsrv.requests import Request

HEADS = [
    b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET /a?b=c HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Spaces:   v  w \t \r\n\r\n",
    b"GET /t HTTP/1.1\r\nHost: h\r\nX-Tab:\tv\t\r\nAccept: */*\r\nhost2: x\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n",
    b"GET / HTTP/1.1\r\nX: y\r\n\r\n",  # no Host: 400
    b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",  # two: 400
    b"PURGE /x HTTP/1.1\r\nHost: h\r\n\r\n",
    b"M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",  # llhttp's (a length)
    b"GET / HTTP/1.1\r\nHost: h\r\nX-Obs: caf\xe9\r\n\r\n",  # llhttp's (obs-text)
    b"GET / HTTP/1.1\r\nHost : h\r\n\r\n",  # llhttp's (space before the colon): 400
    b"GET / HTTP/1.1\nHost: h\n\n",  # llhttp's (bare LF)
    b"GET / HTTP/2.0\r\nHost: h\r\n\r\n",  # llhttp's (version): 505
]


def answers(wire: bytes) -> list[tuple]:
    proto = HttptoolsProtocol(ListenerSettings(), 0.0)
    proto.feed(wire, 0.0)
    seen: list[tuple] = []
    for _ in range(len(HEADS) + 2):
        event = proto.next_event()
        if type(event) is Request:
            seen.append((event.method, event.target, event.http_version, event.headers,
                         event.body, proto.keep_alive))
            proto.start_response(200, "OK", [], 0, "Thu, 01 Jan 2026 00:00:00 GMT")
            proto.end_response(0.0)
        elif type(event) is Reject:
            seen.append(("reject", event.status))
            break
        else:
            assert event in (NEED_DATA, CLOSE)
            seen.append((str(event),))
            break
    return seen


@pytest.mark.parametrize("head", HEADS)
def test_a_head_alone_reads_as_llhttp_reads_it(
    head: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    split_here = answers(head)
    monkeypatch.setattr(httptools_protocol, "_SIMPLE_HEAD", re.compile(b"(?!)"))
    assert split_here == answers(head)


def test_a_connection_of_many_heads_reads_as_with_llhttp(monkeypatch: pytest.MonkeyPatch) -> None:
    kept_open = [HEADS[i] for i in (0, 1, 2, 4, 6, 7, 10, 11, 12, 13)]
    wire = b"".join(kept_open) + (
        b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        + HEADS[0] + b"GET /c HTTP/1.1\r\n\r\n"  # no Host: 400
    )
    split = HttptoolsProtocol._parse_simple_head
    calls: list[bytes] = []

    def counted(self: HttptoolsProtocol, head: bytes, version: str) -> object:
        calls.append(head)
        return split(self, head, version)

    with monkeypatch.context() as patch:
        patch.setattr(HttptoolsProtocol, "_parse_simple_head", counted)
        split_here = answers(wire)
    assert len(split_here) == len(kept_open) + 3 and split_here[-1] == ("reject", 400)
    assert len(calls) == len(kept_open) - 2 + 2  # not the length's nor obs-text's; + 2 GETs
    monkeypatch.setattr(httptools_protocol, "_SIMPLE_HEAD", re.compile(b"(?!)"))
    assert split_here == answers(wire)
