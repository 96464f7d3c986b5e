local mod = {}

local function broken(session)
  local record = nil
  return record.field
end

function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/broken", broken)
  return true
end
msys.registerModule("broken", mod)
