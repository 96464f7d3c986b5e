"""Datasources (``msys.db``, docs/emulation.md#the-outside-world):
``Datasource "name" { uri = (…) }`` stanzas, their drivers, the result cache and the
service Lua's ``msys.db`` calls.

Drivers: ``sqlite:/path`` (the standard library's sqlite3, on one worker thread per
datasource, never on the event loop) and ``pgsql:host=…;port=…;dbname=…;user=…;
password=…`` (psycopg 3, asynchronous). Other drivers Momentum has (odbc, ldap, csv,
cdb, iowrapper, mysql) are accepted with a warning and fail when queried.

Placeholders: ``?`` take an array's values in order, ``:name`` and ``$name`` a table's
values by name; a value the table lacks is NULL. They are found by a scanner that skips
quoted strings, comments and PostgreSQL casts and dollar quotes, and are rewritten to
the driver's own form.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from ..config import ConfigScope, ConfigValueError
from .outside import WORLD, close_with_loop

NOT_EMULATED_DRIVERS = frozenset({"odbc", "ldap", "ldaps", "csv", "cdb", "iowrapper", "mysql"})
PGSQL_KEYS = frozenset(
    {"host", "hostaddr", "port", "dbname", "user", "password", "sslmode", "connect_timeout",
     "application_name", "options"}
)

Row = tuple[object, ...]


class DatasourceError(Exception):
    """A query failed; the message is what Lua gets (raised or returned)."""


# -- placeholders ----------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def bind_placeholders(sql: str, marker: str, escape_percent: bool) -> tuple[str, list[int | str]]:
    """``sql`` with every placeholder replaced by ``marker``, and what each one takes:
    1-based positions for ``?`` (counted), names for ``:name``/``$name``."""
    out: list[str] = []
    keys: list[int | str] = []
    position, i, n = 0, 0, len(sql)
    while i < n:
        c = sql[i]
        end = i + 1
        if c in "'\"":  # a quoted string or identifier; a doubled quote stays inside
            end = i + 1
            while end < n:
                if sql[end] == c:
                    if end + 1 < n and sql[end + 1] == c:
                        end += 2
                        continue
                    end += 1
                    break
                end += 1
            else:
                end = n
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            end = n if newline < 0 else newline
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            end = n if close < 0 else close + 2
        elif sql.startswith("::", i):
            end = i + 2
        elif c == "?":
            position += 1
            keys.append(position)
            out.append(marker)
            i += 1
            continue
        elif c in ":$" and (name := _NAME.match(sql, i + 1)):
            tag_end = name.end()
            if c == "$" and tag_end < n and sql[tag_end] == "$":  # $tag$ … $tag$
                tag = sql[i : tag_end + 1]
                close = sql.find(tag, tag_end + 1)
                end = n if close < 0 else close + len(tag)
            else:
                keys.append(name.group())
                out.append(marker)
                i = tag_end
                continue
        elif sql.startswith("$$", i):
            close = sql.find("$$", i + 2)
            end = n if close < 0 else close + 2
        piece = sql[i:end]
        out.append(piece.replace("%", "%%") if escape_percent else piece)
        i = end
    return "".join(out), keys


def to_db_text(value: str) -> str:
    """A Lua string (bytes, held as Latin-1 text) as the text a database stores: UTF-8
    when it is, else Latin-1 (Momentum's assumption for undeclared charsets)."""
    raw = value.encode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return value


def to_lua_value(value: object) -> object:
    """A column value as Lua takes it: text as UTF-8 bytes, numbers as numbers."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("latin-1")
    return str(value).encode("utf-8").decode("latin-1")


# -- drivers ---------------------------------------------------------------------------


class Driver(Protocol):
    async def run(self, sql: str, params: dict[int | str, object], max_rows: int
                  ) -> tuple[list[str], list[Row]]: ...

    def close(self) -> None: ...


def _ordered(keys: list[int | str], params: dict[int | str, object]) -> list[object]:
    return [params.get(key) for key in keys]


class SqliteDriver:
    """One connection, used only on this datasource's own worker thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ds-sqlite")
        self._connection: sqlite3.Connection | None = None

    def _run_here(self, sql: str, params: list[object], max_rows: int
                  ) -> tuple[list[str], list[Row]]:
        if self._connection is None:
            self._connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False
            )
        try:
            cursor = self._connection.execute(sql, params)
            columns = [d[0] for d in cursor.description or ()]
            rows = cursor.fetchall() if max_rows < 0 else cursor.fetchmany(max_rows)
            cursor.close()
        except (sqlite3.Error, OverflowError) as error:
            raise DatasourceError(str(error)) from error
        return columns, rows

    async def run(self, sql: str, params: dict[int | str, object], max_rows: int
                  ) -> tuple[list[str], list[Row]]:
        text, keys = bind_placeholders(sql, "?", escape_percent=False)
        ordered = _ordered(keys, params)
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, self._run_here, text, ordered, max_rows
        )

    def close(self) -> None:
        def close_here() -> None:
            if self._connection is not None:
                self._connection.close()

        self._executor.submit(close_here)
        self._executor.shutdown(wait=False)


