"""``msys.http.client`` (docs/emulation.md#the-outside-world): the real transport (aiohttp) and the
service a suspended Lua task is answered by.

Momentum's client is libcurl's easy interface, so failures come back as libcurl reports
them: its error code and its error text (``false, "Timeout was reached", 28``). Like
curl, redirects are not followed, bodies are not decompressed, no User-Agent is sent,
and the host's CA store (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` honoured, as OpenSSL does)
verifies HTTPS servers.

aiohttp rather than httpx: for 200 concurrent requests on new connections httpx spent
5–25 ms of CPU per request on this machine (its pool is quadratic in waiting requests)
against 0.15–0.4 ms for aiohttp, and that CPU is time the event loop serves nobody else.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ssl
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp

from .outside import WORLD, HttpFailure, HttpRequest, HttpResponse, close_with_loop

# libcurl's codes and texts for the failures a transfer can end with.
CURLE_UNSUPPORTED_PROTOCOL = (1, "Unsupported protocol")
CURLE_URL_MALFORMAT = (3, "URL using bad/illegal format or missing URL")
CURLE_COULDNT_RESOLVE_HOST = (6, "Couldn't resolve host name")
CURLE_COULDNT_CONNECT = (7, "Couldn't connect to server")
CURLE_WEIRD_SERVER_REPLY = (8, "Weird server reply")
CURLE_OPERATION_TIMEDOUT = (28, "Timeout was reached")
CURLE_SSL_CONNECT_ERROR = (35, "SSL connect error")
CURLE_GOT_NOTHING = (52, "Server returned nothing (no headers, no data)")
CURLE_RECV_ERROR = (56, "Failure when receiving data from the peer")
CURLE_PEER_FAILED_VERIFICATION = (60, "SSL peer certificate or SSH remote key was not OK")


def curl_failure(error: BaseException) -> tuple[int, str]:
    """The libcurl code and text for what went wrong."""
    if isinstance(error, (TimeoutError, aiohttp.ServerTimeoutError)):
        return CURLE_OPERATION_TIMEDOUT
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return CURLE_PEER_FAILED_VERIFICATION
    if isinstance(error, (aiohttp.ClientConnectorSSLError, aiohttp.ClientSSLError)):
        return CURLE_SSL_CONNECT_ERROR
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return CURLE_COULDNT_RESOLVE_HOST
    if isinstance(error, aiohttp.ClientConnectorError):
        return CURLE_COULDNT_CONNECT
    if isinstance(error, aiohttp.NonHttpUrlClientError):
        return CURLE_UNSUPPORTED_PROTOCOL
    if isinstance(error, (aiohttp.InvalidURL, ValueError)):
        return CURLE_URL_MALFORMAT
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return CURLE_GOT_NOTHING
    if isinstance(error, aiohttp.ClientResponseError):  # an unparsable status line or head
        return CURLE_WEIRD_SERVER_REPLY
    return CURLE_RECV_ERROR


def _load_ca_store() -> concurrent.futures.Future[ssl.SSLContext]:
    """The host's CA store, loaded on a thread of its own; a future any loop can await."""
    future: concurrent.futures.Future[ssl.SSLContext] = concurrent.futures.Future()

    def run() -> None:
        try:
            future.set_result(ssl.create_default_context())
        except BaseException as error:  # handed to whoever awaits it
            future.set_exception(error)

    threading.Thread(target=run, name="ca-store", daemon=True).start()
    return future


class AiohttpTransport:
    """One aiohttp session (connection pool) per event loop, made on first use there and
    closed when that loop shuts down."""

    def __init__(self) -> None:
        self._ssl: ssl.SSLContext | None = None
        self._ssl_loading: concurrent.futures.Future[ssl.SSLContext] | None = None
        self._sessions: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[aiohttp.ClientSession, AsyncIterator[None]]
        ] = weakref.WeakKeyDictionary()

    async def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._ssl is None:  # loading the CA store takes tens of ms: once, off the loop
            if self._ssl_loading is None:
                self._ssl_loading = _load_ca_store()
            # then dropped: the future's callbacks refer to the loops that awaited it
            self._ssl, self._ssl_loading = await asyncio.wrap_future(self._ssl_loading), None
        entry = self._sessions.get(loop)
        if entry is None or entry[0].closed:
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ssl=self._ssl),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
                trust_env=False,
            )
            keeper = await close_with_loop(self._closer(loop, session))
            entry = self._sessions[loop] = (session, keeper)
        return entry[0]

    def _closer(
        self, loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession
    ) -> Callable[[], Awaitable[None]]:
        """Close ``session`` and forget it (the entry refers to its loop: kept, the loop
        would never be freed)."""

        async def close() -> None:
            self._sessions.pop(loop, None)
            await session.close()

        return close

    async def send(self, request: HttpRequest) -> HttpResponse:
        try:
            session = await self._session()
            async with session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.body or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=request.timeout),
            ) as response:
                body = await response.read()
        except (TimeoutError, aiohttp.ClientError, ValueError) as error:
            raise HttpFailure(*curl_failure(error)) from error
        return HttpResponse(
            response.status,
            response.reason or "",
            [(name.decode("latin-1"), value.decode("latin-1"))
             for name, value in response.raw_headers],
            body,
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


WORLD.real_http = AiohttpTransport  # the client WORLD makes when no fake is in place
