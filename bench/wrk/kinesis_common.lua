-- Shared by the kinesis_*.lua scripts: Kinesis JSON 1.1 requests (X-Amz-Target
-- Kinesis_20131202.<Op>) on top of common.lua's request loop and BENCHJSON summary.
--
--   wrk ... -s bench/wrk/kinesis_<op>.lua <url> -- <run_tag> <stream name or iterator file>
--
-- Records are gadget-sale events of exactly 300 bytes (JSON, padded), base64 in the body. Each
-- thread pre-renders a pool of 8192 records, each with its own partition key
-- (cust-<tag>-<thread>-<i>), so a request costs a few concatenations and keys spread over
-- every shard.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

local M = {}

M.kRecordBytes = 300
local kPoolSize = 8192

M.headers = {
  ["Content-Type"] = "application/x-amz-json-1.1",
  ["X-Amz-Date"] = "20250101T000000Z",
  ["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/kinesis/"
    .. "aws4_request, SignedHeaders=host;x-amz-date, Signature=" .. string.rep("0", 64),
}

local kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = {}
    for k = 3, 0, -1 do
      local v = math.floor(n / 64 ^ k) % 64
      chars[#chars + 1] = kAlphabet:sub(v + 1, v + 1)
    end
    if not b then chars[3] = "=" end
    if not c then chars[4] = "=" end
    out[#out + 1] = table.concat(chars)
  end
  return table.concat(out)
end

local kCurrencies = {"USD", "EUR", "GBP", "JPY"}

-- One sale event, padded to exactly kRecordBytes.
local function render_event(i)
  local s = string.format(
    '{"order_id":"o-%07d","sku":"SKU-%05d","store":"store-%03d","quantity":%d,'
      .. '"unit_price":"%d.%02d","currency":"%s","ts":"2025-01-%02dT%02d:%02d:%02d.%03dZ","pad":"',
    math.random(0, 9999999), math.random(0, 99999), math.random(0, 199), math.random(1, 5),
    math.random(5, 1999), math.random(0, 99), kCurrencies[math.random(#kCurrencies)],
    1 + i % 28, math.random(0, 23), math.random(0, 59), math.random(0, 59), math.random(0, 999))
  return s .. string.rep("x", M.kRecordBytes - #s - 2) .. '"}'
end

-- '"PartitionKey":"...","Data":"..."' of this thread's i-th record (i from 0). 64 distinct
-- payloads (base64 in Lua is slow), 8192 distinct keys per thread; built on the first call in a
-- few milliseconds.
local kPayloads = 64
local pool
function M.record_fields(i)
  if not pool then
    local payloads = {}
    for k = 1, kPayloads do payloads[k] = M.base64(render_event(k)) end
    pool = {}
    for k = 1, kPoolSize do
      pool[k] = string.format('"PartitionKey":"cust-%s-%d-%d","Data":"%s"', tag, tid, k,
                              payloads[k % kPayloads + 1])
    end
  end
  return pool[i % kPoolSize + 1]
end

function M.run(operation, make_body, counters)
  common.run(operation, make_body,
             {headers = M.headers, target = "Kinesis_20131202.", counters = counters})
end

return M
