-- get.lua — wrk script: GET one contact with HTTP Basic auth over keep-alive.
--
--   CC_AUTH=$(printf '%s:%s' KEY_ID SECRET | base64 -w0) \
--     wrk -t2 -c64 -d8s -s bench/get.lua http://127.0.0.1:PORT/v1/contacts/1
--
-- The path comes from the URL; every request is the same, so wrk builds it
-- once per thread.
local auth = os.getenv("CC_AUTH")
if not auth or auth == "" then
   error("get.lua: set CC_AUTH to base64(key_id:secret)")
end
wrk.headers["Authorization"] = "Basic " .. auth
