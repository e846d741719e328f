-- PutObject: PUT /<bucket>/put-<tag>-<thread>-<n> with a body of <arg> bytes (the same bytes
-- for every request of a thread, built once). Keys never repeat.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local s3 = require("s3_common")

local body
s3.run("PutObject", function(n)
  if not body then
    local unit = string.format("salespipe-bench-%04d-", tid) .. string.rep("x", 40)
    body = string.rep(unit, math.floor(arg / #unit) + 1):sub(1, arg)
  end
  return s3.head("PUT", "/" .. bucket .. "/put-" .. tag .. "-" .. tid .. "-" .. n)
    .. "Content-Length: " .. #body .. "\r\n\r\n" .. body
end)
