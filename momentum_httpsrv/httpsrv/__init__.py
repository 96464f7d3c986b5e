"""The HTTP core: requests and responses, the session API every ``ec_httpsrv_*`` function
lives on (``HttpSession``, session.py), the endpoint registry and the dispatcher. It knows
nothing of Lua: handlers are callables, their failures ``HandlerError``; the Lua face is
``lua_binding.py`` + ``session.lua``.

Internal modules: ``protocol``, ``httptools_protocol``, ``h11_protocol``, ``wire`` (the sans-IO
HTTP/1.1 machinery under ``listener``), ``access``, ``auth``, ``tls`` (configured by the
node).
"""

from .dispatch import Dispatcher
from .requests import OFFLINE_CONNECTION, ConnectionInfo, Request
from .responses import CollectingSink, Response, ResponseSink
from .routing import AuthVerdict, EndpointRegistry, HandlerError, Registration
from .session import HANDLER_ASYNC, HANDLER_DONE, HttpSession
from .url import UrlDetails, UrlParseError, parse_url

__all__ = [
    "HANDLER_ASYNC",
    "HANDLER_DONE",
    "OFFLINE_CONNECTION",
    "AuthVerdict",
    "CollectingSink",
    "ConnectionInfo",
    "Dispatcher",
    "EndpointRegistry",
    "HandlerError",
    "HttpSession",
    "Registration",
    "Request",
    "Response",
    "ResponseSink",
    "UrlDetails",
    "UrlParseError",
    "parse_url",
]
