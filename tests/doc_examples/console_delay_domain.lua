-- After 4/operations-console-lua.md and 4/lua/ref-msys-register-control.md (M3:
-- 3-reference-lua-ref-msys-register-control.md): a console command registered at load
-- time that puts a domain in the delayed queue.
require("msys.core");

local function hold_domain(cc)
  if cc.argc < 2 then
    print("hold_domain needs a domain name");
    return;
  end
  local name = cc.argv[1];
  local record = msys.core.dns_get_domain(name);
  if record ~= nil then
    msys.core.mail_queue_delay_domain(record, "451 4.4.1 held by an operator");
    print(name, "is now held.");
  end
end

msys.registerControl("hold_domain", hold_domain);
