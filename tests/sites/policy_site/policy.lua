-- Load-time calls as the public policy scripts make them.
require("msys.core")
require("msys.cidr")
require("msys.audit_series")
require("msys.gauge_cache")
require("msys.counter")
require("msys.os")
require("msys.adaptive")
require("msys.extended.vctx")
local http = require("msys.http_lua")

here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
_OSTLS.psl = nil
jlog_mutex = nil
hits = msys.counter.open("/site/policy/hits")

msys.adaptive.registerRules({
  ["example.com"] = { responses = { {
    code = "^421 4\\.7\\.0 .* from (?<IPADDRESS>\\d+\\.\\d+\\.\\d+\\.\\d+)", trigger = "1",
    action = { "throttle", "down" }, phase = "connect" } } },
}, "augment")

http.registerModule("http-delivery", {
  build_request = function(self, session) end,
  handle_response = function(self, session) end,
})

local mod = {}
function mod:init()
  jlog_mutex = thread.mutex()
  msys.cidr.define("trusted", {
    type = "rbldnsd", source = here .. "whitelist.txt", value = "txt",
    interpolate = true, default_value = "",
  })
  msys.audit_series.define("rcpt", "cidr", 300, 12, { persist = true })
  msys.gauge_cache.define("conns", 1000, 3600)
  disk = msys.os.statvfs_subscribe(here, 10)
  binding_slot = msys.core.config_get_binding_id_from_name("pool_2")
  group_size = msys.core.config_get_binding_group_size("pool")
  return true
end
function mod:validate_connect(accept, vctx) return msys.core.VALIDATE_CONT end
function mod:validate_rcptto(msg, str, accept, vctx) return msys.core.VALIDATE_CONT end
function mod:core_final_validation(msg, accept, vctx) return msys.core.VALIDATE_CONT end
msys.registerModule("policy", mod)
