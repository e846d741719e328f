-- BatchWriteItem of 25 new gadget sales (the API maximum) per request.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

local kBatch = 25
common.run("BatchWriteItem", function(n)
  local parts = {}
  for i = 1, kBatch do
    local order_id = string.format("bw-%s-%d-%d-%02d", tag, tid, n, i)
    local item = common.item(order_id, common.store(n + i), n * kBatch + i)
    parts[i] = '{"PutRequest":{"Item":' .. item .. "}}"
  end
  return '{"RequestItems":{"bench_sales":[' .. table.concat(parts, ",") .. "]}}"
end)