class PostgresDriver:
    """One asynchronous connection per event loop, made when first needed there and
    made again after it broke."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._connections: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[object, AsyncIterator[None]]
        ] = weakref.WeakKeyDictionary()
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    async def _connection(self) -> object:
        import psycopg

        loop = asyncio.get_running_loop()
        lock = self._locks.setdefault(loop, asyncio.Lock())
        async with lock:
            entry = self._connections.get(loop)
            if entry is None or entry[0].closed:  # type: ignore[attr-defined]
                connection = await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True
                )
                keeper = await close_with_loop(connection.close)
                entry = self._connections[loop] = (connection, keeper)
        return entry[0]

    async def run(self, sql: str, params: dict[int | str, object], max_rows: int
                  ) -> tuple[list[str], list[Row]]:
        import psycopg

        text, keys = bind_placeholders(sql, "%s", escape_percent=True)
        try:
            connection = await self._connection()
            async with connection.cursor() as cursor:  # type: ignore[attr-defined]
                await cursor.execute(text, _ordered(keys, params))
                if cursor.description is None:
                    return [], []
                columns = [column.name for column in cursor.description]
                rows = await (cursor.fetchall() if max_rows < 0 else cursor.fetchmany(max_rows))
        except psycopg.Error as error:
            raise DatasourceError(str(error).strip().splitlines()[0]) from error
        return columns, [tuple(row) for row in rows]

    def close(self) -> None:
        for connection, _ in list(self._connections.values()):
            try:
                connection.pgconn.finish()  # type: ignore[attr-defined]
            except Exception:  # already gone with its loop
                pass
        self._connections.clear()


class NotEmulatedDriver:
    def __init__(self, name: str) -> None:
        self.name = name

    async def run(self, sql: str, params: dict[int | str, object], max_rows: int
                  ) -> tuple[list[str], list[Row]]:
        raise DatasourceError(f"datasource driver '{self.name}' is not emulated")

    def close(self) -> None:
        pass


def make_driver(uri: str, directory: Path) -> Driver:
    """The driver for one ``uri``; ValueError says what is wrong with it."""
    name, colon, rest = uri.partition(":")
    if not colon or not name:
        raise ValueError(f"datasource uri {uri!r} has no driver name (expected 'driver:…')")
    name = name.lower()
    if name == "sqlite":
        if not rest:
            raise ValueError(f"datasource uri {uri!r}: sqlite needs a database path")
        if rest != ":memory:" and not Path(rest).is_absolute():
            rest = str(directory / rest)
        return SqliteDriver(rest)
    if name == "pgsql":
        pairs = []
        for item in filter(None, (part.strip() for part in rest.split(";"))):
            key, equals, value = item.partition("=")
            if not equals or key.strip().lower() not in PGSQL_KEYS:
                raise ValueError(
                    f"datasource uri {uri!r}: {item!r} is not one of "
                    f"{', '.join(sorted(PGSQL_KEYS))} as key=value"
                )
            escaped = value.strip().replace("\\", "\\\\").replace("'", "\\'")
            pairs.append(f"{key.strip().lower()}='{escaped}'")
        if not pairs:
            raise ValueError(f"datasource uri {uri!r}: pgsql needs host=…;dbname=…")
        return PostgresDriver(" ".join(pairs))
    if name in NOT_EMULATED_DRIVERS:
        return NotEmulatedDriver(name)
    raise ValueError(f"datasource uri {uri!r}: unknown driver '{name}'")


# -- one datasource and its cache ------------------------------------------------------


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    inserts: int = 0
    deleted_manual: int = 0
    deleted_ttl: int = 0
    deleted_lru: int = 0


@dataclass
class Datasource:
    name: str
    drivers: list[Driver]
    cache_life: float = 3600
    cache_size: int = 1000
    max_rows: int = 100
    no_cache: bool = False
    stats: CacheStats = field(default_factory=CacheStats)
    _cache: OrderedDict[tuple, tuple[float, list[str], list[Row]]] = field(
        default_factory=OrderedDict
    )
    _next_driver: int = 0

    def _driver(self) -> Driver:
        """Round robin over the ``uri`` list, as Momentum balances them."""
        driver = self.drivers[self._next_driver % len(self.drivers)]
        self._next_driver += 1
        return driver

    def _cached(self, key: tuple) -> tuple[list[str], list[Row]] | None:
        entry = self._cache.get(key)
        if entry is None:
            return None
        expires, columns, rows = entry
        if expires <= WORLD.clock.time():
            del self._cache[key]
            self.stats.deleted_ttl += 1
            return None
        self._cache.move_to_end(key)
        return columns, rows

    def _store(self, key: tuple, columns: list[str], rows: list[Row]) -> None:
        self._cache[key] = (WORLD.clock.time() + self.cache_life, columns, rows)
        self._cache.move_to_end(key)
        self.stats.inserts += 1
        while len(self._cache) > max(self.cache_size, 0):
            self._cache.popitem(last=False)
            self.stats.deleted_lru += 1

    async def run(self, sql: str, params: dict[int | str, object], use_cache: bool
                  ) -> tuple[list[str], list[Row]]:
        use_cache = use_cache and not self.no_cache
        key = (sql, tuple(sorted(params.items(), key=lambda item: str(item[0]))))
        if use_cache:
            found = self._cached(key)
            if found is not None:
                self.stats.hits += 1
                return found
            self.stats.misses += 1
        columns, rows = await self._driver().run(sql, params, self.max_rows)
        if use_cache and columns:
            self._store(key, columns, rows)
        return columns, rows

    def flush(self) -> int:
        flushed = len(self._cache)
        self._cache.clear()
        self.stats.deleted_manual += flushed
        return flushed

    @property
    def entries(self) -> int:
        return len(self._cache)

    def close(self) -> None:
        for driver in self.drivers:
            driver.close()


def _option_int(scope: ConfigScope, name: str, default: int) -> int:
    value = scope.get_int(name)
    return default if value is None else value


def datasource_from_scope(scope: ConfigScope, directory: Path) -> Datasource:
    """One ``Datasource`` stanza; ConfigValueError at the offending option."""
    name = scope.name
    if not name:
        raise ConfigValueError(scope.location, "a Datasource needs a name (Datasource \"n\" {})")
    option = scope.option("uri")
    if option is None:
        raise ConfigValueError(scope.location, f"Datasource '{name}' has no uri")
    drivers = []
    for uri in option.as_list():
        try:
            drivers.append(make_driver(str(uri), directory))
        except ValueError as error:
            raise ConfigValueError(option.location, str(error)) from None
    if not drivers:
        raise ConfigValueError(option.location, f"Datasource '{name}' has an empty uri list")
    no_cache = scope.get_bool("no_cache")
    return Datasource(
        name,
        drivers,
        cache_life=_option_int(scope, "cache_life", 3600),
        cache_size=_option_int(scope, "cache_size", 1000),
        max_rows=_option_int(scope, "max_rows", 100),
        no_cache=bool(no_cache),
    )


def lua_params(pairs: tuple[object, ...]) -> dict[int | str, object]:
    """``k1, v1, k2, v2…`` from Lua: integer keys for arrays, names for tables."""
    params: dict[int | str, object] = {}
    for key, value in zip(pairs[0::2], pairs[1::2], strict=False):
        if isinstance(key, float) and key.is_integer():
            key = int(key)
        if isinstance(value, str):
            value = to_db_text(value)
        params[key if isinstance(key, int) else str(key)] = value
    return params


class Datasources:
    """A generation's datasources by name, and the service ``msys.db`` yields to."""

    def __init__(self) -> None:
        self.by_name: dict[str, Datasource] = {}

    def configure(self, scopes: list[ConfigScope], directory: Path) -> list[str]:
        """Build every stanza (ConfigValueError on a bad one); returns warnings."""
        built = {}
        warnings = []
        try:
            for scope in scopes:
                datasource = datasource_from_scope(scope, directory)
                built[datasource.name] = datasource
                for driver in datasource.drivers:
                    if isinstance(driver, NotEmulatedDriver):
                        warnings.append(
                            f"{scope.location}: warning: Datasource '{datasource.name}': "
                            f"driver '{driver.name}' is not emulated; its queries fail"
                        )
        except ConfigValueError:
            for datasource in built.values():
                datasource.close()
            raise
        self.by_name = built
        return warnings

    async def service(self, operation: str, name: str, sql: str, use_cache: bool,
                      *pairs: object) -> tuple:
        """``true, ncolumns, names…, values…`` (row after row), or ``false, message``."""
        datasource = self.by_name.get(str(name))
        if datasource is None:
            return False, f"no datasource named '{name}'"
        try:
            columns, rows = await datasource.run(
                str(sql), lua_params(pairs), bool(use_cache) and operation != "execute"
            )
        except DatasourceError as error:
            return False, str(error)
        if operation == "fetch_row":
            rows = rows[:1]
        flat: list[object] = [True, len(columns), *columns]
        for row in rows:
            flat.extend(to_lua_value(value) for value in row)
        return tuple(flat)

    def close(self) -> None:
        for datasource in self.by_name.values():
            datasource.close()
