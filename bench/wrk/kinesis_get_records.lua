-- Kinesis GetRecords with Limit 10000 from a pre-filled shard. The driver fetches shard
-- iterators (TRIM_HORIZON) right before the run and writes them one per line to a file; the
-- requests reuse them round-robin (a Kinesis iterator may be read again until it expires
-- after 5 minutes), so every response carries the same records (the driver checks how many).
--   wrk ... -- <run_tag> <iterator file>
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local kinesis = require("kinesis_common")

local bodies
kinesis.run("GetRecords", function(n)
  if not bodies then
    bodies = {}
    for line in io.lines(bench_args[2]) do
      if #line > 0 then
        bodies[#bodies + 1] = '{"ShardIterator":"' .. line .. '","Limit":10000}'
      end
    end
  end
  return bodies[(n + tid) % #bodies + 1]
end)
