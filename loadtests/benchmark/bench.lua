-- wrk script for `fapi-lab benchmark` (lab/load/bench_wrk.py writes its environment).
--
-- Every request is built from pre-generated material, one line per request, so wrk
-- spends no time on cryptography: a line is a DPoP proof (bank calls) or a client
-- assertion with an optional DPoP proof after a tab (token requests). Each line is
-- used once: DPoP jti and client-assertion jti are single-use at the server.
--
--   BENCH_KIND       get | dpop | token        what each request carries
--   BENCH_METHOD     GET | POST
--   BENCH_PATH       request path
--   BENCH_AUTH       Authorization header value (get, dpop), may be empty
--   BENCH_BODY       form body before the client assertion (token)
--   BENCH_MATERIAL   the file of lines (dpop, token)
--   BENCH_THREADS    wrk's -t, so each thread knows its share of the material
--   BENCH_RESULT     where done() writes its JSON summary

local kind = os.getenv("BENCH_KIND") or "get"
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local auth = os.getenv("BENCH_AUTH") or ""
local body_prefix = os.getenv("BENCH_BODY") or ""
local material = os.getenv("BENCH_MATERIAL") or ""
local result_path = os.getenv("BENCH_RESULT") or ""

local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")

local threads = {}
local counter = 0

function setup(thread)
  -- Threads split the material: thread k takes lines k+1, k+1+n, ... so no line is sent twice.
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local lines = {}
local next_line = 1
local fixed = nil

function init(args)
  local count = thread_count
  local mine = index or 0
  if kind ~= "get" then
    local n = 0
    for line in io.lines(material) do
      if n % count == mine then
        lines[#lines + 1] = line
      end
      n = n + 1
    end
    assert(#lines > 0, "no material for this thread in " .. material)
  end
  local headers = {}
  if auth ~= "" then headers["Authorization"] = auth end
  if kind == "get" then
    fixed = wrk.format(method, path, headers, nil)
  end
  wrapped = 0
  sent = 0
end

function request()
  if fixed then return fixed end
  local line = lines[next_line]
  if line == nil then
    -- Out of material: from here on lines are replayed and the server refuses them
    -- (counted as errors, and reported as "material ran out").
    next_line = 1
    wrapped = wrapped + 1
    line = lines[1]
  end
  next_line = next_line + 1
  local headers = {}
  if auth ~= "" then headers["Authorization"] = auth end
  if kind == "dpop" then
    headers["DPoP"] = line
    return wrk.format(method, path, headers, nil)
  end
  local tab = string.find(line, "\t", 1, true)
  local assertion, proof = line, nil
  if tab then
    assertion, proof = string.sub(line, 1, tab - 1), string.sub(line, tab + 1)
  end
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  if proof then headers["DPoP"] = proof end
  return wrk.format(method, path, headers, body_prefix .. assertion)
end

function done(summary, latency, requests)
  local wrapped_total = 0
  for _, thread in ipairs(threads) do
    wrapped_total = wrapped_total + (thread:get("wrapped") or 0)
  end
  local e = summary.errors
  local out = string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}, ' ..
    '"material_wrapped": %d}',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, wrapped_total)
  local file = assert(io.open(result_path, "w"))
  file:write(out)
  file:close()
end
