-- B8 batch: POST a JSON array of <batch size> bench entities, each with a unique id, to one of the
-- batch endpoints. A 207 (some entity failed) counts as failed_count: wrk itself counts it as a 2xx.
-- args: <templates file> <path, e.g. /ngsi-ld/v1/entityOperations/create> <batch size> [link header or "-"]
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local heads, tails = {}, {}
local counter = 0
local prefix = ""
local path = ""
local size = 100
local headers = {}
ok_count, failed_count = 0, 0

function init(args)
   heads, tails = read_templates(args[1])
   path = args[2]
   size = tonumber(args[3])
   local random = io.open("/proc/sys/kernel/random/uuid"):read("*l")
   prefix = string.format("urn:ngsi-ld:Entity:%s-b%03x-", random:sub(1, 13), tid % 4096)
   headers["Content-Type"] = "application/json"
   if args[4] and args[4] ~= "-" then
      headers["Link"] = args[4]
   end
end

function request()
   local items = {}
   for _ = 1, size do
      counter = counter + 1
      local i = counter % #heads + 1
      table.insert(items, heads[i] .. string.format("%s%012d", prefix, counter) .. tails[i])
   end
   return wrk.format("POST", path, headers, "[" .. table.concat(items, ",") .. "]")
end

function response(status, headers, body)
   if status == 201 or status == 204 then
      ok_count = ok_count + 1
   else
      failed_count = failed_count + 1
   end
end
