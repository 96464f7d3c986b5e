"""The outside world Lua reaches — DNS, outbound HTTP and the clock — behind one
replaceable seam.

``msys.dnsLookup``, ``msys.http.client``, ``msys.sleep``, ``msys.timer`` and
``msys.core.get_now_ts`` ask ``WORLD`` at the moment of the call, so a test can put a
fake in place (``momentum_httpsrv.testing.fakes``) for the whole process and every Lua
state already running sees it at once; ``serve`` uses the real ones.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Wall time, suspension and timers for Lua (msys.sleep, msys.timer, get_now_ts)."""

    #: A fake clock runs timers itself (when it is moved); the real one needs the loop.
    needs_loop: bool

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    def block(self, seconds: float) -> None:
        """Sleep where nothing can suspend (msys.sleep outside a task)."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable: ...


class RealClock:
    """The host's clock and the running event loop's timers."""

    needs_loop = True

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def block(self, seconds: float) -> None:
        time.sleep(seconds)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        return asyncio.get_running_loop().call_later(delay, callback)


@dataclass(frozen=True)
class DnsRecord:
    """One answer: its text as Momentum gives it, and the preference of MX records."""

    value: str
    preference: int | None = None


class DnsFailure(Exception):
    """A lookup that failed; ``code`` is what ``msys.dnsLookup`` returns as its error."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class DnsResolver(Protocol):
    async def lookup(self, name: str, rdtype: str, server: str | None) -> list[DnsRecord]:
        """Records of ``rdtype`` (upper case) for ``name``, best first; DnsFailure else."""
        ...


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    timeout: float | None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


class HttpFailure(Exception):
    """A transfer that failed as libcurl reports it: its error code and text."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class HttpTransport(Protocol):
    async def send(self, request: HttpRequest) -> HttpResponse:
        """The response, or HttpFailure (never another exception for network trouble)."""
        ...


@dataclass
class OutsideWorld:
    """What Lua talks to now. Real parts are made on first use, by the factories the
    modules that implement them install (msys_dns.py, msys_http.py), so this seam
    imports neither."""

    clock: Clock = field(default_factory=RealClock)
    real_dns: Callable[[], DnsResolver] | None = None
    real_http: Callable[[], HttpTransport] | None = None
    _dns: DnsResolver | None = None
    _http: HttpTransport | None = None

    @property
    def dns(self) -> DnsResolver:
        if self._dns is None:
            if self.real_dns is None:
                raise RuntimeError("no DNS resolver: momentum_httpsrv.lua.msys_dns is not loaded")
            self._dns = self.real_dns()
        return self._dns

    @property
    def http(self) -> HttpTransport:
        if self._http is None:
            if self.real_http is None:
                raise RuntimeError("no HTTP client: momentum_httpsrv.lua.msys_http is not loaded")
            self._http = self.real_http()
        return self._http

    @contextmanager
    def replaced(
        self,
        *,
        dns: DnsResolver | None = None,
        http: HttpTransport | None = None,
        clock: Clock | None = None,
    ) -> Iterator[None]:
        """Use the given parts until the block ends, then put back what was there."""
        saved = (self._dns, self._http, self.clock)
        if dns is not None:
            self._dns = dns
        if http is not None:
            self._http = http
        if clock is not None:
            self.clock = clock
        try:
            yield
        finally:
            self._dns, self._http, self.clock = saved


WORLD = OutsideWorld()


def run_blocking(coroutine: Coroutine[Any, Any, tuple]) -> tuple:
    """Run ``coroutine`` to its end from code that cannot suspend (a script's top level,
    ``init``, a console command outside a task): on a thread of its own with its own
    event loop, so it works whether or not a loop runs here — and blocks this thread, as
    the same call blocks Momentum's thread outside a session."""
    result: list[tuple] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as error:  # re-raised on the caller's thread
            failure.append(error)

    worker = threading.Thread(target=run, name="msys-blocking-call")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return result[0]


async def _closing(close: Callable[[], Awaitable[object]]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await close()


async def close_with_loop(close: Callable[[], Awaitable[object]]) -> AsyncIterator[None]:
    """Have ``close()`` awaited when the running loop shuts down (``asyncio.run`` and
    ``MomentumTestClient.close`` run its ``shutdown_asyncgens``), for a connection that
    belongs to that loop. Keep the returned object as long as the connection."""
    keeper = _closing(close)
    await anext(keeper)
    return keeper
