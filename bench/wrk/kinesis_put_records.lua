-- Kinesis PutRecords of 500 records (the API maximum) x 300 bytes per request (~230 KB body),
-- partition keys varied. A 200 response may still reject records (FailedRecordCount > 0): the
-- response callback counts them, and the driver marks a run with any failed record INVALID.
--   wrk ... -- <run_tag> <stream>
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local kinesis = require("kinesis_common")

local kBatch = 500
failed_records = 0      -- records the server rejected in 200 responses
unchecked_responses = 0 -- 200 responses without a FailedRecordCount (the wrk ceiling's filler)

-- 16 bodies per thread, rendered on first use and then sent in turn (8000 distinct keys), so
-- wrk spends its time on the network, not on building 200 KB strings.
local kBodies = 16
local bodies = {}
kinesis.run("PutRecords", function(n)
  local k = n % kBodies + 1
  if not bodies[k] then
    local parts = {}
    local first = (k - 1) * kBatch
    for i = 1, kBatch do parts[i] = "{" .. kinesis.record_fields(first + i - 1) .. "}" end
    bodies[k] = '{"StreamName":"' .. bench_args[2] .. '","Records":['
      .. table.concat(parts, ",") .. "]}"
  end
  return bodies[k]
end, {"failed_records", "unchecked_responses"})

function response(status, headers, body)
  if status ~= 200 then return end
  local failed = body:match('"FailedRecordCount":%s*(%d+)')
  if failed then
    failed_records = failed_records + tonumber(failed)
  else
    unchecked_responses = unchecked_responses + 1
  end
end
