"""The session-less path (docs/request-lifecycle.md#dispatch): a Lua endpoint whose handler
uses only what session.lua keeps is answered with no HttpSession made; one that calls a
method needing the host gets a session made at that call, and every handler answers
exactly as it does through the session path (the same handlers, driven both ways)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lua_site import LuaSite

from momentum_httpsrv.httpsrv.lua_binding import LuaHandler
from momentum_httpsrv.httpsrv.requests import OFFLINE_CONNECTION, Request
from momentum_httpsrv.httpsrv.responses import CollectingSink, Response
from momentum_httpsrv.httpsrv.session import HttpSession
from momentum_httpsrv.httpsrv.url import parse_url

SITE = r"""
require("msys.extended.httpsrv")
local R = msys.httpsrv.register
R("GET", "/plain", function(s)
  s:response_status_set_std(200, "OK", "text/plain")
  s:response_append("hello world\n")
end)
R("GET", "/nothing", function(s) end)
R("GET", "/std-body", function(s) s:response_status_set_std(404, "Gone away", "text/html") end)
R("GET", "/std-empty", function(s) s:response_status_set_std(201, "", nil) end)
R("GET", "/helpers", function(s)
  s:response_status_not_found("text/plain")
  s:response_status_ok()
end)
R("GET", "/rc", function(s)
  local rcs = { s:response_status_set(99), s:response_status_set(1000),
                s:response_header_set("Bad Name", "v"), s:response_header_set("X", "a\nb") }
  s:response_status_set(299)
  s:response_header_set("X-Rc", table.concat(rcs, ","))
end)
R("GET", "/reason", function(s) s:response_status_set(200, "Fine\r\nX-Injected: 1") end)
R("GET", "/headers", function(s)
  s:response_header_set("X-A", "1")
  s:response_header_set("X-B", "2")
  s:response_header_set("x-a", "3")
  s:response_header_set("X-B", nil)
  s:response_header_set("X-N", 42)
  s:response_append(12.5)
end)
R("GET", "/framing", function(s)
  s:response_header_set("Content-Length", "999")
  s:response_header_set("Connection", "close")
  s:response_append("framed by the server")
end)
R("GET", "/no-content", function(s) s:response_status_set(204); s:response_append("dropped") end)
R("HEAD", "/head", function(s) s:response_append("not sent") end)
R("GET", "/printf", function(s)
  s:response_printf("%d-%s", 7, "x")
  s:response_json({ a = 1 })
end)
R("GET", "/ask-host", function(s)
  s:response_status_set(202, "Taken")
  s:response_append("before ")
  s:response_append(s:request_header_get("X-Who") or "nobody")
  s:response_header_set("X-After", "yes")
end)
R("GET", "/flush", function(s)
  s:response_append("first ")
  s:response_flush()
  s:response_append("second")
end)
R("GET", "/sleep", function(s)
  s:response_status_set(203)
  s:response_append("a")
  msys.sleep(0.001)
  s:response_append("b")
end)
R("GET", "/fails", function(s)
  s:response_append("partial")
  error("broken")
end)
R("GET", "/fails-after-host", function(s)
  s:response_append(s:request_header_get("Host"))
  error("broken later")
end)
R(nil, "/url", function(s)
  local u = s:request_url_get()
  local attrs = u.attrs and (tostring(u.attrs.x) .. "," .. tostring(u.attrs.y)) or ""
  s:response_append(table.concat({ s:request_method_get(), tostring(u), u.url, u.path,
    tostring(u.scheme), tostring(u.host), tostring(u.port), tostring(u.raw_query),
    tostring(u.query), tostring(u.fragment), tostring(u.userinfo and u.userinfo.user),
    attrs, tostring(s:request_url_get() == u) }, "|"))
end)
R("GET", "/ctx", function(s)
  s:ctx_set("kept")
  s:response_append(s:ctx_get() .. " " .. tostring(s:service_ctx_get()))
end, "the closure")
R("GET", "/returns", function(s) s:response_append("x"); return "odd" end)
"""

TARGETS = [
    ("GET", "/plain"), ("GET", "/nothing"), ("GET", "/std-body"), ("GET", "/std-empty"),
    ("GET", "/helpers"), ("GET", "/rc"), ("GET", "/reason"), ("GET", "/headers"),
    ("GET", "/framing"), ("GET", "/no-content"), ("HEAD", "/head"), ("GET", "/printf"),
    ("GET", "/ask-host"), ("GET", "/flush"), ("GET", "/sleep"), ("GET", "/fails"),
    ("GET", "/fails-after-host"), ("GET", "/ctx"), ("GET", "/returns"),
    ("GET", "/plain?q=1"), ("GET", "/plain/below"),
    ("GET", "/url"), ("POST", "/url/a.b-c_~!$&'()*+,;=:@"), ("GET", "/url?x=1&y=%41"),
    ("GET", "/url/%7e"), ("GET", "/url#frag"), ("PUT", "http://u:p@h:81/url/x?q"),
]
# What needs no session: the rest call a host method or suspend.
SESSION_LESS = {"/plain", "/nothing", "/std-body", "/std-empty", "/helpers", "/rc", "/reason",
                "/headers", "/framing", "/no-content", "/head", "/printf", "/ctx", "/returns",
                "/plain?q=1", "/plain/below", "/fails", "/url", "/url/a.b-c_~!$&'()*+,;=:@"}


def served(site: LuaSite, method: str, target: str) -> tuple:
    """Everything the client and the paniclog see of one request (Date aside)."""
    request = Request(method, target, "1.1", [("Host", "t"), ("X-Who", "me")], b"",
                      OFFLINE_CONNECTION)
    sink = CollectingSink(request)
    site.log.clear()

    async def main() -> None:
        pending = site.dispatch.start(request, sink)
        if pending is not None:
            await pending

    asyncio.run(main())
    response = sink.response
    assert isinstance(response, Response)
    headers = [(k, v) for k, v in response.headers if k != "Date"]
    log = [line.split("\n")[0] for line in site.log]
    return (response.status, response.reason, headers, response.body, response.streamed,
            sink.aborted, log)


def test_the_same_handlers_answer_alike_with_and_without_a_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = LuaSite(SITE, tmp_path)
    plain = {target: served(site, method, target) for method, target in TARGETS}
    assert site.dispatch.plain_answers > 0
    site = LuaSite(SITE, tmp_path)  # framing warnings are once per dispatcher
    with monkeypatch.context() as patch:  # the session path: every request gets one first
        patch.delattr(LuaHandler, "serve_plain")
        with_session = {target: served(site, method, target) for method, target in TARGETS}
    assert site.dispatch.plain_answers == 0
    assert plain == with_session
    # A few pinned, so that "alike" is not "alike and wrong".
    assert plain["/std-body"][:4] == (404, "Gone away", [("Content-Type", "text/html"),
                                                         ("Content-Length", "9")], b"Gone away")
    assert plain["/ask-host"][3] == b"before me"
    assert plain["/rc"][2][0] == ("X-Rc", "22,22,22,22")
    assert plain["/framing"][2:4] == ([("Content-Length", "20")],
                                      b"framed by the server")
    assert plain["/framing"][6] == [
        "httpsrv: GET /framing/: the server owns framing headers; ignored Content-Length, "
        "Connection (reported once)"
    ]
    assert plain["/fails"][:2] == (500, "ERROR") and "broken" in plain["/fails"][6][0]
    for method, target in TARGETS:  # the URL a handler sees is ec_parse_url's
        if "/url" in target:
            url = parse_url(target)
            attrs = ",".join(dict(url.attrs).get(k, "nil") for k in "xy") if url.attrs else ""
            expected = "|".join(str(part) for part in (
                method, url.url, url.url, url.path, url.scheme, url.host, url.port,
                url.raw_query, url.query, url.fragment, url.user, attrs, "true"))
            assert plain[target][3] == expected.replace("None", "nil").encode("latin-1")


def test_a_plain_handler_makes_no_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = LuaSite(SITE, tmp_path)
    made: list[HttpSession] = []
    original = HttpSession.__init__

    def counting(self: HttpSession, *args: object, **kwargs: object) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(HttpSession, "__init__", counting)
    for method, target in TARGETS:
        before, answered = len(made), site.dispatch.plain_answers
        served(site, method, target)
        if target in SESSION_LESS - {"/fails"}:
            assert (len(made), site.dispatch.plain_answers) == (before, answered + 1), target
        else:  # one session, made when the handler needed it (the failure's: to answer 500)
            assert (len(made), site.dispatch.plain_answers) == (before + 1, answered), target
    assert site.binding.sessions == {}
    # made by the binding at a host call: /ask-host, /flush, /sleep, /fails-after-host, and
    # the URLs with something to parse (the rest go through the session path)
    assert site.binding.sessions_made == 5


def test_a_session_made_mid_way_keeps_what_the_handler_set_before(tmp_path: Path) -> None:
    site = LuaSite(SITE, tmp_path)
    status, reason, headers, body, streamed, aborted, log = served(site, "GET", "/ask-host")
    assert (status, reason, body, streamed, aborted, log) == (
        202, "Taken", b"before me", False, False, [])
    assert ("X-After", "yes") in headers
    status, reason, headers, body, streamed, aborted, log = served(site, "GET", "/flush")
    assert (body, streamed) == (b"first second", True)
