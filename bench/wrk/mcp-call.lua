-- wrk script for bench/run: POSTs one MCP `tools/call` per request, over keep-alive connections.
--
--   MCP_SESSION_ID=<id> [MCP_BEARER_TOKEN=<jwt>] [MCP_CALL_BODY=<json>] wrk -t1 -c64 -d10s --latency \
--       -s bench/wrk/mcp-call.lua http://127.0.0.1:PORT/mcp
--
-- MCP_CALL_BODY: the JSON-RPC request to send (each section calls its own tool); unset: `echo` of "hello".
-- MCP_SESSION_ID unset or empty: no Mcp-Session-Id header (the nginx baseline, which has no sessions).
-- MCP_BEARER_TOKEN set: every request carries `Authorization: Bearer <token>` (the authenticated section).
-- Every response's status is checked: anything but 200 is counted (non_200; non_2xx for those outside 2xx).
-- At the end one machine-readable line is printed for bench/run:
--   BENCH_RESULT {"requests":..,"non_2xx":..,"latency_us":{"p50":..,"p99":..},...}

local session = os.getenv("MCP_SESSION_ID") or ""
local token = os.getenv("MCP_BEARER_TOKEN") or ""
local body = os.getenv("MCP_CALL_BODY") or ""
if body == "" then
   body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}'
end

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-06-18"
if session ~= "" then
   wrk.headers["Mcp-Session-Id"] = session
end
if token ~= "" then
   wrk.headers["Authorization"] = "Bearer " .. token
end

-- Each wrk thread runs its own Lua state: setup() (main state) keeps the threads so done() can add their counts up.
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

-- Per-thread counters (globals so that done() can read them with thread:get).
non_2xx = 0
non_200 = 0
first_bad_status = 0

function response(status, headers, body)
   if status ~= 200 then
      non_200 = non_200 + 1
      if status < 200 or status > 299 then
         non_2xx = non_2xx + 1
      end
      if first_bad_status == 0 then
         first_bad_status = status
      end
   end
end

function done(summary, latency, requests)
   local n2xx, n200, first_bad = 0, 0, 0
   for _, thread in ipairs(threads) do
      n2xx = n2xx + (thread:get("non_2xx") or 0)
      n200 = n200 + (thread:get("non_200") or 0)
      local bad = thread:get("first_bad_status") or 0
      if first_bad == 0 then first_bad = bad end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"non_2xx":%d,"non_200":%d,"first_bad_status":%d,' ..
      '"latency_us":{"mean":%.1f,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      n2xx, n200, first_bad,
      latency.mean, latency.stdev, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max))
end
