"""The Lua side of the console: ``msys.registerControl``, running a registered command with
its ``print`` output captured, ``scriptlet eval``, and ``msys.core``'s mail-queue calls.

Command functions stay in Lua; the host's ``ControlRegistry`` holds their numbers, and a
fresh registry is used for every configuration generation, like the endpoint registry.
When a registry is collected its numbers are queued (the collector may run inside a host
call, so it only queues) and control.lua forgets them when the next ``registerControl``
returns or the next command starts (runtime.py: the lupa rule).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Configuration
from ..lua.runtime import LuaScriptError, LuaState, RetiredLuaFunctions
from .mailqueue import MailQueue
from .msys_config import MsysConfig


@dataclass
class ControlRegistry:
    """Console command prefixes (as word tuples) registered in one generation."""

    warn: Callable[[str], None] = lambda message: None
    commands: dict[tuple[str, ...], int] = field(default_factory=dict)
    command_ids: list[int] = field(default_factory=list)  # every number given, replaced too

    def register(self, prefix: str, command_id: int) -> None:
        words = tuple(prefix.split())
        if words in self.commands:
            self.warn(f"registerControl: '{' '.join(words)}' registered again; the last one wins")
        self.commands[words] = command_id
        self.command_ids.append(command_id)

    def match(self, words: list[str]) -> tuple[tuple[str, ...], int] | None:
        """The longest registered prefix of ``words`` and its command number."""
        for length in range(len(words), 0, -1):
            prefix = tuple(words[:length])
            command_id = self.commands.get(prefix)
            if command_id is not None:
                return prefix, command_id
        return None

    def names(self) -> list[str]:
        return sorted(" ".join(words) for words in self.commands)


@dataclass(frozen=True)
class CommandOutcome:
    """What a Lua command printed, and its error if it raised one."""

    output: str
    error: LuaScriptError | None = None


class LuaControlBinding:
    """Installs the console's Lua API into one Lua state."""

    def __init__(
        self, state: LuaState, mail_queue: MailQueue, config: Configuration | None = None
    ) -> None:
        self.state = state
        # msys.config over the generation's tree; the node connects its console once the
        # generation runs (``msys_config.console``).
        self.msys_config = MsysConfig(state, config) if config is not None else None
        self._retired = RetiredLuaFunctions(state.lua)
        self._registry = self._tracked(ControlRegistry(warn=state.warn))
        self._run_ids = itertools.count(1)
        host = state.lua.table_from(
            {"register": self._register, "delay_domain": mail_queue.delay}
        )
        core = state.lua.globals().require("msys.core")
        self._api = state.run_package_lua(
            Path(__file__).with_name("control.lua"), host, core, state.api
        )

    @property
    def registry(self) -> ControlRegistry:
        """Where ``msys.registerControl`` adds now."""
        return self._registry

    @registry.setter
    def registry(self, registry: ControlRegistry) -> None:
        self._registry = self._tracked(registry)

    def _tracked(self, registry: ControlRegistry) -> ControlRegistry:
        self._retired.watch(registry, registry.command_ids)
        return registry

    def _release_retired_commands(self) -> None:
        """Calls into Lua: only from Python code that is not inside a host call."""
        retired = self._retired.take_table()
        if retired is not None:
            self._api.forget_commands(retired)

    def registered_commands(self) -> int:
        """How many command functions control.lua holds (leak checks)."""
        self._release_retired_commands()
        return int(self._api.command_count())

    def _register(self, prefix: str, command_id: int) -> object:
        """A host call: returns the retired command numbers for control.lua to forget (a
        table), if any."""
        self._registry.register(prefix, command_id)
        return self._retired.take_table()

    async def run_command(
        self, command_id: int, words: list[str], line: str, xml: bool
    ) -> CommandOutcome:
        """Run a registered command as a task (it may ``msys.sleep``) and collect its print
        output; a Lua error is returned with whatever was printed before it."""
        self._release_retired_commands()
        xml_flag = 1 if xml else 0
        return await self._run_captured(
            lambda task_id, run_id: self.state.api.start_task(
                task_id, 0, self._api.run_command, run_id, command_id, xml_flag, line, *words
            )
        )

    async def evaluate(self, source: str) -> CommandOutcome:
        """``scriptlet eval``: run a chunk in the shared state and print what it returns.
        An expression is tried first (``return <source>``), as Lua's interactive mode does."""
        try:
            chunk = self.state.compile("return " + source, "=console")
        except LuaScriptError:
            try:
                chunk = self.state.compile(source, "=console")
            except LuaScriptError as error:
                return CommandOutcome("", error)
        return await self._run_captured(
            lambda task_id, run_id: self.state.api.start_task(
                task_id, 0, self._api.eval, run_id, chunk
            )
        )

    async def _run_captured(self, start: Callable[[int, int], object]) -> CommandOutcome:
        """Run a task with its print output captured; the runInPool jobs it started finish
        (and print) before the reply is taken."""
        run_id = next(self._run_ids)
        task_ids: list[int] = []

        def started(task_id: int) -> object:
            task_ids.append(task_id)
            return start(task_id, run_id)

        error = None
        try:
            await self.state.run_task(started)
        except LuaScriptError as raised:
            error = raised
        finally:
            if task_ids:
                await self.state.msys_async.wait_jobs(task_ids[0])
        return CommandOutcome(self._api.take_output(run_id), error)
