-- GetItem of a random pre-loaded item (setup_tables.py loads get-000000 .. get-<N-1>).
-- The key count comes from the second script argument (default 5000).
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

local key_count
common.run("GetItem", function(n)
  key_count = key_count or tonumber(bench_args[2] or 5000)
  return string.format('{"TableName":"bench_sales","Key":{"order_id":{"S":"get-%06d"}}}',
                       math.random(0, key_count - 1))
end)
