"""A site whose policy scripts make the load-time calls public Momentum scripts make
(thread.mutex in init, _OSTLS, msys.cidr, msys.audit_series, msys.gauge_cache,
msys.counter, msys.os, msys.adaptive, msys.http_lua, binding look-ups) loads whole, and
its endpoints use what the policy scripts set up."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from momentum_httpsrv.cli import main
from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.lua.runtime import LuaScriptError, LuaState
from momentum_httpsrv.node import MomentumNode


@pytest.fixture
def policy_site(site_dir) -> Path:
    return site_dir("policy_site") / "ecelerity.conf"


@pytest.fixture
def node(policy_site):
    node = MomentumNode(policy_site)
    node.start()
    yield node
    node.stop()


def test_check_loads_the_site_and_notes_each_unused_stanza_once(policy_site):
    result = CliRunner().invoke(main, ["check", "-c", str(policy_site)])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if ": note: " in line]
    assert notes == [
        f"{policy_site}:11:1: note: 'securecreds' is accepted but not used by momentum-httpsrv",
        f"{policy_site}:12:1: note: 'outbound_smtp_auth' is accepted but not used by"
        " momentum-httpsrv",
    ]  # Binding, Binding_Group and Domain are read; outbound_smtp_auth is noted once
    assert "module policy" not in result.output  # hooks are listed only with --verbose


def test_check_verbose_lists_policy_hooks_and_recorded_registrations(policy_site):
    result = CliRunner().invoke(main, ["check", "--verbose", "-c", str(policy_site)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "module policy: core_final_validation, validate_connect, validate_rcptto" in lines
    assert "module endpoints" in lines
    assert "adaptive rules (augment): example.com" in lines
    assert "http_lua delivery module http-delivery: build_request, handle_response" in lines


def test_module_list_shows_policy_hooks(node):
    listing = node.console("module list")
    assert (
        "  Policy_Hooks: policy: core_final_validation, validate_connect, validate_rcptto"
        in listing.splitlines()
    )


def test_endpoints_read_what_the_policy_scripts_set_up(node):
    first = node.call(Request("GET", "/policy?ip=192.0.2.7"))
    second = node.call(Request("GET", "/policy?ip=192.0.2.9"))
    assert first.body == (
        b"cidr=partner 192.0.2.7 series=1 gauge=1 hits=1 slot=3/pool_2 group=2"
        b" disk=ec_statvfs_t"
    )
    assert second.body.startswith(b"cidr=trusted series=2 gauge=1 hits=2 ")
    assert node.console("disk") == "1\ttrue\n"


def test_a_request_waits_for_a_mutex_another_request_holds(node):
    async def scenario():
        holder = asyncio.create_task(
            node.handle(Request("GET", "/critical?name=a&hold=0.2"))
        )
        await asyncio.sleep(0.05)  # a holds the mutex, suspended in msys.sleep
        waiter = asyncio.create_task(node.handle(Request("GET", "/critical?name=b")))
        await asyncio.sleep(0.02)
        meanwhile = await node.handle(Request("GET", "/policy?ip=192.0.2.1"))
        return await holder, await waiter, meanwhile

    holder, waiter, meanwhile = asyncio.run(scenario())
    assert holder.body == b"a in,a out"
    assert waiter.body == b"a in,a out,b in,b out"
    assert meanwhile.status == 200  # the server kept serving while b waited


def test_code_outside_a_task_cannot_wait_for_a_lock(tmp_path):
    state = LuaState([tmp_path])
    state.execute("m = thread.mutex(); held = false", "=setup")
    holder = state.compile("m:lock(); held = true; msys.sleep(0.1); m:unlock()", "=holder")

    async def scenario():
        task = asyncio.create_task(state.run_in_task(holder))
        await asyncio.sleep(0.02)
        outcome = state.execute("return held, pcall(function() m:lock() end)", "=init")
        await task
        return outcome

    held, ok, message = asyncio.run(scenario())
    assert (held, ok) == (True, False)
    assert "cannot wait here" in message
    assert state.execute("return m:trylock()", "=after") == (True,)


def run_lua_command(script: Path) -> subprocess.CompletedProcess[str]:
    """`momentum-httpsrv lua SCRIPT` in a process of its own: print writes to C's stdout."""
    return subprocess.run([sys.executable, "-m", "momentum_httpsrv", "lua", str(script)],
                          capture_output=True, text=True, timeout=60)


