-- Shared by the wrk scripts in this folder: DynamoDB JSON 1.0 requests with a realistic
-- gadget-sale item, varied keys per request, and a machine-readable summary for driver.py.
--
-- Every script is run as:  wrk ... -s bench/wrk/<op>.lua <url> -- <run_tag>
-- <run_tag> keeps the keys written by one run apart from the keys of every other run; scripts
-- may read further arguments from the global bench_args.

local M = {}

local kProducts = {
  {"Wireless Noise-Cancelling Headphones WH-1000", "audio"},
  {"Smartwatch Series 7 GPS 45mm Midnight", "wearables"},
  {"USB-C GaN Fast Charger 65W Dual Port", "accessories"},
  {"Mechanical Keyboard TKL Hot-Swap RGB", "peripherals"},
  {"4K HDR Streaming Media Player with Remote", "tv"},
  {"Bluetooth Portable Speaker Waterproof Mini", "audio"},
  {"Ultralight Gaming Mouse 58g Wireless", "peripherals"},
  {"Tablet 11-inch 128GB Wi-Fi Space Gray", "tablets"},
}
local kCurrencies = {"USD", "EUR", "GBP", "JPY"}

M.headers = {
  ["Content-Type"] = "application/x-amz-json-1.0",
  ["X-Amz-Date"] = "20250101T000000Z",
  ["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/dynamodb/"
    .. "aws4_request, SignedHeaders=host;x-amz-date, Signature=" .. string.rep("0", 64),
}

-- One gadget sale as DynamoDB JSON (the "Item" map), about 360 bytes. Everything but the
-- order id and the store comes from a per-thread pool of 512 pre-rendered tails, so building
-- a request costs a few concatenations and the generator stays well ahead of the servers.
local kPoolSize = 512
local tail_pool

local function render_tail(n)
  local p = kProducts[math.random(#kProducts)]
  return string.format(
    '"sku":{"S":"SKU-%05d"},"product_name":{"S":"%s"},'
      .. '"category":{"S":"%s"},"quantity":{"N":"%d"},"unit_price":{"N":"%d.%02d"},'
      .. '"currency":{"S":"%s"},"customer_id":{"S":"cust-%07d"},'
      .. '"ts":{"S":"2025-01-%02dT%02d:%02d:%02d.%03dZ"},"channel":{"S":"web"},'
      .. '"payment":{"S":"card"}}',
    math.random(0, 99999), p[1], p[2], math.random(1, 5), math.random(5, 1999),
    math.random(0, 99), kCurrencies[math.random(#kCurrencies)], math.random(0, 9999999),
    1 + n % 28, math.random(0, 23), math.random(0, 59), math.random(0, 59), math.random(0, 999))
end

function M.item(order_id, store, n)
  if not tail_pool then
    tail_pool = {}
    for i = 1, kPoolSize do tail_pool[i] = render_tail(i) end
  end
  return '{"order_id":{"S":"' .. order_id .. '"},"store":{"S":"' .. store .. '"},'
    .. tail_pool[n % kPoolSize + 1]
end

function M.store(i) return string.format("store-%03d", i % 200) end

-- Installs wrk's callbacks. make_body(n) returns the JSON body of this thread's n-th request
-- (n counts from 0); tag and tid (this thread's id, from 1) are globals by then.
-- opts (optional, used by the Kinesis scripts): headers (replace M.headers), target (the
-- X-Amz-Target prefix, default "DynamoDB_20120810."), counters (names of numeric globals the
-- threads keep, e.g. in a response() callback; done() adds them up over the threads and
-- prints them in BENCHJSON).
function M.run(operation, make_body, opts)
  opts = opts or {}
  local headers = {}
  for k, v in pairs(opts.headers or M.headers) do headers[k] = v end
  headers["X-Amz-Target"] = (opts.target or "DynamoDB_20120810.") .. operation

  local thread_count = 0
  local threads = {}
  function setup(thread)
    thread_count = thread_count + 1
    thread:set("tid", thread_count)
    threads[thread_count] = thread
  end

  local n = 0
  function init(args)
    bench_args = args
    tag = args[1] or "r0"
    math.randomseed(1000 + tid)
  end

  -- The request line and fixed headers once; per request only Content-Length and the body.
  local head
  function request()
    if not head then
      head = "POST / HTTP/1.1\r\nHost: " .. (wrk.headers["Host"] or wrk.host) .. "\r\n"
      for k, v in pairs(headers) do head = head .. k .. ": " .. v .. "\r\n" end
      head = head .. "Content-Length: "
    end
    local body = make_body(n)
    n = n + 1
    return head .. #body .. "\r\n\r\n" .. body
  end

  function done(summary, latency, requests)
    local e = summary.errors
    local extra = ""
    for _, name in ipairs(opts.counters or {}) do
      local total = 0
      for _, thread in ipairs(threads) do total = total + (thread:get(name) or 0) end
      extra = extra .. string.format(',"%s":%d', name, total)
    end
    io.write(string.format(
      'BENCHJSON {"operation":"%s","requests":%d,"duration_us":%d,"bytes":%d,'
        .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,'
        .. '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,'
        .. '"errors_timeout":%d%s}\n',
      operation, summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, e.connect, e.read, e.write, e.status, e.timeout, extra))
  end
end

return M
