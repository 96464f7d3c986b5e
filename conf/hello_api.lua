-- An example Momentum module: two endpoints registered in rsrc_setup, as the
-- msys.httpsrv.register documentation shows it.
require("msys.extended.httpsrv")
require("msys.core")

local mod = {}

-- POST /hello → "<url> says: Hello world!"
local function hello(session)
  local url = session:request_url_get()
  session:response_status_set_std(200, url.url .. " says: Hello world!", "text/plain")
  return msys.httpsrv.DONE
end

-- GET /params?a=1&b=2 → one "key=value" line per query parameter, sorted.
local function params(session)
  local url = session:request_url_get()
  local lines = {}
  if url.attrs != nil then   -- thrLua's not-equal, as Momentum's own examples write it
    local iter = msys.core.dict_iter2(url.attrs)
    while true do
      local rc, key, value = msys.core.dict_next(url.attrs, iter)
      if rc == 0 then break end
      lines[#lines + 1] = key .. "=" .. value
    end
    msys.core.dict_iter2_free(url.attrs, iter)
  end
  table.sort(lines)
  session:response_status_set_std(200, "OK", "text/plain")
  session:response_append(table.concat(lines, "\n") .. "\n")
  return msys.httpsrv.DONE
end

-- Console: `delay_domain example.com` (the shape of Momentum's registerControl example).
local function delay_domain(cc)
  if cc.argc < 2 then
    print("usage: delay_domain <domain>")
    return
  end
  local domain = cc.argv[1]
  local record = msys.core.dns_get_domain(domain)
  if record == nil then
    print(domain .. "\tis not a valid domain.")
    return
  end
  msys.core.mail_queue_delay_domain(record, "451 4.4.1 [internal] manually delayed domain")
  print(domain .. "\tadded to the delayed queue.")
end

function mod:rsrc_setup()
  msys.httpsrv.register("POST", "/hello", hello)
  msys.httpsrv.register("GET", "/params", params)
  msys.registerControl("delay_domain", delay_domain)
  return true
end

msys.registerModule("hello_api", mod)
