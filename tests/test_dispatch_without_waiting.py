"""Dispatcher.start serves a request as far as it goes without waiting: a handler that
does not suspend is answered there with no coroutine; one that suspends leaves one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lua_site import LuaSite

from momentum_httpsrv.httpsrv.requests import OFFLINE_CONNECTION, Request
from momentum_httpsrv.httpsrv.responses import CollectingSink

SITE = r"""
require("msys.extended.httpsrv")
msys.httpsrv.register("GET", "/plain", function(s)
  s:response_status_set_std(200, "OK", "text/plain")
  s:response_append("hello world\n")
end)
msys.httpsrv.register("GET", "/sleep", function(s)
  msys.sleep(0.01)
  s:response_append("slept")
end)
"""


def request(target: str) -> Request:
    return Request("GET", target, "1.1", [("Host", "t")], b"", OFFLINE_CONNECTION)


def test_a_plain_handler_is_answered_at_once(tmp_path: Path) -> None:
    site = LuaSite(SITE, tmp_path)

    async def main() -> None:
        sink = CollectingSink()
        assert site.dispatch.start(request("/plain"), sink) is None
        assert sink.response is not None and sink.response.body == b"hello world\n"
        sink = CollectingSink()
        assert site.dispatch.start(request("/nowhere"), sink) is None  # the 404 too
        assert sink.response is not None and sink.response.status == 404

    asyncio.run(main())


def test_a_suspending_handler_leaves_a_coroutine_that_finishes_it(tmp_path: Path) -> None:
    site = LuaSite(SITE, tmp_path)

    async def main() -> None:
        sink = CollectingSink()
        pending = site.dispatch.start(request("/sleep"), sink)
        assert pending is not None and sink.response is None
        await pending
        assert sink.response is not None and sink.response.body == b"slept"

    asyncio.run(main())
