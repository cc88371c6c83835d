-- B1 create: POST /ngsi-ld/v1/entities with a unique id per request.
-- args: <templates file> [link header or "-"]
-- The templates file holds bench entity bodies, one a line, with the id "__ENTITY_ID__".
-- Ids are urn:ngsi-ld:Entity:<48 random bits>-<thread>-<counter>, shaped like a UUID.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local heads, tails = {}, {}
local counter = 0
local prefix = ""
local headers = {}

function init(args)
   heads, tails = read_templates(args[1])
   local random = io.open("/proc/sys/kernel/random/uuid"):read("*l")
   prefix = string.format("urn:ngsi-ld:Entity:%s-4%03x-8", random:sub(1, 13), tid % 4096)
   headers["Content-Type"] = "application/json"
   if args[2] and args[2] ~= "-" then
      headers["Link"] = args[2]
   end
end

function request()
   counter = counter + 1
   local i = counter % #heads + 1
   local id = string.format("%s%03x-%012d", prefix, counter % 4096, counter)
   return wrk.format("POST", "/ngsi-ld/v1/entities", headers, heads[i] .. id .. tails[i])
end
