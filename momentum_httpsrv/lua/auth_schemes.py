"""``msys.registerAuth(scheme, tbl)``: authentication schemes written in Lua
(lua/ref-msys-register-auth.md). A listener's ``AuthPlainParameters`` or
``AuthDigestMD5Parameters`` whose ``uri`` starts with ``scheme://`` then asks the table:

* Basic: ``tbl:authenticate(filename, params, user, password)`` returns
  ``msys.core.EC_AUTH_OK``, ``EC_AUTH_FAIL`` or ``EC_AUTH_ERROR``;
* Digest cannot hand a password to ``authenticate`` (the client never sends one), so
  ``authenticate`` is called with a nil password and, to allow the user, returns
  ``EC_AUTH_OK`` and the user's clear-text password, against which the Digest response is
  checked (as auth_ds does with ``returns_password``; our choice, README: Access control).

``filename`` is what follows ``scheme://`` in the uri, ``params`` the whole parameter
block as a table. ``enumGroups``/``queryGroups`` serve console authorization, which is not
emulated; they are checked to be functions when registered. Registering is allowed only in
a module's ``init`` callout, as Momentum's page requires; elsewhere it is a Lua error.
"""

from __future__ import annotations

from pathlib import Path

from ..config import ConfigValue
from .runtime import LuaState, lua_type_name

VERDICTS = (0, 1, 2)  # EC_AUTH_OK, EC_AUTH_FAIL, EC_AUTH_ERROR


class AuthSchemeError(Exception):
    """A registered scheme answered something that is not a verdict."""


class LuaAuthSchemes:
    """The schemes one Lua state registered, as the access check uses them."""

    def __init__(self, state: LuaState) -> None:
        self._state = state
        self.names: set[str] = set()
        host = state.boundary.host_table(
            {"registered": self.names.add, "running_callout": state.api.running_callout}
        )
        self._api = state.run_package_lua(Path(__file__).with_name("auth_schemes.lua"), host)

    def __contains__(self, scheme: str) -> bool:
        return scheme in self.names

    def authenticate(
        self,
        scheme: str,
        filename: str,
        params: dict[str, ConfigValue],
        user: str,
        password: str | None,
    ) -> tuple[int, str | None]:
        """The verdict of ``tbl:authenticate`` and the password it returned (Digest);
        LuaScriptError when it raised, AuthSchemeError when it answered nonsense."""
        table = self._state.lua.table_from(params, recursive=True)
        results = self._state.call(
            self._api.call, scheme, "authenticate", filename, table, user, password
        )
        if not results or results[0] is None:
            raise AuthSchemeError(f"auth scheme '{scheme}' has no authenticate function")
        verdict = results[1] if len(results) > 1 else None
        if isinstance(verdict, float) and verdict.is_integer():
            verdict = int(verdict)
        if verdict not in VERDICTS:
            raise AuthSchemeError(
                f"auth scheme '{scheme}': authenticate returned {_as_lua_sees(verdict)}, not "
                "an EC_AUTH_* verdict"
            )
        secret = results[2] if len(results) > 2 and isinstance(results[2], str) else None
        return int(verdict), secret


def _as_lua_sees(value: object) -> str:
    """A returned value named for a script's author: nil, a string or number as written,
    otherwise its Lua type (``a table``)."""
    if value is None or isinstance(value, bool):
        return {None: "nil", True: "true", False: "false"}[value]
    if isinstance(value, str | int | float):
        return repr(value)
    return f"a {lua_type_name(value)}"
