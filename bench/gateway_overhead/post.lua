-- wrk script for the gateway overhead benchmark.
-- BENCH_BODY_FILE: path of the JSON request body; BENCH_AUTH: optional bearer token.
-- done() prints one line "BENCH_JSON {...}" with counts and latency percentiles (microseconds).
-- Every request is new: the first 8 letters of the user message become a counter written in
-- letters (same size, no digits), so no proxy can answer a repeated prompt from memory; the
-- system prompt stays the same, as it does in real traffic. BENCH_OFFSET (run.py gives every
-- wrk run its own) starts the counter, so that a later run against the same proxy does not
-- resend the messages of an earlier one (ztai remembers what it scanned per caller).
local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.method = "POST"
local body = f:read("*a")
f:close()
local marker = '"role":"user","content":"'
local at = assert(string.find(body, marker, 1, true), "body has no user message")
local head = string.sub(body, 1, at + #marker - 1)
local tail = string.sub(body, at + #marker + 8)
local counter = tonumber(os.getenv("BENCH_OFFSET") or "0")

local function letters(n)
  local out = {}
  for i = 8, 1, -1 do
    out[i] = string.char(97 + n % 26)
    n = math.floor(n / 26)
  end
  return table.concat(out)
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, head .. letters(counter) .. tail)
end
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. auth
end

function done(summary, latency, requests)
  local e = summary.errors
  local out = string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,' ..
    '"p50":%d,"p90":%d,"p99":%d,"p999":%d}}',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9))
  io.write("BENCH_JSON " .. out .. "\n")
end
