-- PutItem of a new gadget sale per request (keys never repeat within or across runs).
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

-- Optional second argument: the table (default bench_sales; the Kinesis suite's CDC runs use it).
common.run("PutItem", function(n)
  local order_id = string.format("put-%s-%d-%d", tag, tid, n)
  local table_name = bench_args[2] or "bench_sales"
  return '{"TableName":"' .. table_name .. '","Item":' .. common.item(order_id, common.store(n), n)
    .. "}"
end)
