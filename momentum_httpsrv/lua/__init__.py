"""The Lua layer: one Lua 5.1 state per configuration generation set up as Momentum's
scriptlet environment (``LuaState``), the thrLua dialect translator (``translate``), the
libraries scripts ``require`` and the one mechanism for Lua values crossing into Python
(``LuaBoundary``, boundary.py).

Internal modules: ``lexer``, ``parser`` (the translator's), ``msys_core``, ``msys_async``
(installed by ``LuaState``), ``scriptlet`` (used by the node), ``lib._source``.
"""

from .boundary import LuaBoundary, LuaBoundaryError, LuaIdTable
from .dialect import LuaDialectSyntaxError, translate
from .errors import LuaScriptError, script_text
from .lib import LIBRARY_OPENERS
from .runtime import HookResult, LuaState

__all__ = [
    "LIBRARY_OPENERS",
    "HookResult",
    "LuaBoundary",
    "LuaBoundaryError",
    "LuaDialectSyntaxError",
    "LuaIdTable",
    "LuaScriptError",
    "LuaState",
    "script_text",
    "translate",
]
