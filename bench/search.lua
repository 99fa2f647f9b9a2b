-- search.lua — wrk script: keyword search over keep-alive, cycling through
-- a list of keywords (percent-encoded UTF-8, so Chinese works too).
--
--   CC_AUTH=$(printf '%s:%s' KEY_ID SECRET | base64 -w0) \
--   CC_KEYWORDS="a,wei,liu yang,王,王伟,华为技术有限公司" \
--     wrk -t1 -c1 -d5s --latency -s bench/search.lua http://127.0.0.1:PORT/
--
-- bench/run.sh measures search latency with bench/latency.c instead (exact
-- percentiles, one keyword at a time); this script is for throughput and
-- for trying keyword mixes by hand.
local auth = os.getenv("CC_AUTH")
if not auth or auth == "" then
   error("search.lua: set CC_AUTH to base64(key_id:secret)")
end
local list = os.getenv("CC_KEYWORDS") or "a"
local page_size = os.getenv("CC_PAGE_SIZE") or "20"

local function encode(s)
   return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local paths = {}
for kw in string.gmatch(list, "[^,]+") do
   paths[#paths + 1] = "/v1/contacts?keyword=" .. encode(kw) .. "&page=1&page_size=" .. page_size
end

local headers = { ["Authorization"] = "Basic " .. auth }
local i = 0

function request()
   i = i % #paths + 1
   return wrk.format("GET", paths[i], headers)
end
