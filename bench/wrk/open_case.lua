-- POST /api/v1/cases with a different case each time, on the demo serials of Acme.
package.path = package.path .. ";" .. os.getenv("BENCH_WRK_DIR") .. "/?.lua"
local report = require("report")

local severities = {"S1", "S2", "S3", "S4"}
local counter = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
  counter = counter + 1
  local body = string.format(
    '{"serial_number":"ACME-%04d","software_version":"32.6.1.4","severity":"%s",' ..
    '"title":"Benchmark case %d: link flaps on uplink","description":' ..
    '"Uplink port 1:49 flaps every few minutes since the upgrade; logs to follow.",' ..
    '"hardware_issue":false}',
    counter % 10 + 1, severities[counter % 4 + 1], counter)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  report(summary, latency)
end
