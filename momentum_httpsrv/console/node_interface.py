"""What the console needs from the node it runs on. ``node.py`` builds the console, so the
console reaches the node only through these protocols and never imports ``node.py``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from ..config import ConfigOption, ConfigScope, Configuration
from ..httpsrv.routing import EndpointRegistry
from ..paniclog import Paniclog
from .control import LuaControlBinding
from .mailqueue import MailQueue

_Changed = TypeVar("_Changed")


class HttpRegistrations(Protocol):
    """A generation's endpoint and auth registries."""

    @property
    def registry(self) -> EndpointRegistry: ...

    @property
    def auth_registry(self) -> EndpointRegistry: ...


class LuaModules(Protocol):
    """The generation's Lua state, as far as ``module list`` reads it."""

    def module_names(self) -> list[str]: ...


class ConsoleGeneration(Protocol):
    """One configuration generation, as console commands read it."""

    @property
    def number(self) -> int: ...

    @property
    def config(self) -> Configuration: ...

    @property
    def lua(self) -> LuaModules: ...

    @property
    def httpsrv(self) -> HttpRegistrations: ...

    @property
    def control(self) -> LuaControlBinding: ...


class ConsoleNode(Protocol):
    """The node: its running generation, paniclog and mail queue; reload, config changes
    and shutdown."""

    @property
    def generation(self) -> ConsoleGeneration | None: ...

    @property
    def paniclog(self) -> Paniclog | None: ...

    @property
    def mail_queue(self) -> MailQueue: ...

    def request_shutdown(self) -> None: ...

    async def reload(self, path: Path | str | None = None) -> ConsoleGeneration: ...

    async def change_config(
        self,
        change: Callable[[], _Changed],
        scope: ConfigScope,
        name: str,
        previous: ConfigOption | None,
    ) -> _Changed: ...
