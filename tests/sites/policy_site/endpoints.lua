-- Endpoints that read what policy.lua set up, beside it.
require("msys.extended.httpsrv")
local order = {}

local function policy(session)
  local ip = session:request_url_get().raw_query:match("ip=([^&]*)")
  msys.audit_series.add("rcpt", ip)
  msys.gauge_cache.inc("conns", ip)
  msys.counter.inc(hits)
  jlog_mutex:lock()
  local answer = table.concat({
    "cidr=" .. msys.cidr.query("trusted", ip),
    "series=" .. msys.audit_series.count("rcpt", { key = "192.0.2.0/24" }),
    "gauge=" .. msys.gauge_cache.get("conns", ip),
    "hits=" .. msys.counter.read("/site/policy/hits"),
    "slot=" .. binding_slot .. "/" .. msys.core.config_get_binding_name_from_id(binding_slot),
    "group=" .. group_size,
    "disk=" .. msys.type(msys.os.statvfs_read(disk)),
  }, " ")
  jlog_mutex:unlock()
  session:response_status_set_std(200, "OK", "text/plain")
  session:response_append(answer)
end

-- Holds the mutex across a suspension; a second request waits for it.
local function critical(session)
  local query = session:request_url_get().raw_query
  local name = query:match("name=([^&]*)")
  jlog_mutex:lock()
  order[#order + 1] = name .. " in"
  msys.sleep(tonumber(query:match("hold=([^&]*)") or "0"))
  order[#order + 1] = name .. " out"
  jlog_mutex:unlock()
  session:response_status_set_std(200, "OK", "text/plain")
  session:response_append(table.concat(order, ","))
end

local mod = {}
function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/policy", policy)
  msys.httpsrv.register("GET", "/critical", critical)
  msys.registerControl("disk", function(cc)
    local st = msys.os.statvfs_read(disk)
    print(st.version, st.kilobytes_total > 0)
  end)
  return true
end
msys.registerModule("endpoints", mod)
