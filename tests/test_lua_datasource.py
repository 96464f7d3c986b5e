"""msys.db over Datasource stanzas: a real SQLite file and a real PostgreSQL server
(started on a temp dir and an ephemeral port for this module)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from momentum_httpsrv.cli import EXIT_CONFIG
from momentum_httpsrv.testing.client import MomentumTestClient
from momentum_httpsrv.testing.local_servers import PostgresUnavailable, postgres_cluster

API = r'''
require("msys.db"); require("msys.datasource")
local mod = {}

local function run(session)
  local q = session:request_url_get().attrs
  local ds, op = q.ds, q.op
  local out = {}
  local function say(...) local t = {} for i = 1, select("#", ...) do
    t[i] = tostring((select(i, ...))) end out[#out + 1] = table.concat(t, " ") end
  if op == "query" then
    for row in msys.db.query(ds, "select name, score from people where score < ? order by name",
                             {tonumber(q.max)}) do
      say(row.name, row.score)
    end
  elseif op == "named" then
    local row = msys.db.fetch_row(ds, "select name, score from people where name = :who",
                                  {who = q.who})
    say(row and row.name, row and row.score)
  elseif op == "dollar" then
    local row = msys.db.fetch_row(ds, "select count(*) as n from people where score > $s",
                                  {s = 1})
    say(row.n)
  elseif op == "insert" then
    say(msys.db.execute(ds, "insert into people (name, score) values (?, ?)", {q.who, nil}))
    say(msys.db.fetch_row(ds, "select count(*) as n from people where score is null", nil,
                          {nocache = true}).n)
  elseif op == "none" then
    say(msys.db.fetch_row(ds, "select name from people where name = ?", {"nobody"}))
  elseif op == "soft" then
    say(msys.db.query(ds, "select nope from people", nil, {raise_error = false}))
    say(msys.db.fetch_row(ds, "select nope from people", nil, {raise_error = false}))
    say(msys.db.execute(ds, "not sql at all", nil, {raise_error = false}))
  elseif op == "raise" then
    local row = msys.db.fetch_row(ds, "select nope from people")
  elseif op == "cached" then
    say(msys.db.fetch_row(ds, "select score from people where name = ?", {"ada"}).score)
  end
  session:response_status_set_std(200, "OK", "text/plain")
  session:response_append(table.concat(out, "\n"))
  return msys.httpsrv.DONE
end

function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/db", run)
  return true
end
msys.registerModule("api", mod)
'''

SETUP = [
    "create table people (name text, score integer)",
    "insert into people values ('ada', 36), ('alan', 41), ('grace', 85)",
]


def write_site(directory: Path, uris: dict[str, str], extra: str = "") -> Path:
    stanzas = "".join(
        f'Datasource "{name}" {{\n  uri = ( "{uri}" )\n{extra}}}\n' for name, uri in uris.items()
    )
    (directory / "api.lua").write_text(API)
    (directory / "ecelerity.conf").write_text(
        stanzas + 'scriptlet "scriptlet" {\n  script "api" { source = "api" }\n}\n'
    )
    return directory / "ecelerity.conf"


@pytest.fixture
def sqlite_site(tmp_path):
    with sqlite3.connect(tmp_path / "people.db") as connection:
        for statement in SETUP:
            connection.execute(statement)
    return write_site(tmp_path, {"lite": "sqlite:people.db"})


@pytest.fixture(scope="module")
def postgres_uri():
    try:
        with postgres_cluster() as uri:
            yield uri
    except PostgresUnavailable as missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL: {missing}")
        pytest.skip(str(missing))


@pytest.fixture
def postgres_site(tmp_path, postgres_uri):
    import psycopg

    conninfo = postgres_uri.removeprefix("pgsql:").replace(";", " ")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("drop table if exists people")
        for statement in SETUP:
            connection.execute(statement)
    return write_site(tmp_path, {"pg": postgres_uri})


@pytest.fixture(params=["sqlite", "postgres"])
def site(request):
    """Each test runs on both drivers: (client, datasource name)."""
    config = request.getfixturevalue(f"{request.param}_site")
    with MomentumTestClient(config) as client:
        yield client, "lite" if request.param == "sqlite" else "pg"


def get(client: MomentumTestClient, ds: str, op: str, **params: str) -> tuple[int, str]:
    query = "&".join(f"{key}={value}" for key, value in {"ds": ds, "op": op, **params}.items())
    response = client.get(f"/db?{query}")
    return response.status, response.text


def test_query_iterates_rows_with_array_placeholders(site):
    client, ds = site
    assert get(client, ds, "query", max="50") == (200, "ada 36\nalan 41")


def test_named_and_dollar_placeholders_take_a_table(site):
    client, ds = site
    assert get(client, ds, "named", who="grace") == (200, "grace 85")
    assert get(client, ds, "dollar") == (200, "3")


def test_execute_binds_nil_as_null(site):
    client, ds = site
    assert get(client, ds, "insert", who="linus") == (200, "true\n1")


def test_fetch_row_without_rows_is_nil(site):
    client, ds = site
    assert get(client, ds, "none") == (200, "nil")


def test_raise_error_false_returns_the_failure(site):
    client, ds = site
    status, text = get(client, ds, "soft")
    lines = text.splitlines()
    assert status == 200 and len(lines) == 3
    assert lines[0].startswith("nil ") and "nope" in lines[0]
    assert lines[1].startswith("nil ") and "nope" in lines[1]
    assert lines[2].startswith("false ") and "syntax error" in lines[2]


def test_sql_errors_raise_at_the_script_line_and_the_server_goes_on(site):
    client, ds = site
    assert get(client, ds, "raise")[0] == 500
    assert "api.lua:35:" in client.paniclog and "nope" in client.paniclog
    assert get(client, ds, "named", who="ada") == (200, "ada 36")


def test_results_are_cached_until_flushed_and_nocache_bypasses(site):
    client, ds = site
    assert get(client, ds, "cached") == (200, "36")
    # the row changes behind the cache's back: the cached answer stays until flushed
    _execute(client, ds, "update people set score = 99 where name = 'ada'")
    assert get(client, ds, "cached") == (200, "36")
    console = client.node.console
    assert console(f"ds_core flush {ds}") == f"flushed 1 entries from cache '{ds}'\n"
    assert get(client, ds, "cached") == (200, "99")
    stats = console("ds_core stats").splitlines()
    assert stats[3] == ds
    numbers = stats[4].split()
    assert numbers[0] == "1"  # one entry cached now
    assert numbers[4] == "3"  # lookups: miss, hit, miss after the flush
    assert numbers[5] == "2"  # inserts


def _execute(client: MomentumTestClient, ds: str, sql: str) -> None:
    state = client.node.generation.lua
    assert state.execute(f'return msys.db.execute("{ds}", "{sql}")', "=t") == (True,)


def test_max_rows_caps_what_a_query_returns(tmp_path):
    with sqlite3.connect(tmp_path / "people.db") as connection:
        for statement in SETUP:
            connection.execute(statement)
    config = write_site(tmp_path, {"lite": "sqlite:people.db"}, extra="  max_rows = 1\n")
    with MomentumTestClient(config) as client:
        assert get(client, "lite", "query", max="100") == (200, "ada 36")


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("nodriver", "has no driver name"),
        ("oracle:scott/tiger", "unknown driver 'oracle'"),
        ("pgsql:host=x;colour=blue", "'colour=blue' is not one of"),
        ("sqlite:", "sqlite needs a database path"),
    ],
)
def test_a_bad_uri_is_reported_by_check_at_its_line(run_check, uri, message):
    result = run_check(
        f'# datasources\nDatasource "bad" {{\n  uri = ( "{uri}" )\n}}\n'
    )
    assert result.exit_code == EXIT_CONFIG
    assert ":3:3: " in result.output and message in result.output


def test_drivers_we_do_not_emulate_load_with_a_warning_and_fail_when_queried(tmp_path):
    config = write_site(tmp_path, {"dir": "ldap://10.0.0.1"})
    with MomentumTestClient(config) as client:
        assert "driver 'ldap' is not emulated" in client.paniclog
        assert get(client, "dir", "soft")[1].startswith(
            "nil datasource driver 'ldap' is not emulated"
        )


def test_unknown_datasource_name_is_an_error(tmp_path, sqlite_site):
    with MomentumTestClient(sqlite_site) as client:
        assert get(client, "other", "soft")[1].startswith("nil no datasource named 'other'")


def test_an_unreachable_postgresql_is_a_query_error_and_the_server_goes_on(tmp_path):
    from momentum_httpsrv.testing.local_servers import free_port

    uri = f"pgsql:host=127.0.0.1;port={free_port()};dbname=x;user=x;connect_timeout=2"
    config = write_site(tmp_path, {"down": uri})
    with MomentumTestClient(config) as client:
        status, text = get(client, "down", "soft")
        assert status == 200 and text.startswith("nil connection") and "failed" in text
        assert get(client, "down", "raise")[0] == 500
        assert get(client, "down", "none")[0] == 500


def test_bad_arguments_are_lua_errors_at_the_script_line(sqlite_site):
    from momentum_httpsrv.lua.runtime import LuaScriptError

    with MomentumTestClient(sqlite_site) as client:
        state = client.node.generation.lua
        expected = r"^t:2: bad argument #3 to 'query' \(table expected, got string\)"
        with pytest.raises(LuaScriptError, match=expected):
            state.execute('local x\nx = msys.db.query("lite", "select 1", "oops")', "=t")
        with pytest.raises(LuaScriptError, match=r"^t:1: execute: parameter 'a' is a table"):
            state.execute('local ok = msys.db.execute("lite", "select :a", {a = {}})', "=t")


def test_cached_results_expire_after_cache_life_and_the_oldest_go_past_cache_size(
    tmp_path, momentum_clock
):
    with sqlite3.connect(tmp_path / "people.db") as connection:
        for statement in SETUP:
            connection.execute(statement)
    config = write_site(
        tmp_path, {"lite": "sqlite:people.db"}, extra="  cache_life = 60\n  cache_size = 2\n"
    )
    with MomentumTestClient(config) as client:
        assert get(client, "lite", "cached") == (200, "36")
        _execute(client, "lite", "update people set score = 50 where name = 'ada'")
        momentum_clock.advance(59)
        assert get(client, "lite", "cached") == (200, "36")  # still cached
        momentum_clock.advance(2)
        assert get(client, "lite", "cached") == (200, "50")  # expired: asked again
        # two other results push the cached one out (least recently used first)
        assert get(client, "lite", "named", who="alan") == (200, "alan 41")
        assert get(client, "lite", "named", who="grace") == (200, "grace 85")
        _execute(client, "lite", "update people set score = 51 where name = 'ada'")
        assert get(client, "lite", "cached") == (200, "51")
        stats = client.node.console("ds_core stats").splitlines()[4].split()
        assert stats[-4:] == ["0", "33", "67", "3"]  # deletions: manual, ttl, lru %, total


def test_a_datasource_with_no_cache_always_asks_the_database(tmp_path):
    with sqlite3.connect(tmp_path / "people.db") as connection:
        for statement in SETUP:
            connection.execute(statement)
    config = write_site(tmp_path, {"lite": "sqlite:people.db"}, extra="  no_cache = true\n")
    with MomentumTestClient(config) as client:
        assert get(client, "lite", "cached") == (200, "36")
        _execute(client, "lite", "update people set score = 50 where name = 'ada'")
        assert get(client, "lite", "cached") == (200, "50")
