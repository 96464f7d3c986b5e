"""The endpoint registry behind ``ec_httpsrv_register`` (docs/request-lifecycle.md#dispatch).

One registry belongs to one configuration generation; a reload builds a new one by running
every module's ``rsrc_setup`` again and swaps it in whole.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class HandlerError(Exception):
    """A handler failed in its own code (a script error): the request is answered 500 and
    ``message`` with ``traceback`` goes to the paniclog. Bindings raise it for their
    language's errors, so the HTTP core needs no knowledge of any script runtime."""

    def __init__(
        self, message: str, traceback: str | None = None, session: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.traceback = traceback
        # The HttpSession a plain handler's binding made before it failed, if any
        # (docs/request-lifecycle.md#dispatch: the session-less path).
        self.session = session


class AuthVerdict(IntEnum):
    """What an authentication handler answers (ec_httpsrv's ``EC_AUTH_*`` codes)."""

    OK = 0
    FAIL = 1
    ERROR = 2


@dataclass(frozen=True)
class Registration:
    """One ``ec_httpsrv_register`` call: method None serves every method."""

    method: str | None
    base: str  # normalised: leading and trailing "/"
    handler: Any  # something the dispatcher knows how to run (a LuaHandler, a Python callable)
    closure: Any = None  # what ec_httpsrv_service_ctx_get returns
    job_class: int = -1

    def matches(self, method: str, path: str) -> bool:
        """Exact method (or any), and the path is the base or lies below it, segment-aware."""
        if self.method is not None and self.method != method:
            return False
        return path.startswith(self.base) or path == self.base[:-1]

    def describe(self) -> str:
        return f"{self.method or 'any method'} {self.base}"


def normalise_base_path(path: str) -> str:
    """``foo`` → ``/foo/``: Momentum 3 required the trailing slash, Momentum 4 made it optional."""
    if not path.startswith("/"):
        path = "/" + path
    if not path.endswith("/"):
        path += "/"
    return path


class EndpointRegistry:
    """Ordered registrations; the first one that matches wins."""

    def __init__(self, warn: Callable[[str], None] | None = None) -> None:
        self._registrations: list[Registration] = []
        self.warn: Callable[[str], None] = warn or (lambda message: None)

    def register(
        self,
        method: str | None,
        path: str | None,
        handler: Any,
        closure: Any = None,
        job_class: int = -1,
        instance: str | None = None,
    ) -> int:
        """``ec_httpsrv_register``: 0 on success, else an errno value (EINVAL), which is
        logged: a script never raises for it (docs/request-lifecycle.md#dispatch)."""
        if instance is not None:
            return self._refuse(f"instance {instance!r} given; virtual hosts are not supported")
        if not path:
            return self._refuse("empty endpoint path")
        if handler is None:
            return self._refuse(f"no handler for endpoint {path!r}")
        if not path.startswith("/"):
            self.warn(f"httpsrv: endpoint {path!r} has no leading '/'; registered as '/{path}'")
        base = normalise_base_path(path)
        for earlier in self._registrations:
            if earlier.base == base and earlier.method == method:
                self.warn(
                    f"httpsrv: {method or 'any method'} {base} registered again; "
                    "the earlier registration keeps answering"
                )
                break
        self._registrations.append(Registration(method, base, handler, closure, job_class))
        return 0

    def _refuse(self, why: str) -> int:
        self.warn(f"httpsrv: register: {why} (EINVAL)")
        return errno.EINVAL

    def match(self, method: str, path: str) -> Registration | None:
        for registration in self._registrations:
            if registration.matches(method, path):
                return registration
        return None

    def __iter__(self) -> Iterator[Registration]:
        return iter(self._registrations)

    def __len__(self) -> int:
        return len(self._registrations)
