require("msys.httpsrv")
require("msys.core")
local util = require("site.util")

local mod = {}

local function echo(session)
  session:response_header_set("Content-Type", "application/octet-stream")
  session:response_append(session:request_data_get_string())
end

local function any_method(session)
  session:response_append("any " .. session:request_method_get())
end

local function attributes(session)
  session:response_append(util.query_pairs(session:request_url_get()))
end

function mod:rsrc_setup()
  msys.httpsrv.register("POST", "/echo", echo)
  msys.httpsrv.register(nil, "/any", any_method)
  msys.httpsrv.register("GET", "/attrs", attributes)
  return true
end
msys.registerModule("echo", mod)
