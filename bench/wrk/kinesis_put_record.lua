-- Kinesis PutRecord of one 300-byte record per request, partition keys varied.
--   wrk ... -- <run_tag> <stream>
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local kinesis = require("kinesis_common")

kinesis.run("PutRecord", function(n)
  return '{"StreamName":"' .. bench_args[2] .. '",' .. kinesis.record_fields(n) .. "}"
end)
