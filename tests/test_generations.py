"""A reload swaps generations without pulling the Lua state from under running requests."""

import asyncio

from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.node import MomentumNode

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
    config = tmp_path / "ecelerity.conf"
    config.write_text('scriptlet "scriptlet" { script "gen" { source = "gen" } }\n')
    (tmp_path / "gen.lua").write_text(SCRIPT.replace("VERSION", "v1"))
    node = MomentumNode(config)
    node.start()

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
