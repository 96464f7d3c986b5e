-- Shaped like Momentum's session:request_url_get documentation example: thrLua's `!=`
-- and the dict_iter2 / dict_next / dict_iter2_free helpers.
require("msys.core")
require("msys.extended.httpsrv")

local mod = {}

local function params_handler(session)
  local url_details = session:request_url_get()
  local params = {}
  if url_details.attrs != nil then
    local iter = msys.core.dict_iter2(url_details.attrs)
    while true do
      local rc, key, value = msys.core.dict_next(url_details.attrs, iter)
      if rc != 0 then
        params[#params + 1] = key .. "=" .. value
      else
        break
      end
    end
    msys.core.dict_iter2_free(url_details.attrs, iter)
  end
  table.sort(params)
  session:response_status_set_std(200, table.concat(params, " "), "text/plain")
  return msys.httpsrv.DONE
end

function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/doc/params", params_handler)
  return true
end

msys.registerModule("doc_params", mod)
