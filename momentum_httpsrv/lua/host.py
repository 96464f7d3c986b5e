"""What packages installed into a Lua state (msys_async.py, thread_library.py) need from
it, so that they do not import runtime.py, which imports them."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

from lupa import lua51

from .boundary import LuaBoundary


class LuaHost(Protocol):
    """A Lua state as the packages installed into it see it (runtime.LuaState); they take
    this protocol rather than importing the runtime that installs them."""

    lua: lua51.LuaRuntime
    boundary: LuaBoundary
    api: Any
    core_internals: Any
    yield_services: dict[str, Callable[..., Coroutine[Any, Any, tuple]]]
    warn: Callable[[str], None]

    def run_package_lua(self, path: Path, *args: object) -> Any: ...

    def preload(self, name: str, opener: Callable[[], object], system: bool = True) -> None: ...

    async def run_task(
        self,
        start: Callable[[int], object],
        on_suspend: Callable[[], object] | None = None,
        on_resume: Callable[[], object] | None = None,
    ) -> tuple: ...

    async def run_in_task(
        self, function: object, *args: object, parent: int | None = None
    ) -> tuple: ...
