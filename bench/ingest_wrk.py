"""The wrk Lua script of the ingest benchmark: a realistic tracker mix for several sites.

Each wrk thread sends ~60% loads, ~35% unloads (of its own recent page views) and ~5% custom events,
with real browser user agents, paths, referrers, time zones and languages. For the last `drain` ms
it sends loads for an unregistered site instead (404, nothing stored), so every real hit has been
answered before wrk stops: then "all real requests got 204" proves acknowledged loads == loads sent,
and the benchmark can compare that number with the rows found in DuckDB.
"""

from __future__ import annotations

import json

__all__ = [
    "LANGUAGES",
    "LUA_PRELUDE",
    "PATHS",
    "REFERRERS",
    "SITES",
    "USER_AGENTS",
    "lua_list",
    "lua_script",
    "paced",
    "read_result",
]

SITES = ("example.com", "blog.example.org", "shop.example.net", "docs.example.io", "news.example.co.uk")

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 "
    "Edg/124.0.2478.80",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 "
    "Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 "
    "Chrome/117.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 "
    "OPR/110.0.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
    "[FBAN/FBIOS;FBAV/460.0.0.48.109;FBBV/590000000;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.4]",
    "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/460.0.0.48.109;]",
)
PATHS = (
    "/", "/", "/", "/blog", "/blog/", "/blog/hello-world", "/blog/why-privacy/", "/pricing", "/about", "/contact",
    "/docs/getting-started", "/docs/api/events", "/products/42?ref=home", "/search?q=analytics",
    "/?utm_source=newsletter&utm_medium=email&utm_campaign=spring", "/landing?utm_source=twitter&utm_medium=social",
    "/#/dashboard", "/caf%C3%A9", "/a/b/c/d/e/f", "/blog/2024/05/03/long-post-title-with-words",
)  # fmt: skip
REFERRERS = (
    "", "", "", "", "https://www.google.com/", "https://www.google.co.uk/", "https://duckduckgo.com/",
    "https://www.bing.com/search?q=x", "https://t.co/abc", "https://news.ycombinator.com/item?id=1",
    "https://github.com/medama-io", "https://www.reddit.com/r/selfhosted/", "https://some-blog.example/post",
)  # fmt: skip
TIMEZONES = (
    "Europe/London", "America/New_York", "America/Los_Angeles", "Europe/Berlin", "Europe/Paris", "Asia/Tokyo",
    "Asia/Kolkata", "Australia/Sydney", "America/Sao_Paulo", "Europe/Istanbul", "Asia/Shanghai", "Africa/Lagos",
    "America/Toronto", "Europe/Madrid", "Asia/Singapore",
)  # fmt: skip
LANGUAGES = (
    "en-US,en;q=0.9", "en-GB,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.9", "es-ES,es;q=0.9",
    "pt-BR,pt;q=0.9", "ja,en;q=0.8", "zh-CN,zh;q=0.9", "en-IN,en;q=0.9", "nl-BE,nl;q=0.9", "",
)  # fmt: skip

