"""``msys.http.client`` (lua-runtime.md §4.11): the real transport (httpx, asynchronous)
and the service a suspended Lua task is answered by.

Momentum's client is libcurl's easy interface, so failures come back as libcurl reports
them: its error code and its error text (``false, "Timeout was reached", 28``). Like
curl, redirects are not followed, and the host's CA store (``SSL_CERT_FILE`` /
``SSL_CERT_DIR`` honoured, as OpenSSL does) verifies HTTPS servers.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import weakref

import httpx

from .outside import WORLD, HttpFailure, HttpRequest, HttpResponse

# libcurl's codes and texts for the failures a transfer can end with.
CURLE_UNSUPPORTED_PROTOCOL = (1, "Unsupported protocol")
CURLE_URL_MALFORMAT = (3, "URL using bad/illegal format or missing URL")
CURLE_COULDNT_RESOLVE_HOST = (6, "Couldn't resolve host name")
CURLE_COULDNT_CONNECT = (7, "Couldn't connect to server")
CURLE_WEIRD_SERVER_REPLY = (8, "Weird server reply")
CURLE_OPERATION_TIMEDOUT = (28, "Timeout was reached")
CURLE_SSL_CONNECT_ERROR = (35, "SSL connect error")
CURLE_GOT_NOTHING = (52, "Server returned nothing (no headers, no data)")
CURLE_SEND_ERROR = (55, "Failed sending data to the peer")
CURLE_RECV_ERROR = (56, "Failure when receiving data from the peer")
CURLE_PEER_FAILED_VERIFICATION = (60, "SSL peer certificate or SSH remote key was not OK")


def _connect_failure(error: httpx.ConnectError) -> tuple[int, str]:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return CURLE_COULDNT_RESOLVE_HOST
        if isinstance(cause, ssl.SSLCertVerificationError):
            return CURLE_PEER_FAILED_VERIFICATION
        if isinstance(cause, ssl.SSLError):
            return CURLE_SSL_CONNECT_ERROR
        cause = cause.__cause__ or cause.__context__
    text = str(error)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return CURLE_PEER_FAILED_VERIFICATION
    if "SSL" in text:
        return CURLE_SSL_CONNECT_ERROR
    if "Name or service not known" in text or "nodename nor servname" in text:
        return CURLE_COULDNT_RESOLVE_HOST
    return CURLE_COULDNT_CONNECT


def curl_failure(error: Exception) -> tuple[int, str]:
    """The libcurl code and text for what went wrong."""
    if isinstance(error, (httpx.TimeoutException, TimeoutError)):
        return CURLE_OPERATION_TIMEDOUT
    if isinstance(error, httpx.ConnectError):
        return _connect_failure(error)
    if isinstance(error, httpx.UnsupportedProtocol):  # httpx says so of "http://" too
        return CURLE_URL_MALFORMAT if "missing" in str(error) else CURLE_UNSUPPORTED_PROTOCOL
    if isinstance(error, (httpx.InvalidURL, ValueError)):
        return CURLE_URL_MALFORMAT
    if isinstance(error, httpx.RemoteProtocolError):
        if "without sending" in str(error):
            return CURLE_GOT_NOTHING
        return CURLE_WEIRD_SERVER_REPLY
    if isinstance(error, httpx.WriteError):
        return CURLE_SEND_ERROR
    return CURLE_RECV_ERROR


class HttpxTransport:
    """One httpx client (connection pool) per event loop, made on first use there."""

    def __init__(self) -> None:
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, httpx.AsyncClient
        ] = weakref.WeakKeyDictionary()

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = httpx.AsyncClient(
                verify=ssl.create_default_context(),
                follow_redirects=False,
                trust_env=False,
                timeout=None,
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=20),
            )
            self._clients[loop] = client
        return client

    async def send(self, request: HttpRequest) -> HttpResponse:
        try:
            async with asyncio.timeout(request.timeout):
                response = await self._client().request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    content=request.body or None,
                    timeout=httpx.Timeout(request.timeout),
                )
        except (httpx.HTTPError, TimeoutError, ValueError) as error:
            raise HttpFailure(*curl_failure(error)) from error
        return HttpResponse(
            response.status_code,
            response.reason_phrase,
            [(name.decode("latin-1"), value.decode("latin-1"))
             for name, value in response.headers.raw],
            response.content,
        )


def parse_header_lines(text: str) -> list[tuple[str, str]]:
    """``set_header`` lines (``Name: value``, one per line) as pairs."""
    pairs = []
    for line in text.split("\n"):
        name, colon, value = line.partition(":")
        if colon and name.strip():
            pairs.append((name.strip(), value.strip()))
    return pairs


async def http_request_service(
    method: str, url: str, body: str | None, timeout: float | None, header_text: str
) -> tuple:
    """``true, status, reason, body, header lines (\\n-joined)`` or ``false, text, code``."""
    request = HttpRequest(
        str(method).upper(),
        str(url),
        parse_header_lines(str(header_text or "")),
        str(body).encode("latin-1") if body is not None else b"",
        float(timeout) if timeout is not None and timeout > 0 else None,
    )
    try:
        response = await WORLD.http.send(request)
    except HttpFailure as failure:
        return False, failure.message, failure.code
    lines = "\n".join(f"{name}: {value}" for name, value in response.headers)
    return True, response.status, response.reason, response.body.decode("latin-1"), lines
