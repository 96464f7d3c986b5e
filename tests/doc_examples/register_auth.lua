-- After 4/lua/ref-msys-register-auth.md (M3: 3-reference-lua-ref-msys-register-auth.md):
-- an authentication scheme registered from init, with its group functions.
require('msys.core');
local module = {};
local scheme = {};

function scheme:enumGroups(username)
  if username == "admin" then
    return { "admin", "operators" };
  end
  return msys.core.EC_AUTH_FAIL;
end

function scheme:queryGroups()
  return { "admin", "operators", "viewers" };
end

function scheme:authenticate(filename, paramsdict, username, password)
  if username == "admin" and password == "opensesame" then
    return msys.core.EC_AUTH_OK;
  end;
  return msys.core.EC_AUTH_FAIL;
end

function module:init()
  msys.registerAuth("teamscheme", scheme);
  return true;
end;

function module:rsrc_setup()
  msys.httpsrv.register("GET", "/private", function(session)
    session:response_append("hello " .. session:request_username_get())
  end)
  return true
end

msys.registerModule("teamauth", module);
