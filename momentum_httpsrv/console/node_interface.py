"""What the console needs from the node it runs on. ``node.py`` builds the console, so the
console reaches the node only through these protocols and never imports ``node.py``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from ..config import ConfigOption, ConfigScope, Configuration
from ..httpsrv.routing import EndpointRegistry
from ..lua.runtime import LuaState
from ..paniclog import Paniclog
from .mailqueue import MailQueue
from .registry import CommandOutcome, ControlRegistry

_Changed = TypeVar("_Changed")


class HttpRegistrations(Protocol):
    """A generation's endpoint and auth registries."""

    @property
    def registry(self) -> EndpointRegistry: ...

    @property
    def auth_registry(self) -> EndpointRegistry: ...


class LuaCommands(Protocol):
    """The commands a generation's scripts registered, and running them (control.py)."""

    @property
    def registry(self) -> ControlRegistry: ...

    async def run_command(
        self, command_id: int, words: list[str], line: str, xml: bool
    ) -> CommandOutcome: ...

    async def evaluate(self, source: str) -> CommandOutcome: ...


class ConsoleGeneration(Protocol):
    """One configuration generation, as console commands read it."""

    @property
    def number(self) -> int: ...

    @property
    def config(self) -> Configuration: ...

    @property
    def lua(self) -> LuaState: ...

    @property
    def httpsrv(self) -> HttpRegistrations: ...

    @property
    def control(self) -> LuaCommands: ...


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
