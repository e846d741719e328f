-- Shared by the S3 wrk scripts (s3_put.lua, s3_get.lua): path-style S3 requests with an
-- UNSIGNED-PAYLOAD x-amz-content-sha256 header and a dummy SigV4 Authorization header for
-- service s3 (every server runs without signature checks; salespipe with --auth off), and the
-- same machine-readable summary line as common.lua (BENCHJSON), parsed by driver.py's run_wrk.
--
-- Run as:  wrk ... -s bench/wrk/s3_<op>.lua <url> -- <run_tag> <bucket> <arg>

local M = {}

M.headers = {
  ["X-Amz-Date"] = "20250101T000000Z",
  ["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD",
  ["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/s3/"
    .. "aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="
    .. string.rep("0", 64),
}

-- Installs wrk's callbacks. make_request(n) returns the whole raw request of this thread's
-- n-th request (n counts from 0); tag, tid, bucket and arg are globals by then; head(method,
-- path) renders the request line and fixed headers (without the blank line).
function M.run(operation, make_request)
  local thread_count = 0
  function setup(thread)
    thread_count = thread_count + 1
    thread:set("tid", thread_count)
  end

  local n = 0
  function init(args)
    tag = args[1] or "r0"
    bucket = args[2] or "bench"
    arg = tonumber(args[3] or "0")
    math.randomseed(1000 + tid)
  end

  local fixed
  function M.head(method, path)
    if not fixed then
      fixed = "Host: " .. (wrk.headers["Host"] or wrk.host) .. "\r\n"
      for k, v in pairs(M.headers) do fixed = fixed .. k .. ": " .. v .. "\r\n" end
    end
    return method .. " " .. path .. " HTTP/1.1\r\n" .. fixed
  end

  function request()
    local r = make_request(n)
    n = n + 1
    return r
  end

  function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
      'BENCHJSON {"operation":"%s","requests":%d,"duration_us":%d,"bytes":%d,'
        .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,'
        .. '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,'
        .. '"errors_timeout":%d}\n',
      operation, summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
  end
end

return M