def test_lua_runner_has_the_loaded_scripts_environment(tmp_path):
    script = tmp_path / "helper.lua"
    script.write_text(
        'msys.registerControl("x", function() end)\n'
        'print(msys.type(msys.core.dns_get_domain("example.com")), type(thread.mutex),'
        ' type(_OSTLS), type(msys.cidr.define), type(msys.httpsrv.register))\n'
        "print(pcall(msys.core.config_get_binding_id_from_name, 'default'))\n"
    )
    result = run_lua_command(script)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()[:2]
    assert first == "domain_record\tfunction\ttable\tfunction\tfunction"
    assert second == (
        "false\tmsys.core.config_get_binding_id_from_name: needs a configuration (its Binding"
        " stanzas); there is none when `momentum-httpsrv lua` runs a file"
    )


def test_binding_lookups_follow_momentum_slots(tmp_path):
    config = tmp_path / "ecelerity.conf"
    config.write_text(
        'Binding "a" {}\nBinding_Group "g" { Binding "b" {} }\nBinding "c" {}\n'
        'scriptlet "scriptlet" { script "s" { source = "s" } }\n'
    )
    (tmp_path / "s.lua").write_text(
        "local c = msys.core\n"
        "print(c.config_get_binding_id_from_name('default'),"
        " c.config_get_binding_id_from_name('c'),"
        " c.config_get_binding_id_from_name('nope'), c.config_get_binding_name_from_id(2),"
        " c.config_get_binding_name_from_id(9), c.config_get_binding_group_size('g'),"
        " c.config_get_binding_group_size('nope'))\n"
    )
    node = MomentumNode(config)
    node.start()
    try:
        assert "0\t3\t-1\tb\tnil\t1\t0" in node.paniclog.text()
    finally:
        node.stop()


def test_policy_data_errors_name_the_script_line(tmp_path):
    state = LuaState([tmp_path])
    with pytest.raises(LuaScriptError, match=r"^t\.lua:2: msys\.audit_series\.add: no address"):
        state.execute('msys.audit_series.define("s", "cidr", 60, 2)\nmsys.audit_series.add("s")',
                      "@t.lua")
    with pytest.raises(LuaScriptError, match=r"^t\.lua:1: bad argument #2 to 'inc'"):
        state.execute('msys.gauge_cache.inc("g", {})', "@t.lua")


def test_momentum_package_names_resolve(tmp_path):
    state = LuaState([tmp_path])
    assert state.execute('return require("msys") == msys', "=t") == (True,)
    ok, message = state.execute(
        'local dkim = require("opendkim.dkim"); return pcall(dkim.sign)', "=t"
    )
    assert (ok, message) == (False, "not emulated: opendkim.dkim.sign")


def test_condition_wait_outside_a_task(tmp_path):
    state = LuaState([tmp_path])
    state.execute("c = thread.condition(); c:acquire()", "=setup")
    assert state.execute("return c:wait(0.01)", "=timed") == (False,)  # slept, nobody signals
    assert state.execute("return c:release()", "=held again") == (True,)
    state.execute("c:acquire()", "=again")
    with pytest.raises(LuaScriptError, match="it would wait forever"):
        state.execute("c:wait()", "=untimed")


def test_counters_and_series_survive_a_reload(node):
    node.call(Request("GET", "/policy?ip=192.0.2.7"))
    asyncio.run(node.reload())  # init defines the series and gauges again
    again = node.call(Request("GET", "/policy?ip=192.0.2.7"))
    assert again.body.startswith(b"cidr=partner 192.0.2.7 series=2 gauge=2 hits=2 ")


