"""Fakes for the outside world a script reaches: DNS, outbound HTTP and the clock.

Each is a context manager that puts itself in place for the whole process while the
block runs (every Lua state sees it, including one already serving), so they work
with ``MomentumTestClient`` directly::

    with FakeDns() as dns, MomentumTestClient("conf/ecelerity.conf") as client:
        dns.add("example.com", "MX", "10 mx1.example.com", "20 mx2.example.com")
        client.get("/mx?domain=example.com")

and, in pytest, as the fixtures ``momentum_dns``, ``momentum_http`` and
``momentum_clock`` (a test enables each one by asking for it).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field

from ..lua.outside import (
    WORLD,
    DnsFailure,
    DnsRecord,
    HttpFailure,
    HttpRequest,
    HttpResponse,
)


class _Installed:
    """``with fake:`` puts the fake in place and takes it away again."""

    _stack: ExitStack | None = None

    def _replacement(self) -> dict[str, object]:
        raise NotImplementedError

    def __enter__(self):  # type: ignore[no-untyped-def]
        self._stack = ExitStack()
        self._stack.enter_context(WORLD.replaced(**self._replacement()))  # type: ignore[arg-type]
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._stack is not None
        self._stack.close()
        self._stack = None


class FakeDns(_Installed):
    """Answers from records a test adds; NXDOMAIN for every other name. ``questions``
    lists ``(name, type, server)`` as asked (type in upper case, server or None)."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], list[DnsRecord]] = {}
        self._failures: dict[tuple[str, str | None], str] = {}
        self.questions: list[tuple[str, str, str | None]] = []

    def _replacement(self) -> dict[str, object]:
        return {"dns": self}

    def add(self, name: str, rtype: str, *values: str | tuple[int, str]) -> FakeDns:
        """Records for ``name``: strings; MX as ``"10 mx.example.com"`` or ``(10, "mx…")``."""
        records = self._records.setdefault((_name_key(name), rtype.upper()), [])
        for value in values:
            if rtype.upper() == "MX":
                preference, host = value if isinstance(value, tuple) else value.split(None, 1)
                records.append(DnsRecord(host.rstrip("."), int(preference)))
            else:
                records.append(DnsRecord(str(value)))
        return self

    def fail(self, name: str, code: str = "SERVFAIL", rtype: str | None = None) -> FakeDns:
        """Make lookups of ``name`` (of one type, or any) fail with ``code``."""
        self._failures[_name_key(name), rtype.upper() if rtype else None] = code
        return self

    async def lookup(self, name: str, rdtype: str, server: str | None) -> list[DnsRecord]:
        self.questions.append((name, rdtype, server))
        key = _name_key(name)
        code = self._failures.get((key, rdtype)) or self._failures.get((key, None))
        if code is not None:
            raise DnsFailure(code)
        records = self._records.get((key, rdtype))
        if records is not None:
            return list(records)
        if any(known == key for known, _ in self._records):
            raise DnsFailure("NODATA")
        raise DnsFailure("NXDOMAIN")


def _name_key(name: str) -> str:
    return name.lower().rstrip(".")


@dataclass
class _Canned:
    status: int
    body: bytes
    headers: list[tuple[str, str]]
    reason: str
    failure: HttpFailure | None = None


class FakeHttp(_Installed):
    """Canned responses by method and URL. ``requests`` lists every request sent
    (``HttpRequest``: method, url, headers, body, timeout); a request to anything not
    registered is refused as a closed port is (``false, "Couldn't connect to server",
    7``) and also listed in ``refused``."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], _Canned] = {}
        self.requests: list[HttpRequest] = []
        self.refused: list[HttpRequest] = []

    def _replacement(self) -> dict[str, object]:
        return {"http": self}

    def add(
        self,
        method: str,
        url: str,
        status: int = 200,
        body: bytes | str = b"",
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        reason: str | None = None,
    ) -> FakeHttp:
        from http import HTTPStatus

        if isinstance(body, str):
            body = body.encode()
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        if reason is None:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = ""
        self._routes[method.upper(), url] = _Canned(status, body, pairs, reason)
        return self

    def fail(self, method: str, url: str, code: int = 28,
             message: str = "Timeout was reached") -> FakeHttp:
        """Make a request fail as libcurl reports it (default: a timeout)."""
        self._routes[method.upper(), url] = _Canned(0, b"", [], "", HttpFailure(code, message))
        return self

    async def send(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        canned = self._routes.get((request.method, request.url))
        if canned is None:
            self.refused.append(request)
            raise HttpFailure(7, "Couldn't connect to server")
        if canned.failure is not None:
            raise canned.failure
        return HttpResponse(canned.status, canned.reason, canned.headers, canned.body)


@dataclass(order=True)
class _Timer:
    deadline: float
    order: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock(_Installed):
    """Time that moves only when told: ``msys.sleep(n)`` moves it forward by ``n`` and
    returns at once; ``advance(seconds)`` moves it and runs the ``msys.timer`` callbacks
    that fall due, in order; ``msys.core.get_now_ts`` reads it."""

    needs_loop = False

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = float(start)
        self._timers: list[_Timer] = []
        self._order = itertools.count()

    def _replacement(self) -> dict[str, object]:
        return {"clock": self}

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> _Timer:
        timer = _Timer(self.now + max(0.0, delay), next(self._order), callback)
        heapq.heappush(self._timers, timer)
        return timer

    def _due(self, target: float) -> Iterator[_Timer]:
        """The timers due by ``target`` in order, the clock set to each one's deadline
        as it comes; then the clock at ``target``."""
        while self._timers and self._timers[0].deadline <= target:
            timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                self.now = max(self.now, timer.deadline)
                yield timer
        self.now = max(self.now, target)

    async def sleep(self, seconds: float) -> None:
        for timer in self._due(self.now + seconds):
            timer.callback()
            await asyncio.sleep(0)  # its callback starts before the clock moves on
        await asyncio.sleep(0)

    def block(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move the clock forward and run what falls due, each timer's callback at its
        own time and to its end (msys.sleep inside them included) before the next."""
        target = self.now + seconds
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self._advance_and_wait(target))
        else:  # called from inside a loop: start what is due, don't wait for it
            for timer in self._due(target):
                timer.callback()

    async def _advance_and_wait(self, target: float) -> None:
        me = asyncio.current_task()
        for timer in self._due(target):
            timer.callback()
            while pending := [task for task in asyncio.all_tasks() if task is not me]:
                await asyncio.gather(*pending, return_exceptions=True)

