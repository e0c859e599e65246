"""The wrk Lua script for /umami/api/send in the ingest benchmark: Umami's tracker, several sites.

Each wrk thread sends ~75% page views and ~25% custom events (a third of them with event data), with
real browser user agents, paths, referrers and languages. Like a page's tracker, a hit carries the
visit token (`x-umami-cache`) of an earlier answer about half the time. For the last `drain` ms it
names an unknown website instead (400, nothing stored), so every real hit has been answered before
wrk stops; the benchmark then compares the acknowledged hits (answers with a token) with the rows
in DuckDB.
"""

from __future__ import annotations

import json

from ingest_wrk import LANGUAGES, LUA_PRELUDE, PATHS, REFERRERS, USER_AGENTS, lua_list

__all__ = ["umami_lua_script"]

_UNKNOWN_WEBSITE = "00000000-0000-4000-8000-000000000000"

_LUA = (
    LUA_PRELUDE
    + r"""
local function pick(list) return list[math.random(#list)] end

function init(args)
  math.randomseed(id * 104729)
  started = now_ms()
  stop_at = started + RUN_MS - DRAIN_MS
  switched = 0
  tokens, tokens_n = {}, 0
  sent_view, sent_event, drain_sent = 0, 0, 0
  ok, other = 0, 0
end

local function headers()
  local h = {["Content-Type"] = "application/json", ["User-Agent"] = pick(DATA.uas)}
  local lang = pick(DATA.langs)
  if lang ~= "" then h["Accept-Language"] = lang end
  if tokens_n > 0 and math.random() < 0.5 then h["x-umami-cache"] = tokens[math.random(math.min(tokens_n, 256))] end
  return h
end

local function body(website, host, name)
  local extra = ""
  if name then
    extra = ',"name":"' .. name .. '"'
    if math.random() < 0.33 then extra = extra .. ',"data":{"plan":"pro","seats":3,"trial":true}' end
  end
  return '{"type":"event","payload":{"website":"' .. website .. '","hostname":"' .. host .. '","url":"' ..
    pick(DATA.paths) .. '","referrer":"' .. pick(DATA.refs) .. '","title":"Page","screen":"1920x1080",' ..
    '"language":"en-US"' .. extra .. '}}'
end

function request()
  local t = now_ms()
  if t >= stop_at then
    if switched == 0 then switched = t end
    drain_sent = drain_sent + 1
    return wrk.format("POST", "/umami/api/send", headers(), body(DATA.unknown, "unregistered.invalid", nil))
  end
  local site = math.random(#DATA.sites)
  local name = nil
  if math.random(100) <= 25 then
    sent_event = sent_event + 1
    name = "signup"
  else
    sent_view = sent_view + 1
  end
  return wrk.format("POST", "/umami/api/send", headers(), body(DATA.websites[site], DATA.sites[site], name))
end

function response(status, headers, body)
  if status == 200 then
    local token = body:match('"cache":"([^"]+)"')
    if token then
      ok = ok + 1
      tokens_n = tokens_n + 1
      tokens[((tokens_n - 1) % 256) + 1] = token
    else
      other = other + 1
    end
  elseif status ~= 400 then
    other = other + 1
  end
end

function done(summary, latency, requests)
  -- wrk's unsent check request may have counted as a view or an event, so those two may be one high; the
  -- exactness check compares answered tokens with stored rows instead.
  report({{"view", "sent_view"}, {"event", "sent_event"}, {"drain", "drain_sent"}, {"ok", "ok"}, {"other", "other"}},
         summary, latency, nil)
end
"""
)


def umami_lua_script(run_ms: int, drain_ms: int, sites: dict[str, str]) -> str:
    """The wrk script for `run_ms` against `sites` (hostname → website UUID); the last `drain_ms` only 400s."""
    data = (
        f"{{sites = {lua_list(tuple(sites))}, websites = {lua_list(tuple(sites.values()))}, "
        f"uas = {lua_list(USER_AGENTS)}, paths = {lua_list(PATHS)}, refs = {lua_list(REFERRERS)}, "
        f"langs = {lua_list(LANGUAGES)}, unknown = {json.dumps(_UNKNOWN_WEBSITE)}}}"
    )
    return _LUA.replace("__DATA__", data).replace("__RUN_MS__", str(run_ms)).replace("__DRAIN_MS__", str(drain_ms))
