-- redisquota's one script: Limiter.Reserve for one key, atomically. script.go runs it with EVALSHA, falling
-- back to EVAL on NOSCRIPT.
--
-- It is ratekit's sharedPace.reserve (limiter.go) in Lua, operation for operation: apply what the caller
-- learned (the later pause wins; a pace replaces the pace), then decide: until the pause ends, wait for it;
-- with no pace, pass; else GCRA: next = max(TAT, now) + cost * interval, allowed iff next - burst <= now (then
-- TAT = next), otherwise wait next - burst - now.
--
-- Arithmetic: times are whole ns, as in Go, but Lua numbers are float64, exact only below 2^53 (104 days in
-- ns), while a Unix time in ns is about 2^60. So every instant and every duration is a pair of integers,
-- seconds and ns (0 to 999999999), as time.Time's Unix() and Nanosecond(), and each operation normalizes
-- its result. The pace's interval and burst span come from Go (ratekit.Pace.Spans), whole ns, at most 2^53.
-- So every wait is exactly LocalLimiter's, for costs up to 9 million (cost times the ns of an interval stays
-- below 2^53) and waits up to 292 years (where Go's Duration ends).
--
-- KEYS[1]  the key's state, a hash: ts, tn (TAT), iv (interval, ns), sp (burst span, ns), ps, pn (pause end)
-- KEYS[2]  the key's members, a sorted set of instance IDs scored by the Unix ms they were last seen
-- ARGV[1], ARGV[2]  now: Unix seconds, and ns (0 to 999999999)
-- ARGV[3]  cost
-- ARGV[4], ARGV[5]  the learned pace's interval and burst span in ns; interval 0: no pace learned
-- ARGV[6], ARGV[7]  the learned pause's end: Unix seconds and ns; ARGV[6] "": no pause learned
-- ARGV[8]  this instance's ID
-- ARGV[9]  the peer window in ms: members seen within it count as peers
-- ARGV[10] the expiry margin in ms
--
-- Reply: {wait: seconds, wait: ns, 1 if the wait is a pause else 0, peers, interval, burst span, debt:
-- seconds, debt: ns} (interval 0: no pace learned; the debt is max(TAT - now, 0), after the decision).
-- Both keys share the caller's hash tag, so the script works on Redis Cluster.

local state, members = KEYS[1], KEYS[2]
local nowSec, nowNs = tonumber(ARGV[1]), tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local learnedInterval, learnedBurst = tonumber(ARGV[4]), tonumber(ARGV[5])
local member, window, margin = ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10])
local NS = 1000000000

-- num and fdiv come from internal/luaexact, prepended to this script.

-- norm returns the pair (s, n) with n in [0, NS): s seconds plus n ns.
local function norm(sec, ns)
  local q = fdiv(ns, NS)
  return sec + q, ns - q * NS
end

local function add(as, an, bs, bn)
  return norm(as + bs, an + bn)
end

local function sub(as, an, bs, bn)
  return norm(as - bs, an - bn)
end

-- positive reports whether the normalized pair (s, n) is more than 0.
local function positive(sec, ns)
  return sec > 0 or (sec == 0 and ns > 0)
end

-- ms returns the normalized duration (s, n) in whole ms, rounded up.
local function ms(sec, ns)
  return sec * 1000 + (-fdiv(-ns, 1000000))
end

-- The heartbeat: this instance is a member now; members not seen within the window are gone. The set is
-- written at most once per quarter of the window per instance (an instance seen less than window/4 ago is
-- still a member for at least 3/4 of the window, and so is the set, whose TTL is the window): most calls
-- only read it. The peers are counted by score, so members past the window do not count before the next
-- write removes them.
local nowMs = nowSec * 1000 + fdiv(nowNs, 1000000)
local seen = tonumber(redis.call('ZSCORE', members, member))
if seen == nil or nowMs < seen or nowMs - seen >= window / 4 then
  redis.call('ZADD', members, num(nowMs), member)
  redis.call('ZREMRANGEBYSCORE', members, '-inf', num(nowMs - window))
  redis.call('PEXPIRE', members, num(window))
end
local peers = redis.call('ZCOUNT', members, '(' .. num(nowMs - window), '+inf')

local f = redis.call('HMGET', state, 'ts', 'tn', 'iv', 'sp', 'ps', 'pn')
local ts, tn, iv, sp, ps, pn = tonumber(f[1]), tonumber(f[2]), tonumber(f[3]), tonumber(f[4]), tonumber(f[5]), tonumber(f[6])
local dirty = false

-- Apply what the caller learned.
if ARGV[6] ~= '' then
  local lps, lpn = tonumber(ARGV[6]), tonumber(ARGV[7])
  if ps == nil or lps > ps or (lps == ps and lpn > pn) then
    ps, pn, dirty = lps, lpn, true
  end
end
if learnedInterval > 0 then
  iv, sp, dirty = learnedInterval, learnedBurst, true
end

-- Decide.
local ws, wn, paused = 0, 0, 0
local pauseLeftS, pauseLeftN = 0, 0
if ps ~= nil then
  pauseLeftS, pauseLeftN = sub(ps, pn, nowSec, nowNs)
end
if positive(pauseLeftS, pauseLeftN) then
  ws, wn, paused = pauseLeftS, pauseLeftN, 1
elseif iv ~= nil and iv > 0 then
  -- next = max(TAT, now) + cost * interval; allowAt = next - burst
  local bs, bn = nowSec, nowNs
  if ts ~= nil and positive(sub(ts, tn, nowSec, nowNs)) then
    bs, bn = ts, tn
  end
  local ivs, ivn = norm(0, iv)
  local ns, nn = add(bs, bn, norm(cost * ivs, cost * ivn))
  local as, an = sub(ns, nn, norm(0, sp))
  local waitS, waitN = sub(as, an, nowSec, nowNs)
  if positive(waitS, waitN) then
    ws, wn = waitS, waitN
  else
    ts, tn, dirty = ns, nn, true
  end
end

-- Write what changed; the key lives until its pause and its debt are over, plus the margin.
if dirty then
  local horizon = 0 -- ms
  local fields = {}
  if ts ~= nil then
    horizon = math.max(horizon, ms(sub(ts, tn, nowSec, nowNs)))
    table.insert(fields, 'ts'); table.insert(fields, num(ts))
    table.insert(fields, 'tn'); table.insert(fields, num(tn))
  end
  if iv ~= nil then
    table.insert(fields, 'iv'); table.insert(fields, num(iv))
    table.insert(fields, 'sp'); table.insert(fields, num(sp))
  end
  if ps ~= nil then
    horizon = math.max(horizon, ms(pauseLeftS, pauseLeftN))
    table.insert(fields, 'ps'); table.insert(fields, num(ps))
    table.insert(fields, 'pn'); table.insert(fields, num(pn))
  end
  redis.call('HSET', state, unpack(fields))
  -- A TTL beyond about 300 years (only nonsense costs make one) would overflow Redis's expiry instant.
  redis.call('PEXPIRE', state, num(math.min(horizon + margin, 1e13)))
end

local ds, dn = 0, 0
if ts ~= nil and positive(sub(ts, tn, nowSec, nowNs)) then
  ds, dn = sub(ts, tn, nowSec, nowNs)
end
-- Go's Duration ends at about 292 years (9.2e9 s); the Go side saturates there, as time.Time.Sub does.
return {math.min(ws, 1e10), wn, paused, peers, iv or 0, sp or 0, math.min(ds, 1e10), dn}
