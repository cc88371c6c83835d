-- Shared by the bench scripts: thread numbering, file reading and a machine-readable done().
-- done() prints one line "BENCHJSON {...}" with the summary, errors and a latency quantile grid
-- (microseconds) that the harness pools across bursts.

local threads = {}
local next_tid = 0

function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
   table.insert(threads, thread)
end

function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if #line > 0 then
         table.insert(lines, line)
      end
   end
   return lines
end

-- The bodies of a templates file split around the id placeholder "__ENTITY_ID__": heads, tails.
function read_templates(path)
   local heads, tails = {}, {}
   for _, body in ipairs(read_lines(path)) do
      local s, e = body:find("__ENTITY_ID__", 1, true)
      table.insert(heads, body:sub(1, s - 1))
      table.insert(tails, body:sub(e + 1))
   end
   return heads, tails
end

function quantile_grid()
   local grid = {}
   for q = 5, 995, 5 do
      table.insert(grid, q / 10)
   end
   for _, q in ipairs({99.6, 99.7, 99.8, 99.9, 99.95, 99.99}) do
      table.insert(grid, q)
   end
   return grid
end

function done(summary, latency, requests)
   local e = summary.errors
   local parts = {}
   for _, q in ipairs(quantile_grid()) do
      table.insert(parts, string.format("[%g,%d]", q, latency:percentile(q)))
   end
   local ok, failed = 0, 0
   for _, t in ipairs(threads) do
      ok = ok + (t:get("ok_count") or 0)
      failed = failed + (t:get("failed_count") or 0)
   end
   io.write(string.format(
      'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,' ..
      '"write":%d,"status":%d,"timeout":%d},"latency_max_us":%d,"ok":%d,"failed":%d,"quantiles":[%s]}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
      e.timeout, latency.max, ok, failed, table.concat(parts, ",")))
end
