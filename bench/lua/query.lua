-- B5-B7 queries: GET a random line of a pre-generated file of request paths (each line its own random
-- type, threshold, name, dataset id, point or square, already URL-encoded).
-- args: <paths file> [link header or "-"]
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local paths = {}
local headers = {}

function init(args)
   paths = read_lines(args[1])
   headers["Accept"] = "application/json"
   if args[2] and args[2] ~= "-" then
      headers["Link"] = args[2]
   end
   math.randomseed(os.time() * 1000 + tid)
end

function request()
   return wrk.format("GET", paths[math.random(#paths)], headers)
end
