-- Dataset loader: POST each id of the id list exactly once (thread k takes ids k, k+n, ...), then
-- stop. Counts 201 answers as ok_count and other non-200 answers as failed_count.
-- wrk calls request() once outside any connection to verify the script, and reconnects write without
-- asking delay(): a POST is only built against a ticket that delay() hands out, anything else is a
-- harmless GET of an id created long before (its 200 is not counted).
-- wrk's main thread sleeps for the whole -d duration: when a thread is done it creates the file
-- "<done prefix><thread number>", and the harness then ends wrk early with SIGINT.
-- args: <ids file> <templates file> <threads> <done prefix> [link header or "-"]
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local ids, heads, tails = {}, {}, {}
local headers = {}
local sent, tickets = 0, 0
local done_path = nil
ok_count, failed_count = 0, 0

function init(args)
   local all = read_lines(args[1])
   local nthreads = tonumber(args[3])
   for i = tid + 1, #all, nthreads do
      table.insert(ids, all[i])
   end
   heads, tails = read_templates(args[2])
   done_path = args[4] .. tid
   headers["Content-Type"] = "application/json"
   if args[5] and args[5] ~= "-" then
      headers["Link"] = args[5]
   end
   if #ids == 0 then
      mark_done()
   end
end

function mark_done()
   local f = io.open(done_path, "w")
   f:write(string.format("%d %d\n", ok_count, failed_count))
   f:close()
end

function delay()
   -- Once every id is sent, hold the connections until the thread is stopped.
   if sent + tickets >= #ids then
      return 600000
   end
   tickets = tickets + 1
   return 0
end

function request()
   if tickets == 0 then
      return wrk.format("GET", "/ngsi-ld/v1/entities/" .. ids[1], {Accept = "application/json"})
   end
   tickets = tickets - 1
   sent = sent + 1
   local i = sent % #heads + 1
   return wrk.format("POST", "/ngsi-ld/v1/entities", headers, heads[i] .. ids[sent] .. tails[i])
end

function response(status, headers, body)
   if status == 201 then
      ok_count = ok_count + 1
   elseif status ~= 200 then
      failed_count = failed_count + 1
   end
   if ok_count + failed_count == #ids then
      mark_done()
      wrk.thread:stop()
   end
end
