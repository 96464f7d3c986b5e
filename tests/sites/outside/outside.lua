-- GET /check?domain=D&id=N: the domain's best MX, the upstream's echo of the request,
-- and the domain's plan from the datasource, on one line. GET /plain answers at once.
require("msys.extended.httpsrv")
require("msys.db")
require("msys.datasource")
require("json")
local settings = require("outside_settings")
local mod = {}

local function fail(session, message)
  session:response_status_set_std(502, message, "text/plain")
  return msys.httpsrv.DONE
end

local function check(session)
  local q = session:request_url_get().attrs
  local mx, dns_error = msys.dnsLookup(q.domain, "MX", { server = settings.dns_server })
  if not mx then return fail(session, "DNS " .. dns_error) end
  local client = msys.http.client.new()
  client:set_timeout(60)
  local ok, http_error = client:do_request("GET", settings.upstream .. "/held?id=" .. q.id)
  if not ok then return fail(session, "HTTP " .. http_error) end
  local echoed = json.decode(client:get_body())
  local row = msys.db.fetch_row("domains", "select plan from domains where name = ?",
                                { q.domain })
  session:response_status_set_std(200, "OK", "text/plain")
  session:response_append(table.concat(
    { q.id, mx[1], echoed.path, row and row.plan or "none" }, " "))
  return msys.httpsrv.DONE
end

local function plain(session)
  session:response_status_set_std(200, "OK", "text/plain")
  session:response_append("plain")
  return msys.httpsrv.DONE
end

function mod:init()
  msys.db.execute("domains", "create table if not exists domains (name text primary key, plan text)")
  msys.db.execute("domains", "insert or replace into domains values ('example.com', 'gold'), "
    .. "('example.org', 'silver')")
  return true
end

function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/check", check)
  msys.httpsrv.register("GET", "/plain", plain)
  return true
end

msys.registerModule("outside", mod)
