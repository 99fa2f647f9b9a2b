-- get_random.lua — wrk script: GET a contact chosen at random among ids 1
-- to CC_GET_IDS (default 1000) with HTTP Basic auth over keep-alive. Unlike
-- get.lua (one contact again and again), few requests find the view their
-- server thread kept last for the contact, so this measures the reads and
-- the rendering of a contact's detail.
--
--   CC_AUTH=$(printf '%s:%s' KEY_ID SECRET | base64 -w0) \
--     wrk -t2 -c64 -d8s -s bench/get_random.lua http://127.0.0.1:PORT/
local auth = os.getenv("CC_AUTH")
if not auth or auth == "" then
   error("get_random.lua: set CC_AUTH to base64(key_id:secret)")
end
local ids = tonumber(os.getenv("CC_GET_IDS") or "") or 1000
wrk.headers["Authorization"] = "Basic " .. auth

local seeded = false

request = function()
   if not seeded then
      math.randomseed(os.time() + math.floor(os.clock() * 1e6))
      seeded = true
   end
   return wrk.format(nil, "/v1/contacts/" .. math.random(1, ids))
end
