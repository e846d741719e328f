-- PutItem of a new gadget sale per request (keys never repeat within or across runs).
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

common.run("PutItem", function(n)
  local order_id = string.format("put-%s-%d-%d", tag, tid, n)
  return '{"TableName":"bench_sales","Item":' .. common.item(order_id, common.store(n), n) .. "}"
end)
