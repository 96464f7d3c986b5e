require("msys.extended.httpsrv")

-- A global function, so it can also be registered by name.
function hello_world(session)
  local url = session:request_url_get()
  session:response_status_set_std(200, url.url .. " says: Hello world!", "text/plain")
  return msys.httpsrv.DONE
end

local mod = {}
function mod:rsrc_setup()
  msys.httpsrv.register("POST", "/hello", hello_world)
  msys.httpsrv.register("GET", "/hello", "hello_world")
  msys.httpsrv.register("HEAD", "/hello", "hello_world")
  return true
end
msys.registerModule("greeting", mod)
