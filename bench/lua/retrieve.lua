-- B2 retrieve: GET /ngsi-ld/v1/entities/{random id from the preloaded id list}.
-- args: <ids file> [query string, e.g. "format=keyValues", or "-"] [link header or "-"]
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local paths = {}
local headers = {}

function init(args)
   local query = ""
   if args[2] and args[2] ~= "-" then
      query = "?" .. args[2]
   end
   for _, id in ipairs(read_lines(args[1])) do
      table.insert(paths, "/ngsi-ld/v1/entities/" .. id .. query)
   end
   headers["Accept"] = "application/json"
   if args[3] and args[3] ~= "-" then
      headers["Link"] = args[3]
   end
   math.randomseed(os.time() * 1000 + tid)
end

function request()
   return wrk.format("GET", paths[math.random(#paths)], headers)
end
