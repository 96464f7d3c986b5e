"""``msys.config(action, word…)``: the console's ``config`` command for scripts
(lua-runtime.md §4.7, lua/ref-msys-config.md). It returns two values: the option's value
and the text the console would have printed. Usage and validation errors are that text,
with a nil value; they never raise.

In a task (a handler, a console command, a timer callback) the command line goes through
the node's console, so ``set``/``unset`` re-run ``rsrc_setup`` exactly as typed at
``ec_console``. Outside a task (script top level, ``init``, ``rsrc_setup``) the generation
is being built or set up, so the commands work on its tree directly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from ..config import ConfigError, Configuration
from ..lua.runtime import LuaState
from .commands import (
    CommandError,
    config_eval_text,
    config_get_text,
    config_set_target,
    config_unset_target,
    describe_unset,
    render_option,
    scope_in,
    unknown_command,
)
from .protocol import split_command

ConsoleLine = Callable[[str], Awaitable[str]]
ACTIONS = ("get", "eval", "set", "unset", "show", "showrecurse")


def _console_word(word: str) -> str:
    """A word as typed at the console so it splits back to itself; a ``( … )`` or
    ``[ … ]`` value stays configuration syntax."""
    if word and word[0] in "([" or (word and not any(c.isspace() or c == '"' for c in word)):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


class MsysConfig:
    """Installs ``msys.config`` into one Lua state, over one generation's configuration."""

    def __init__(self, state: LuaState, config: Configuration) -> None:
        self._state = state
        self.config = config
        self.console: ConsoleLine | None = None  # the node's console, once the generation runs
        host = state.lua.table_from({"config_now": self._now})
        state.run_package_lua(Path(__file__).with_name("msys_config.lua"), host, state.api)
        state.yield_services["config"] = self._in_task

    def _now(self, action: str, *words: str) -> tuple[object, str]:
        """The command on this generation's tree, without re-running ``rsrc_setup``."""
        try:
            text = self._text(action, list(words))
        except (CommandError, ConfigError) as error:
            return None, _line(str(error))
        return self._value(action, list(words)), text

    async def _in_task(self, action: str, *words: str) -> tuple[object, str]:
        if self.console is None:
            return self._now(action, *words)
        line = " ".join(["config", action, *(_console_word(word) for word in words)])
        text = await self.console(line)
        return self._value(action, list(words)), text

    def _text(self, action: str, words: list[str]) -> str:
        config = self.config
        if action == "get":
            return config_get_text(config, words)
        if action == "eval":
            return config_eval_text(config, words)
        if action == "set":
            line = " ".join(_console_word(word) for word in words)
            option = config_set_target(config, split_command(line), line).apply()
            return render_option(option) + "\n"
        if action == "unset":
            scope, name = config_unset_target(config, words)
            previous = scope.unset_option(name)
            assert previous is not None
            return describe_unset(previous, config, words[:-1])
        if action in ("show", "showrecurse"):
            return scope_in(config, words).render(recursive=action == "showrecurse")
        return unknown_command(["config", action])

    def _value(self, action: str, words: list[str]) -> object:
        """The option's value after the command: as set in the named scope (get, set), or
        effective (eval, unset); nil for scope listings and errors."""
        try:
            if action in ("get", "set"):
                if action == "set":
                    line = " ".join(_console_word(word) for word in words)
                    target = config_set_target(self.config, split_command(line), line)
                    scope, name = target.scope, target.name
                else:
                    scope, name = scope_in(self.config, words[:-1]), words[-1]
                option = scope.option(name)
            elif action in ("eval", "unset") and words:
                option = self.config.lookup(words[:-1], words[-1])
            else:
                return None
        except (CommandError, ConfigError, IndexError):
            return None
        if option is None:
            return None
        value = option.value
        if isinstance(value, list | dict):
            return self._state.lua.table_from(value, recursive=True)
        return value


def _line(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"
