"""``msys.config(action, word…)``: the console's ``config`` command for scripts
(docs/emulation.md#console, lua/ref-msys-config.md). It returns two values: the option's value
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

from ..config import ConfigError, ConfigOption, Configuration
from ..config.lexer import is_bare_word
from ..config.values import quote
from ..lua.runtime import LuaState
from .commands import (
    CommandError,
    SetTarget,
    config_eval_text,
    config_get_text,
    config_set_target,
    config_unset_target,
    describe_unset,
    render_option,
    scope_in,
    unknown_command,
)
from .protocol import split_command, wire_text

ConsoleLine = Callable[[str], Awaitable[str]]
ACTIONS = ("get", "eval", "set", "unset", "show", "showrecurse")


def _console_word(word: str) -> str:
    """A word as typed at the console so it reads back as itself (a ``#`` or ``=`` in it
    quoted, not a comment or a separator); a ``( … )`` or ``[ … ]`` value, whole or in
    words, stays configuration syntax."""
    if word.startswith(("(", "[")) or word.endswith((")", "]")) or is_bare_word(word):
        return word
    return quote(word)


class MsysConfig:
    """Installs ``msys.config`` into one Lua state, over one generation's configuration."""

    def __init__(self, state: LuaState, config: Configuration) -> None:
        self._state = state
        self.config = config
        self.console: ConsoleLine | None = None  # the node's console, once the generation runs
        host = state.boundary.host_table({"config_now": self._now})
        state.run_package_lua(Path(__file__).with_name("msys_config.lua"), host, state.api)
        state.yield_services["config"] = self._in_task

    def _now(self, action: str, *words: str) -> tuple[object, str]:
        """The command on this generation's tree, without re-running ``rsrc_setup``."""
        try:
            text = self._text(action, list(words))
        except (CommandError, ConfigError) as error:
            return None, wire_text(_line(str(error)))
        return self._value(action, list(words)), wire_text(text)

    async def _in_task(self, action: str, *words: str) -> tuple[object, str]:
        if self.console is None:
            return self._now(action, *words)
        listed = list(words)
        before = self._option_in_scope(action, listed)
        line = " ".join(["config", action, *(_console_word(word) for word in words)])
        text = await self.console(line)
        refused = action in ("set", "unset") and self._option_in_scope(action, listed) is before
        return (None if refused else self._value(action, listed)), wire_text(text)

    def _text(self, action: str, words: list[str]) -> str:
        config = self.config
        if action == "get":
            return config_get_text(config, words)
        if action == "eval":
            return config_eval_text(config, words)
        if action == "set":
            return render_option(self._set_target(words).apply()) + "\n"
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
                option = self._in_scope(action, words)
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

    def _set_target(self, words: list[str]) -> SetTarget:
        line = " ".join(_console_word(word) for word in words)
        return config_set_target(self.config, split_command(line), line)

    def _in_scope(self, action: str, words: list[str]) -> ConfigOption | None:
        """The option as set in the scope a get/set/unset command names (not inherited)."""
        if action == "set":
            target = self._set_target(words)
            return target.scope.option(target.name)
        return scope_in(self.config, words[:-1]).option(words[-1])

    def _option_in_scope(self, action: str, words: list[str]) -> object:
        """``_in_scope`` for comparing before and after a command: a set or unset that
        leaves the very same option object (or names nothing) was refused."""
        try:
            return self._in_scope(action, words)
        except (CommandError, ConfigError, IndexError):
            return _NO_TARGET


_NO_TARGET = object()  # a command that names no option


def _line(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"