def test_lock_errors_name_the_script_line(tmp_path):
    state = LuaState([tmp_path])
    with pytest.raises(LuaScriptError) as relock:
        state.execute("local m = thread.mutex()\nm:lock()\nm:lock()\n", "@t.lua")
    assert relock.value.message == "t.lua:3: failed to lock mutex: 35 Resource deadlock avoided"
    with pytest.raises(LuaScriptError, match=r"^t\.lua:2: failed to unlock rwlock: 1 "):
        state.execute("local l = thread.rwlock()\nl:unlock()\n", "@t.lua")


def test_msys_config_without_a_configuration_says_so(tmp_path):
    script = tmp_path / "helper.lua"
    script.write_text('print(pcall(msys.config, "get", "domain", "x", "retries"))\n')
    result = run_lua_command(script)
    assert result.stdout.splitlines()[0] == (
        "false\tmsys.config: needs a configuration; there is none when `momentum-httpsrv lua`"
        " runs a file"
    )


def test_stanzas_this_project_reads_are_not_noted(run_check):
    result = run_check(
        'ThreadPool "x" { Concurrency = 2 }\nBinding "b" {}\nDomain "example.com" {}\n'
        'Datasource d { uri = ( "sqlite::memory:" ) }\nalerting {}\n'
    )
    assert result.exit_code == 0, result.output
    assert [line for line in result.output.splitlines() if ": note: " in line] == [
        f"{result.output.split(':', 1)[0]}:5:1: note: 'alerting' is accepted but not used"
        " by momentum-httpsrv"
    ]


def test_a_cancelled_waiter_leaves_nothing_parked(tmp_path):
    state = LuaState([tmp_path])
    state.execute("m = thread.mutex()", "=setup")
    holder = state.compile("m:lock(); msys.sleep(0.2); m:unlock()", "=holder")
    waiter = state.compile("m:lock(); m:unlock()", "=waiter")

    async def scenario():
        held = asyncio.create_task(state.run_in_task(holder))
        await asyncio.sleep(0.02)
        waiting = asyncio.create_task(state.run_in_task(waiter))
        await asyncio.sleep(0.02)
        parked_while_waiting = state.thread_waits.parked()
        waiting.cancel()  # as when its generation is retired
        await asyncio.gather(waiting, return_exceptions=True)
        await held
        return parked_while_waiting, state.thread_waits.parked()

    assert asyncio.run(scenario()) == (1, 0)


DATASOURCE_CIDR_SCRIPT = """
local mod = {}
function mod:init()
  msys.cidr.define("wl", { type = "datasource", cachename = "wl", refresh = 60,
    query = "select net, label from wl", cidr_column = "net", value_column = "label",
    default_value = "none" })
  msys.cidr.define("flag", { type = "datasource", cachename = "wl", refresh = 0,
    query = "select net from wl" })
  return true
end
function mod:rsrc_setup()
  msys.registerControl("q", function(cc)
    print(msys.cidr.query("wl", cc.argv[1]), msys.cidr.query("flag", cc.argv[1]))
  end)
  msys.registerControl("reload", function() msys.cidr.reload("flag") end)
  return true
end
msys.registerModule("m", mod)
"""