# Shared by both wrk scripts (this one and ingest_umami_wrk.py): a millisecond clock, the run's data and
# timing, per-thread ids, and `report`, which done() calls to print the one `RESULT {json}` line that
# `read_result` parses.
LUA_PRELUDE = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } medama_timeval;
int gettimeofday(medama_timeval *tv, void *tz);
]]
local tv = ffi.new("medama_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + math.floor(tonumber(tv.tv_usec) / 1000)
end

local DATA = __DATA__
local RUN_MS, DRAIN_MS = __RUN_MS__, __DRAIN_MS__

local threads = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

-- Prints `RESULT {json}`: each counter summed over the threads (`counters` lists {key, thread variable}
-- pairs, in output order), the real phase from the first thread's start to the last switch to draining,
-- latency and socket errors. wrk builds one request on the first thread to check the script and never
-- sends it: `unsent` names the counter that request always adds to (nil when it varies).
local function report(counters, summary, latency, unsent)
  local totals, started, switched = {}, nil, 0
  for _, t in ipairs(threads) do
    for _, c in ipairs(counters) do totals[c[1]] = (totals[c[1]] or 0) + t:get(c[2]) end
    local s, w = t:get("started"), t:get("switched")
    if started == nil or s < started then started = s end
    if w > switched then switched = w end
  end
  if unsent then totals[unsent] = totals[unsent] - 1 end
  local fields = {}
  for _, c in ipairs(counters) do table.insert(fields, string.format('"%s":%d', c[1], totals[c[1]])) end
  local e = summary.errors
  table.insert(fields, string.format(
    '"real_ms":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"requests":%d,"errors":%d', switched - started,
    latency:percentile(50), latency:percentile(99), latency.max, summary.requests,
    e.connect + e.read + e.write + e.timeout))
  io.write("RESULT {" .. table.concat(fields, ",") .. "}\n")
end
"""

_LUA = (
    LUA_PRELUDE
    + r"""
local B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
local function base36(n)
  local s = ""
  repeat
    local d = n % 36
    s = B36:sub(d + 1, d + 1) .. s
    n = math.floor(n / 36)
  until n == 0
  return s
end

local function pick(list) return list[math.random(#list)] end

function init(args)
  math.randomseed(id * 7919)
  started = now_ms()
  stop_at = started + RUN_MS - DRAIN_MS
  switched = 0
  recent, recent_at, recent_n = {}, {}, 0
  sent_load, sent_unload, sent_custom, drain_sent = 0, 0, 0, 0
  ok, not_found, other = 0, 0, 0
  seq = 0
end

local function headers()
  local h = {["Content-Type"] = "text/plain;charset=UTF-8", ["User-Agent"] = pick(DATA.uas)}
  local lang = pick(DATA.langs)
  if lang ~= "" then h["Accept-Language"] = lang end
  return h
end

local function load_body(site)
  seq = seq + 1
  -- Like the tracker: base36 time, then randomness (here the thread and sequence, to stay unique).
  local bid = base36(now_ms()) .. "t" .. id .. "s" .. seq
  recent_n = recent_n + 1
  recent[((recent_n - 1) % 512) + 1] = bid
  recent_at[((recent_n - 1) % 512) + 1] = now_ms()
  local props = ""
  if seq % 10 == 0 then props = ',"d":{"plan":"pro","variant":"b"}' end
  return '{"b":"' .. bid .. '","e":"load","u":"https://' .. site .. pick(DATA.paths) .. '","r":"' ..
    pick(DATA.refs) .. '","p":' .. (math.random() < 0.4 and "true" or "false") .. ',"q":' ..
    (math.random() < 0.6 and "true" or "false") .. ',"t":"' .. pick(DATA.tzs) .. '"' .. props .. '}'
end

function request()
  local t = now_ms()
  if t >= stop_at then
    if switched == 0 then switched = t end
    drain_sent = drain_sent + 1
    return wrk.format("POST", "/api/event/hit", headers(), load_body("unregistered.invalid"))
  end
  local roll = math.random(100)
  local body
  if roll <= 35 and recent_n > 0 then
    sent_unload = sent_unload + 1
    local i = math.random(math.min(recent_n, 512))
    -- As a tracker reports it: the time since its page view was loaded (sent here moments ago).
    local m = math.max(1, now_ms() - recent_at[i])
    body = '{"b":"' .. recent[i] .. '","e":"unload","m":' .. m .. '}'
  elseif roll <= 40 and recent_n > 0 then
    sent_custom = sent_custom + 1
    local bid = recent[math.random(math.min(recent_n, 512))]
    body = '{"b":"' .. bid .. '","e":"custom","g":"' .. pick(DATA.sites) .. '","d":{"click":"signup","n":1}}'
  else
    sent_load = sent_load + 1
    body = load_body(pick(DATA.sites))
  end
  return wrk.format("POST", "/api/event/hit", headers(), body)
end

function response(status, headers, body)
  if status == 204 then ok = ok + 1
  elseif status == 404 then not_found = not_found + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  report({{"load", "sent_load"}, {"unload", "sent_unload"}, {"custom", "sent_custom"}, {"drain", "drain_sent"},
          {"ok", "ok"}, {"not_found", "not_found"}, {"other", "other"}}, summary, latency, "load")
end
"""
)


def read_result(wrk_stdout: str) -> dict[str, int]:
    """The figures of the `RESULT {json}` line the scripts' done() prints (LUA_PRELUDE's `report`)."""
    line = next(line for line in wrk_stdout.splitlines() if line.startswith("RESULT "))
    result: dict[str, int] = json.loads(line.removeprefix("RESULT "))
    return result


def lua_list(values: tuple[str, ...]) -> str:
    # JSON string literals are valid Lua string literals for this data (no control characters).
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


# wrk calls delay() before each request of a connection. This paces each wrk thread to its share of the rate from
# one schedule for all its connections: requests leave evenly spaced, as independent browsers' beacons would, and a
# slow answer is followed by a catch-up rather than lost send time (bounded to 100 ms of debt, so a long stall does
# not turn into a burst). A pause after each answer instead would line the connections up: a group commit answers
# many at once, so they would all come back together and the load would arrive in bursts.
_SCHEDULE = r"""
local interval_ms = __INTERVAL_MS__
local next_at = nil
function delay()
  local t = now_ms()
  if next_at == nil or next_at < t - 100 then next_at = t end
  next_at = next_at + interval_ms
  local wait = next_at - t
  if wait < 0 then return 0 end
  return wait
end
"""


def paced(script: str, rate: int, threads: int) -> str:
    """`script` sending `rate` requests per second in all, spread evenly over time; 0: wrk's closed loop."""
    if rate <= 0:
        return script
    return script + _SCHEDULE.replace("__INTERVAL_MS__", f"{1000 * threads / rate:.6f}")


def lua_script(run_ms: int, drain_ms: int) -> str:
    """Return the wrk script for a run of `run_ms` whose last `drain_ms` send only 404s."""
    data = (
        f"{{sites = {lua_list(SITES)}, uas = {lua_list(USER_AGENTS)}, paths = {lua_list(PATHS)}, "
        f"refs = {lua_list(REFERRERS)}, tzs = {lua_list(TIMEZONES)}, langs = {lua_list(LANGUAGES)}}}"
    )
    return _LUA.replace("__DATA__", data).replace("__RUN_MS__", str(run_ms)).replace("__DRAIN_MS__", str(drain_ms))
