-- POSTs the body in $BENCH_BODY with the headers a Claude Code request carries; prints one JSON summary line.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = "bench-not-a-key"
wrk.headers["anthropic-version"] = "2023-06-01"
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"p50_us":%d,"p99_us":%d,"rps":%.1f,"requests":%d,"errors":%d}\n',
    latency:percentile(50), latency:percentile(99),
    summary.requests / (summary.duration / 1e6), summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout))
end
