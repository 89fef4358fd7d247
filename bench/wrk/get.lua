-- GET the URL given on the command line; headers come from -H.
package.path = package.path .. ";" .. os.getenv("BENCH_WRK_DIR") .. "/?.lua"
local report = require("report")

function done(summary, latency, requests)
  report(summary, latency)
end
