-- Shared by the site's scripts through require("site.util").
local util = {}

function util.query_pairs(url)
  if url.attrs == nil then return "no attributes" end
  local pairs_seen, iter = {}, msys.core.dict_iter2(url.attrs)
  while true do
    local rc, key, value = msys.core.dict_next(url.attrs, iter)
    if rc == 0 then break end
    pairs_seen[#pairs_seen + 1] = key .. "=" .. value
  end
  msys.core.dict_iter2_free(url.attrs, iter)
  table.sort(pairs_seen)
  return table.concat(pairs_seen, "&")
end

return util