def test_datasource_cidrs_load_refresh_and_reload(tmp_path):
    import sqlite3

    database = tmp_path / "wl.db"
    with sqlite3.connect(database) as db:
        db.execute("create table wl (net text, label text)")
        db.executemany("insert into wl values (?, ?)", [("10.0.0.0/8", "ten"),
                                                         ("10.1.0.0/16", "ten-one")])
    (tmp_path / "ecelerity.conf").write_text(
        f'Datasource "wl" {{ uri = ( "sqlite:{database}" ) }}\n'
        'scriptlet "scriptlet" { script "s" { source = "s" } }\n'
    )
    (tmp_path / "s.lua").write_text(DATASOURCE_CIDR_SCRIPT)
    clock = [1000.0]
    node = MomentumNode(tmp_path / "ecelerity.conf")
    node.policy_data.cidr.clock = lambda: clock[0]
    node.start()
    try:
        assert node.console("q 10.1.2.3") == "ten-one\ttrue\n"
        assert node.console("q 11.0.0.1") == "none\tnil\n"
        with sqlite3.connect(database) as db:
            db.execute("insert into wl values ('11.0.0.0/8', 'eleven')")
        assert node.console("q 11.0.0.1") == "none\tnil\n"  # not due yet
        clock[0] += 60
        assert node.console("q 11.0.0.1") == "eleven\tnil\n"  # refreshed; refresh 0 is not
        node.console("reload")
        assert node.console("q 11.0.0.1") == "eleven\ttrue\n"
        no_such_column = node.console(
            'scriptlet eval msys.cidr.define("x", { type = "datasource",'
            ' cachename = "wl", query = "select net, label from wl", value_column = 3 })'
        )
        assert no_such_column.endswith("msys.cidr.define: no column 3 in the query's rows\n")
        unknown = node.console(
            'scriptlet eval msys.cidr.define("x", { type = "datasource",'
            ' cachename = "nope", query = "select 1" })'
        )
        assert unknown.endswith(
            "msys.cidr.define: the query failed: no datasource named 'nope'\n"
        )
    finally:
        node.stop()


SERIES = 'msys.audit_series.define("s", "string", 60, 2); '


@pytest.mark.parametrize(
    "call",
    [
        'msys.audit_series.define("s", "string", 0/0, 2)',
        'msys.audit_series.define("s", "string", 1/0, 2)',
        'msys.audit_series.define("s", "string", 60, 0/0)',
        'msys.audit_series.define("s", "string", 60, 1/0)',
        SERIES + 'msys.audit_series.add("s", {key = "k", count = 0/0})',
        SERIES + 'msys.audit_series.count("s", {key = "k", startv = "x"})',
        SERIES + 'msys.audit_series.count("s", {key = "k", endv = 0/0})',
        'msys.gauge_cache.define("g", 0/0, 10)',
        'msys.gauge_cache.define("g", 1/0, 10)',
        'msys.gauge_cache.define("g", 10, 0/0)',
        'msys.counter.add("/site/c", 0/0)',
        'msys.counter.add("/site/c", 1/0)',
        'msys.counter.add("/site/c", 1e300)',
        'msys.cidr.define("e", { type = "empty", refresh = 0/0 })',
    ],
)
def test_policy_data_refuses_numbers_it_cannot_count_with(tmp_path, call):
    """NaN, infinities and non-numbers are the script's error at its line, not Python's
    'cannot convert float NaN to integer' (or a series that silently never counts)."""
    state = LuaState([tmp_path])
    with pytest.raises(LuaScriptError, match=r"^t\.lua:1: (bad argument #|msys\.\w+\.\w+: )"):
        state.execute(call, "@t.lua")


def test_msys_core_constants_have_the_values_momentum_documents(tmp_path):
    """Where the Momentum docs give a number (ec_string's storage types, the final
    validation hook's statuses), msys.core has that number."""
    state = LuaState([tmp_path])
    names = ("STRING_TYPE_STATIC", "STRING_TYPE_DISK_BACKED", "STRING_TYPE_IO_OBJECT",
             "STRING_TYPE_GROWBUF", "STRING_TYPE_GROWABLE_STATIC",
             "EC_HOOK_CONT", "EC_HOOK_DONE", "EC_HOOK_RETRY")
    script = "local c = require('msys.core'); return " + " .. ' ' .. ".join(
        f"tostring(c.{n})" for n in names)
    assert state.execute(script, "=t") == ("-100 -101 -102 -103 -104 0 1 2",)


