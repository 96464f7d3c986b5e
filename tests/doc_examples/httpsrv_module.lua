-- After 4/lua/ref-msys-httpsrv-register.md: a module whose rsrc_setup registers an HTTP
-- endpoint (a global handler) and a console command.
require("msys.extended.httpsrv")
require("msys.core")

local site = {}

function greet_handler(session)
  local details = session:request_url_get()
  session:response_status_set_std(200, details.url .. " answers: greetings", "text/plain")
end

local function hold(cc)
  if cc.argc < 2 then
    print("hold needs a domain");
    return;
  end
  local record = msys.core.dns_get_domain(cc.argv[1]);
  if record ~= nil then
    msys.core.mail_queue_delay_domain(record, "451 4.4.1 held");
    print(cc.argv[1], "held.");
  end
end

function site:rsrc_setup()
  msys.httpsrv.register("POST", "/greet", greet_handler)
  msys.registerControl("hold", hold)
  return true
end

msys.registerModule("greeter", site)
