-- wrk script for bench/load.py: each request is the next line of the file named by the PATHS
-- variable (request paths, URL-encoded). Each thread takes its own share of the lines, so with
-- distinct lines no query is asked twice until a thread has used its share (then it starts over,
-- and `wrapped` counts how often). done() prints one JSON line that bench/load.py reads.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("number", counter)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(os.getenv("PATHS"), "r"))
  local all = {}
  for line in file:lines() do
    if #line > 0 then table.insert(all, line) end
  end
  file:close()
  local count = tonumber(os.getenv("THREADS") or "1")
  paths = {}
  for position = number, #all, count do table.insert(paths, all[position]) end
  if #paths == 0 then paths = all end
  next_path = 1
  wrapped = 0
end

function request()
  local path = paths[next_path]
  next_path = next_path + 1
  if next_path > #paths then
    next_path = 1
    wrapped = wrapped + 1
  end
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do wraps = wraps + (thread:get("wrapped") or 0) end
  local errors = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
      .. '"non_2xx": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, '
      .. '"wrapped": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    errors.status, errors.connect, errors.read, errors.write, errors.timeout, wraps))
end
