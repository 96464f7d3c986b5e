"""HttpSession: the ec_httpsrv_* C API in Python, its output model and error codes."""

import asyncio
import errno

import pytest

from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.httpsrv.responses import CollectingSink
from momentum_httpsrv.httpsrv.session import HttpSession


def make_session(target="/p?a=1", headers=(), body=b"", method="GET"):
    sink = CollectingSink()
    return HttpSession(Request(method, target, "1.1", list(headers), body), sink), sink


def test_request_getters():
    session, _ = make_session(
        headers=[("X-Twice", " first "), ("x-twice", "second"), ("Content-Type", "a/b")],
        body=b"\x00\xff", method="PATCH",
    )
    assert session.request_method_get() == "PATCH"
    assert session.request_header_get("x-TWICE") == (0, " first ")
    assert session.request_header_get("absent") == (errno.ENOENT, None)
    assert session.request_data_get_string() == (0, b"\x00\xff")
    assert session.request_url_get() is session.request_url_get()  # cached


def test_default_response_is_200_ok_with_appended_body():
    session, sink = make_session()
    session.response_append(b"a")
    session.response_printf("%s-%d", "b", 7)
    asyncio.run(session.complete())
    response = sink.response
    assert (response.status, response.reason, response.body) == (200, "OK", b"ab-7")
    assert response.header("Content-Length") == "4" and sink.finished


@pytest.mark.parametrize(
    ("body", "expected_body"),
    [(b"", b"hello bob"), (b"own body", b"own body")],
)
def test_status_set_std_message_is_body_only_if_empty(body, expected_body):
    session, sink = make_session()
    assert session.response_status_set_std(201, "hello bob", "text/plain") == 0
    session.response_append(body)
    asyncio.run(session.complete())
    response = sink.response
    assert (response.status, response.reason) == (201, "hello bob")
    assert response.header("Content-Type") == "text/plain"
    assert response.body == expected_body


@pytest.mark.parametrize(
    ("helper", "status", "reason"),
    [
        ("response_status_ok", 200, "OK"),
        ("response_status_error", 500, "ERROR"),
        ("response_status_denied", 403, "DENIED"),
        ("response_status_not_found", 404, "NOT FOUND"),
    ],
)
def test_status_helpers(helper, status, reason):
    session, sink = make_session()
    assert getattr(session, helper)("text/html") == 0
    asyncio.run(session.complete())
    assert (sink.response.status, sink.response.reason, sink.response.body) == (status, reason, b"")
    assert sink.response.header("content-type") == "text/html"


def test_status_and_header_rules():
    session, sink = make_session()
    assert session.response_status_set(99, "x") == errno.EINVAL
    assert session.response_status_set(1000, "x") == errno.EINVAL
    assert session.response_status_set(299, "bad\r\nreason") == 0
    assert session.response_header_set("X-A", "1") == 0
    assert session.response_header_set("x-a", "2") == 0  # replaces, new spelling kept
    assert session.response_header_set("X-Gone", "1") == 0
    assert session.response_header_set("X-Gone", None) == 0  # removes
    assert session.response_header_set("X-B", "v\r\nInjected: 1") == errno.EINVAL
    assert session.response_header_set("Bad\nName", "v") == errno.EINVAL
    assert session.response_header_set("Content-Length", "99") == 0
    asyncio.run(session.complete())
    response = sink.response
    assert response.reason == "bad  reason"
    assert [h for h in response.headers if h[0].lower().startswith("x-")] == [("x-a", "2")]
    assert response.header("content-length") == "0"  # the server owns framing headers
    assert session.ignored_framing_headers == ["Content-Length"]


@pytest.mark.parametrize(
    ("code", "rc"),
    [
        (99, errno.EINVAL),
        (100, errno.EINVAL),  # 1xx are interim responses, never the final one
        (101, errno.EINVAL),
        (199, errno.EINVAL),
        (200, 0),
        (999, 0),
        (1000, errno.EINVAL),  # no room in the three-digit status line
    ],
)
def test_status_set_takes_only_final_statuses(code, rc):
    session, sink = make_session()
    assert session.response_status_set(code, "x") == rc
    assert session.response_status_set_std(code, "x", None) == rc
    asyncio.run(session.complete())
    assert sink.response.status == (code if rc == 0 else 200)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X Bad", "v"),  # names are RFC 9110 tokens: no space,
        ("", "v"),
        ("X:A", "v"),  # no colon,
        ("X(A)", "v"),  # no delimiters,
        ("X-\xe9", "v"),  # nothing beyond ASCII
        ("Bad\nName", "v"),
        ("X-A", "nul\0byte"),  # values: no control character but HTAB
        ("X-A", "bell\x07"),
        ("X-A", "del\x7f"),
        ("X-A", "v\r\nInjected: 1"),
        ("X-A", "bare\nlf"),
        ("X-A", "bare\rcr"),
    ],
)
def test_header_set_refuses_what_the_wire_cannot_carry(name, value):
    session, sink = make_session()
    assert session.response_header_set(name, value) == errno.EINVAL
    asyncio.run(session.complete())
    assert [n for n, _ in sink.response.headers] == ["Date", "Content-Length"]


def test_header_set_keeps_htab_and_latin1_obs_text():
    session, sink = make_session()
    assert session.response_header_set("X-Tab", "a\tb") == 0
    assert session.response_header_set("X-Latin1", "caf\xe9") == 0
    asyncio.run(session.complete())
    assert sink.response.header("X-Tab") == "a\tb"
    assert sink.response.header("X-Latin1") == "caf\xe9"


def test_flush_streams_and_locks_the_head():
    session, sink = make_session()
    session.response_append(b"part1 ")
    assert session.response_flush(0) == 0
    assert sink.response.streamed and sink.response.body == b"part1 "
    assert session.response_status_set(404, "late") == errno.EALREADY
    assert session.response_header_set("X-Late", "1") == errno.EALREADY
    session.response_append(b"part2")
    assert session.response_flush(1) == 0
    assert session.response_append(b"more") == errno.EALREADY
    assert session.response_flush(0) == errno.EALREADY
    asyncio.run(session.complete())
    assert sink.response.body == b"part1 part2" and sink.response.status == 200


def test_fail_before_and_after_commit():
    session, sink = make_session()
    session.response_status_set_std(200, "fine", "text/html")
    session.response_append(b"partial")
    session.fail()
    assert (sink.response.status, sink.response.reason, sink.response.body) == (500, "ERROR", b"")
    assert sink.response.header("Content-Type") == "text/plain"

    session, sink = make_session()
    session.response_flush(0)
    session.fail()
    assert sink.aborted and sink.response.status == 200


class DepartedClientSink(CollectingSink):
    """A sink whose client has disconnected."""

    @property
    def peer_gone(self) -> bool:
        return True


def test_output_for_a_departed_client_is_dropped_not_kept():
    request = Request("GET", "/p", "1.1", [], b"")
    session = HttpSession(request, DepartedClientSink(request))
    for _ in range(3):
        assert session.response_append(b"x" * 1_000_000) == errno.EPIPE
        assert session.response_flush(0) == errno.EPIPE
    assert session.output_backlog == 0 and not session._pending
