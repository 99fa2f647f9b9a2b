-- soak.lua — wrk script of bench/soak.sh: a steady mix of reads, writes,
-- searches and events, at about CC_SOAK_RATE requests/s in all.
--
--   CC_AUTH=base64(admin id:secret) CC_RAUTH=base64(readonly id:secret) \
--   CC_SOAK_RATE=100 CC_SOAK_CONNS=10 CC_SOAK_CONTACTS=10000 \
--   CC_SOAK_ROBOTS="12,13,14" \
--     wrk -t1 -c10 -d60s --latency -s bench/soak.lua http://127.0.0.1:PORT
--
-- Every connection waits CC_SOAK_CONNS * 1000 / CC_SOAK_RATE ms (wrk's
-- delay()) before each request, so the rate stays near CC_SOAK_RATE while
-- answers are much faster than that wait, whatever the server does; wrk's
-- latency is from the request's write to its answer and leaves the wait out.
-- Of every 20 requests: 10 GET /v1/contacts/{id} of a random seeded contact
-- (readonly key: no audit write), 4 keyword searches (readonly), 4 POST
-- /v1/contacts (admin, distinct mobiles and emails: mobiles start with 198,
-- which neither bench/seed.c nor post.lua uses) and 2 POST /v1/events naming
-- one of the CC_SOAK_ROBOTS contacts in turn (each has one robot, at the
-- local receiver of soak.sh).
local function env(name)
   local v = os.getenv(name)
   if not v or v == "" then
      error("soak.lua: set " .. name)
   end
   return v
end

local admin = { ["Authorization"] = "Basic " .. env("CC_AUTH"),
                ["Content-Type"] = "application/json" }
local reader = { ["Authorization"] = "Basic " .. env("CC_RAUTH") }
local rate = tonumber(env("CC_SOAK_RATE"))
local conns = tonumber(env("CC_SOAK_CONNS"))
local ncontacts = tonumber(env("CC_SOAK_CONTACTS"))
local robots = {}
for id in string.gmatch(env("CC_SOAK_ROBOTS"), "%d+") do
   robots[#robots + 1] = id
end
local wait_ms = math.floor(conns * 1000 / rate)
local keywords = { "wei", "li", "%E7%8E%8B%E4%BC%9F", "liu%20yang", "zhang" }
local plan = { "g", "s", "g", "p", "g", "s", "g", "e", "g", "p",
               "g", "s", "g", "p", "g", "s", "g", "e", "g", "p" }

-- one wrk thread (soak.sh runs -t1): the counters are this thread's
math.randomseed(os.time() + math.floor(os.clock() * 1e6))
local base = math.random(0, 99999999)
local n = 0

function delay()
   return wait_ms
end

function request()
   n = n + 1
   local kind = plan[(n - 1) % #plan + 1]
   if kind == "g" then
      return wrk.format("GET", "/v1/contacts/" .. math.random(1, ncontacts), reader)
   elseif kind == "s" then
      local kw = keywords[(n - 1) % #keywords + 1]
      return wrk.format("GET", "/v1/contacts?page=1&page_size=20&keyword=" .. kw, reader)
   elseif kind == "p" then
      local digits = (base + n) % 100000000
      local body = string.format(
         '{"name":"Soak User %d","mobile":"198%08d","email":"soak%08d@example.com"}',
         n, digits, digits)
      return wrk.format("POST", "/v1/contacts", admin, body)
   end
   local id = robots[(n - 1) % #robots + 1]
   local body = string.format(
      '{"type":"certificate.expiring","contact_ids":[%s],"data":{"domains":' ..
      '["soak%d.example.com"],"days_left":30,"not_after":"2027-01-01T00:00:00Z"}}', id, n)
   return wrk.format("POST", "/v1/events", admin, body)
end
