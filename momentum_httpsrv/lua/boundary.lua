-- Id tables: Lua values that must outlive a host call (handlers, console commands) stay
-- here under integer ids; Python holds the ids (boundary.py: LuaIdTable). Reading an id
-- that was never stored or has been retired is an error naming it, never a silent nil.
local error, ipairs, pairs, tostring = error, ipairs, pairs, tostring

return function(kind)
  local values, last = {}, 0
  local ids = {}

  function ids.put(value)
    last = last + 1
    values[last] = value
    return last
  end

  function ids.get(id)
    local value = values[id]
    if value == nil then
      error(kind .. " " .. tostring(id) .. " is not held here (retired, or never stored)", 2)
    end
    return value
  end

  -- A list of ids (or nil) the host retired.
  function ids.forget(retired)
    if retired == nil then return end
    for _, id in ipairs(retired) do values[id] = nil end
  end

  function ids.count()
    local n = 0
    for _ in pairs(values) do n = n + 1 end
    return n
  end

  return ids
end
