-- Query of a whole 100-item partition of bench_partition (pk store, sk order_id).
-- setup_tables.py loads the partitions qstore-000 .. qstore-<P-1>, 100 items each; P comes
-- from the second script argument (default 4).
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

local partitions
common.run("Query", function(n)
  partitions = partitions or tonumber(bench_args[2] or 4)
  return string.format(
    '{"TableName":"bench_partition","KeyConditionExpression":"#s = :s",'
      .. '"ExpressionAttributeNames":{"#s":"store"},'
      .. '"ExpressionAttributeValues":{":s":{"S":"qstore-%03d"}}}',
    math.random(0, partitions - 1))
end)