@pytest.mark.parametrize("timeout", ["0/0", "1/0", "-1/0"])
def test_condition_wait_refuses_a_timeout_pthreads_refuses(tmp_path, timeout):
    """thrLua hands a NaN or infinite timeout to pthread_cond_timedwait, which answers
    EINVAL: an error at the script's line, in a task (not a wait that never ends) and
    outside one (not Python's 'Invalid value NaN')."""
    state = LuaState([tmp_path])
    state.execute("c = thread.condition()", "=setup")
    waiting = state.compile(f"c:acquire()\nc:wait({timeout})", "@t.lua")

    async def in_a_task():
        return await asyncio.wait_for(state.run_in_task(waiting), 2)

    with pytest.raises(LuaScriptError, match=r"^t\.lua:2: cond:wait failed Invalid argument"):
        asyncio.run(in_a_task())
    state.execute("c:release()", "=release")
    with pytest.raises(LuaScriptError, match=r"^t\.lua:2: cond:wait failed Invalid argument"):
        state.execute(f"c:acquire()\nc:wait({timeout})", "@t.lua")


@pytest.mark.parametrize("seconds", ["0/0", "1/0"])
def test_thread_sleep_needs_a_whole_number_of_seconds(tmp_path, seconds):
    state = LuaState([tmp_path])
    with pytest.raises(LuaScriptError, match=r"^t\.lua:1: bad argument #1 to 'sleep' \(number"
                       r" has no integer representation\)"):
        state.execute(f"thread.sleep({seconds})", "@t.lua")


def test_datasource_cidrs_take_columns_by_position_and_the_first_by_default(tmp_path):
    """As the cidr.define docs say: cidr_column and value_column are a name or an ordinal
    position, and without cidr_column the first column holds the networks."""
    import sqlite3

    database = tmp_path / "wl.db"
    with sqlite3.connect(database) as db:
        db.execute("create table wl (net text, label text)")
        db.execute("insert into wl values ('10.0.0.0/8', 'ten')")
    (tmp_path / "ecelerity.conf").write_text(
        f'Datasource "wl" {{ uri = ( "sqlite:{database}" ) }}\n'
        'scriptlet "scriptlet" { script "s" { source = "s" } }\n'
    )
    (tmp_path / "s.lua").write_text(
        "local mod = {}\n"
        "function mod:init()\n"
        '  msys.cidr.define("first", { type = "datasource", cachename = "wl",'
        ' query = "select net, label from wl" })\n'
        '  msys.cidr.define("ordinal", { type = "datasource", cachename = "wl",'
        ' query = "select label, net from wl", cidr_column = 2, value_column = 1 })\n'
        '  answers = { msys.cidr.query("first", "10.1.1.1"),'
        ' msys.cidr.query("ordinal", "10.1.1.1") }\n'
        "  return true\n"
        "end\n"
        'msys.registerModule("m", mod)\n'
    )
    node = MomentumNode(tmp_path / "ecelerity.conf")
    node.start()
    try:
        answers = node.generation.lua.execute("return answers[1], answers[2]", "=t")
        assert answers == (True, "ten")
    finally:
        node.stop()


def test_a_cidr_whose_source_cannot_be_read_is_not_defined(tmp_path):
    """Momentum's msys.cidr.define page does not say what a missing source does; here it
    is an error at the script's line naming the source, and the name stays undefined."""
    state = LuaState([tmp_path])
    missing = tmp_path / "missing.txt"
    with pytest.raises(LuaScriptError, match=(
        rf"^t\.lua:1: msys\.cidr\.define: cannot read '{missing}': No such file or directory$"
    )):
        state.execute(f'msys.cidr.define("rbl", {{ type = "rbldnsd", source = "{missing}" }})',
                      "@t.lua")
    with pytest.raises(LuaScriptError, match="no CIDR named 'rbl'"):
        state.execute('msys.cidr.query("rbl", "10.0.0.1")', "@t.lua")
    # other I/O wrapper schemes are not emulated, and say so (not "No such file")
    with pytest.raises(LuaScriptError, match=(
        r"^t\.lua:1: msys\.cidr\.define: cannot read 'http://127\.0\.0\.1/rbl\.txt': only "
        r"local files \(a path or file://\) are emulated$"
    )):
        state.execute('msys.cidr.define("rbl", { type = "rbldnsd",'
                      ' source = "http://127.0.0.1/rbl.txt" })', "@t.lua")
