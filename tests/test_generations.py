"""A reload swaps generations without pulling the Lua state from under running requests."""

import asyncio

from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.node import MomentumNode


def start_node(directory, script):
    """A started node whose one script, "gen", is ``script`` at VERSION v1."""
    config = directory / "ecelerity.conf"
    config.write_text('scriptlet "scriptlet" { script "gen" { source = "gen" } }\n')
    (directory / "gen.lua").write_text(script.replace("VERSION", "v1"))
    node = MomentumNode(config)
    node.start()
    return node

SCRIPT = """
local mod = {}
function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/slow", function(session)
    msys.sleep(0.2)
    session:response_append("slow done by VERSION")
  end)
  return true
end
function mod:deinit() print("deinit VERSION") return true end
msys.registerModule("gen", mod)
"""


def test_old_generation_deinit_waits_for_its_last_request(tmp_path):
    node = start_node(tmp_path, SCRIPT)

    async def scenario():
        slow = asyncio.create_task(node.handle(Request("GET", "/slow")))
        await asyncio.sleep(0.05)  # the request is suspended in msys.sleep
        (tmp_path / "gen.lua").write_text(SCRIPT.replace("VERSION", "v2"))
        await node.reload()
        deinit_before_finish = "deinit v1" in node.paniclog.text()
        response = await slow
        return deinit_before_finish, response

    deinit_before_finish, response = asyncio.run(scenario())
    assert response.body == b"slow done by v1"
    assert not deinit_before_finish
    assert "deinit v1" in node.paniclog.text()
    assert node.call(Request("GET", "/slow")).body == b"slow done by v2"
    node.stop()
    assert "deinit v2" in node.paniclog.text()


def test_config_set_then_reload_still_waits_for_the_request(tmp_path):
    """config set makes a generation on the same Lua state: it shares what runs there."""
    node = start_node(tmp_path, SCRIPT)

    async def scenario():
        slow = asyncio.create_task(node.handle(Request("GET", "/slow")))
        await asyncio.sleep(0.05)
        reply = await node.run_console("config set scriptlet scriptlet gc_pause 150")
        assert reply == "GC_Pause = 150\n"  # the canonical spelling
        (tmp_path / "gen.lua").write_text(SCRIPT.replace("VERSION", "v2"))
        await node.reload()
        deinit_early = "deinit v1" in node.paniclog.text() and not slow.done()
        return deinit_early, await slow

    deinit_early, response = asyncio.run(scenario())
    assert not deinit_early and response.body == b"slow done by v1"
    assert "deinit v1" in node.paniclog.text()
    node.stop()


COMMAND_SCRIPT = """
local mod = {}
function mod:rsrc_setup()
  msys.registerControl("slowcmd", function(cc)
    msys.sleep(0.2)
    msys.runInPool("IO", function() print("job ran") end, true)
    print("command done")
  end)
  return true
end
function mod:deinit() print("deinit VERSION") return true end
msys.registerModule("gen", mod)
"""


def test_reload_waits_for_a_console_command_in_flight(tmp_path):
    node = start_node(tmp_path, COMMAND_SCRIPT)

    async def scenario():
        command = asyncio.create_task(node.run_console("slowcmd"))
        await asyncio.sleep(0.05)
        (tmp_path / "gen.lua").write_text(COMMAND_SCRIPT.replace("VERSION", "v2"))
        await node.run_console("config reload")
        # On a loaded machine the build may outlast the command; deinit is then due.
        deinit_early = "deinit v1" in node.paniclog.text() and not command.done()
        return deinit_early, await command

    deinit_early, reply = asyncio.run(scenario())
    assert not deinit_early
    assert reply.splitlines() == ["command done", "job ran"]  # its job ends before the reply
    assert "deinit v1" in node.paniclog.text()
    node.stop()


def test_a_failed_reload_stops_what_its_scripts_started(tmp_path):
    node = start_node(tmp_path, SCRIPT)
    bad = tmp_path / "bad.conf"
    bad.write_text('scriptlet "scriptlet" { script "bad" { source = "bad" } }\n')
    (tmp_path / "bad.lua").write_text(
        'require("msys.timer")\nlocal mod = {}\n'
        'function mod:init()\n'
        '  TICKER = msys.timer.every(0.01, function() print("FAILED-GEN tick") end)\n'
        '  return true\nend\n'
        'function mod:rsrc_setup() error("setup boom") end\n'
        'msys.registerModule("bad", mod)\n'
    )

    async def scenario():
        reply = await node.run_console(f"config reload {bad}")
        await asyncio.sleep(0.2)
        return reply

    reply = asyncio.run(scenario())
    assert reply.startswith("Reconfigure failed:") and "setup boom" in reply
    assert "FAILED-GEN tick" not in node.paniclog.text()
    assert node.call(Request("GET", "/slow")).body == b"slow done by v1"
    node.stop()
