-- GetObject: GET /<bucket>/obj-<i> for a random i in [0, <arg>) (objects the driver loaded).
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local s3 = require("s3_common")

s3.run("GetObject", function(n)
  return s3.head("GET", "/" .. bucket .. "/obj-" .. math.random(0, arg - 1)) .. "\r\n"
end)
