-- post.lua — wrk script: POST /v1/contacts with a distinct body per request.
--
--   CC_AUTH=$(printf '%s:%s' KEY_ID SECRET | base64 -w0) \
--     wrk -t2 -c64 -d8s -s bench/post.lua http://127.0.0.1:PORT/v1/contacts
--
-- Every body has its own mobile and email, so no request is refused as a
-- duplicate: the last 8 digits of the mobile are (base + thread * 10^7 +
-- counter) mod 10^8, where base is random per run and each thread counts
-- its own requests, so two threads' ranges cannot meet while a thread makes
-- fewer than 10^7 requests (10 threads at most). The email is made from the
-- same digits. Mobiles start with 199, which bench/seed.c never uses, so
-- this can also run against a seeded account.
--
-- Several wrk processes at once against one database (bench/run.sh's
-- instances figure) give each its own CC_POST_TID0, the id of its first
-- thread (default 0), and the same CC_POST_BASE (default: random per run),
-- so that their threads' ranges stay apart as well.
local auth = os.getenv("CC_AUTH")
if not auth or auth == "" then
   error("post.lua: set CC_AUTH to base64(key_id:secret)")
end

-- setup() runs in the main Lua state, once per wrk thread, before any
-- request; thread:set() makes tid and base globals of that thread's state.
local threads = tonumber(os.getenv("CC_POST_TID0") or "") or 0
local run_base = tonumber(os.getenv("CC_POST_BASE") or "")

function setup(thread)
   if run_base == nil then
      math.randomseed(os.time() + math.floor(os.clock() * 1e6))
      run_base = math.random(0, 99999999)
   end
   if threads >= 10 then
      error("post.lua: at most 10 threads keep mobiles distinct")
   end
   thread:set("tid", threads)
   thread:set("base", run_base)
   threads = threads + 1
end

local counter = 0
local headers = {
   ["Authorization"] = "Basic " .. auth,
   ["Content-Type"] = "application/json",
}

function request()
   local digits = (base + tid * 10000000 + counter) % 100000000
   counter = counter + 1
   local body = string.format(
      '{"name":"Bench User %d-%d","mobile":"199%08d","email":"bench%08d@example.com"}',
      tid, counter, digits, digits)
   return wrk.format("POST", nil, headers, body)
end
