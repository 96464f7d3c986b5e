"""The rest of the ec_httpsrv C API in Python: getters, context, vprintf/string/io
writers, streaming completion, and the suspend/resume state rules
(docs/request-lifecycle.md#suspend-and-resume)."""

import asyncio
import errno
import io
import threading

import pytest

from momentum_httpsrv.httpsrv.dispatch import Dispatcher
from momentum_httpsrv.httpsrv.requests import ConnectionInfo, Request
from momentum_httpsrv.httpsrv.responses import CollectingSink
from momentum_httpsrv.httpsrv.routing import EndpointRegistry
from momentum_httpsrv.httpsrv.session import HANDLER_ASYNC, HttpSession, SocketAddress

CONNECTION = ConnectionInfo(7, "127.0.0.1:2081", ("10.0.0.9", 5555), ("127.0.0.1", 2081))


def make_session(headers=(), body=b"", connection=CONNECTION):
    sink = CollectingSink()
    request = Request("POST", "/p", "1.1", list(headers), body, connection)
    return HttpSession(request, sink), sink


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("text/plain", (0, "text/plain", None)),
        ('application/json; Charset="UTF-8"', (0, "application/json", "UTF-8")),
        (" Text/XML ;q=1; charset=latin1", (0, "Text/XML", "latin1")),
        (None, (errno.ENOENT, None, None)),
    ],
)
def test_content_type_get(header, expected):
    session, _ = make_session([("Content-Type", header)] if header else [])
    assert session.request_content_type_get() == expected


def test_connection_getters():
    session, _ = make_session()
    assert session.request_accept_construct_get() is CONNECTION
    assert str(session.request_peer_address()) == "10.0.0.9:5555"
    assert str(SocketAddress("::1", 80)) == "[::1]:80"
    assert session.request_local_address() == SocketAddress("127.0.0.1", 2081)
    assert session.request_username_get() is None and session.request_subject_cn_get() is None
    event = session.request_event_get()
    assert event is not session.request_event_get() and event.closure is session
    assert session.request_event_get_scheduler_inst() is event.scheduler


def test_context_and_payload_handles():
    session, _ = make_session(body=b"payload")
    session.ctx_set({"n": 1})
    assert session.ctx_get() == {"n": 1}
    first, second = session.request_data_get()[1], session.request_data_get()[1]
    assert first.read(3) == b"pay" and second.read() == b"payload"  # independent handles
    asyncio.run(session.complete())
    assert session.ctx_get() is None  # released at completion


class EagainOnce(io.BytesIO):
    """An IO object whose second read reports EAGAIN once."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0
        self.closed_by_session = False

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        if self.reads == 2:
            raise BlockingIOError(errno.EAGAIN, "later")
        return super().read(min(size, 4))

    def close(self) -> None:
        self.closed_by_session = True
        super().close()


def test_writers_and_immediate_io_with_eagain():
    session, sink = make_session()
    assert session.response_vprintf("%s=%d;", ["a", 1]) == 0
    assert session.response_vprintf("%d", ["x"]) == errno.EINVAL
    assert session.response_string(bytearray(b"S;")) == 0
    source = EagainOnce(b"0123456789")
    assert session.response_io(source, 1) == errno.EAGAIN
    assert session.response_io(source, 1) == 0  # continues, no duplication
    asyncio.run(session.complete())
    assert sink.response.body == b"a=1;S;0123456789"
    assert sink.response.header("Content-Length") == "16"


def test_streamed_io_keeps_order_and_is_closed():
    session, sink = make_session()
    session.response_append(b"<")
    source = EagainOnce(b"stream")
    assert session.response_io(source, 0) == 0
    session.response_append(b">")
    assert session.response_flush(1) == 0  # sends "<", the rest waits for completion
    assert sink.response.body == b"<" and not sink.finished
    assert session.response_append(b"late") == errno.EALREADY
    asyncio.run(session.complete())
    assert sink.response.body == b"<stream>" and sink.response.streamed and sink.finished
    assert source.closed_by_session


def test_suspend_resume_state_rules():
    session, _ = make_session()
    assert session.session_resume(0) == errno.EINVAL  # not suspended
    assert session.session_suspend() == 0
    assert session.session_suspend() == errno.EBADF  # already suspended
    assert session.session_resume(1) == 0  # early resume is queued
    assert session.session_resume(0) == errno.EINVAL  # one resume at a time
    assert asyncio.run(session.wait_resumed()) == 1 and not session.suspended
    result = []
    thread = threading.Thread(target=lambda: result.append(session.session_suspend()))
    thread.start()
    thread.join()
    assert result == [errno.EINVAL]  # only the owning thread may suspend
    asyncio.run(session.complete())
    assert session.session_resume(0) == errno.EBADF  # completed


def run_python_handler(handler):
    registry = EndpointRegistry()
    registry.register("GET", "/h", handler)
    log = []
    sink = CollectingSink()
    dispatcher = Dispatcher(registry, lambda message, tb: log.append(message))
    asyncio.run(dispatcher(Request("GET", "/h"), sink))
    return sink, log


def test_async_python_handler_is_called_again_then_finished_from_a_thread():
    calls = []

    def handler(session):
        calls.append(session.ctx_get())
        session.response_append(f"pass{len(calls)};".encode())
        if len(calls) == 1:
            session.ctx_set("continuation")
            session.session_suspend()
            loop = asyncio.get_running_loop()
            loop.call_later(0.01, session.session_resume, 0)
            return HANDLER_ASYNC
        session.session_suspend()
        threading.Timer(0.01, session.session_resume, (1,)).start()
        return HANDLER_ASYNC

    sink, log = run_python_handler(handler)
    assert calls == [None, "continuation"]
    assert sink.response.body == b"pass1;pass2;" and sink.finished and not log


def test_async_without_suspend_is_an_error():
    sink, log = run_python_handler(lambda session: HANDLER_ASYNC)
    assert sink.response.status == 500 and "without session_suspend" in log[0]


@pytest.mark.parametrize(
    ("args", "logged"),
    [
        (("GET", "", lambda session: None), "empty endpoint path"),
        (("GET", None, lambda session: None), "empty endpoint path"),
        (("GET", "/h", None), "no handler for endpoint '/h'"),
        (("GET", "/h", lambda session: None, None, -1, "vhost"), "instance 'vhost'"),
    ],
)
def test_register_einval_is_logged_not_silent(args, logged):
    warnings = []
    registry = EndpointRegistry(warn=warnings.append)
    assert registry.register(*args) == errno.EINVAL
    assert len(registry) == 0
    assert len(warnings) == 1 and logged in warnings[0] and "EINVAL" in warnings[0]


def test_framing_header_override_is_warned_once_per_endpoint_and_header():
    warnings, errors = [], []
    registry = EndpointRegistry(warn=warnings.append)

    def handler(session):
        session.response_header_set("Content-Length", "99")
        session.response_header_set("Connection", "keep-alive")

    registry.register("GET", "/a", handler)
    registry.register("GET", "/b", handler)
    dispatcher = Dispatcher(registry, lambda message, tb: errors.append(message))
    for target in ("/a", "/a", "/b", "/a"):
        sink = CollectingSink()
        asyncio.run(dispatcher(Request("GET", target), sink))
        assert sink.response.status == 200 and sink.response.header("Content-Length") == "0"
    assert errors == []  # a warning, not an error
    assert warnings == [
        "httpsrv: GET /a/: the server owns framing headers; "
        "ignored Content-Length, Connection (reported once)",
        "httpsrv: GET /b/: the server owns framing headers; "
        "ignored Content-Length, Connection (reported once)",
    ]
