-- The algorithms of the Redis store's script (joined after store_redis.lua, whose arithmetic they use).
--
-- Each algorithm has load(key, r), which reads the state (nil for a key never seen), decide(r, st, cost),
-- which returns the verdict and the state to store without writing anything (cost 0 asks for a view), and
-- commit(key, r, st, next, v, cost). A verdict has allowed, remaining, reset (absolute µs), retry (µs from
-- now), retryNs, delay (µs).

-- fixed-window: a hash {s = window start, n = count}; HINCRBY within a window.
local fixed = {}
function fixed.load(key)
  local s = redis.call('HMGET', key, 's', 'n')
  if s[1] then return {s = tonumber(s[1]), n = tonumber(s[2])} end
end
function fixed.decide(r, st, cost)
  local start, count = now, 0
  if r.first then
    -- a window [s, s + W] starts at the key's first request after the previous one ended
    if st and now - r.W <= st.s then start, count = st.s, st.n end
  else
    start = fdiv(now - r.O, r.W) * r.W + r.O
    if st then
      if st.s > start then start = st.s end -- a late request counts in the newest window
      if st.s == start then count = st.n end
    end
  end
  local v = {reset = start + r.W}
  if r.first then v.idle = start + r.W + 1 end
  if cost <= r.L - count then
    count = count + cost
    v.allowed = true
  elseif cost <= r.L then
    v.retry = start + r.W - now
    if r.first then v.retryNs = 1 end -- the window includes its last instant: 1 ns after it
  end
  if not v.allowed and r.count and cost > 0 then count = count + cost end
  v.remaining = clamp(r.L - count, r.L)
  return v, {s = start, n = count}
end
function fixed.commit(key, r, st, nx, v, cost)
  if st and st.s == nx.s then
    redis.call('HINCRBY', key, 'n', num(cost))
  else
    redis.call('HSET', key, 's', num(nx.s), 'n', num(nx.n))
  end
  redis.call('PEXPIRE', key, num(ttl(v.idle or v.reset)))
end

-- sliding-window-counter: a hash {s = window start, p = previous count, c = current count}.
local counter = {}
function counter.load(key)
  local s = redis.call('HMGET', key, 's', 'p', 'c')
  if s[1] then return {s = tonumber(s[1]), p = tonumber(s[2]), c = tonumber(s[3])} end
end
-- estimate is Cloudflare's formula with durations in ns, the operations in the Go core's order.
local function estimate(prev, cur, el, wns)
  return prev * (wns - el) / wns + cur
end
-- round is math.Round for e >= 0: half away from zero (e - floor(e) is exact).
local function round(e)
  local f = math.floor(e)
  if e - f >= 0.5 then return f + 1 end
  return f
end
local function admits(r, prev, cur, el, cost)
  local e = estimate(prev, cur, el, r.W * 1000)
  if r.round then e = round(e) end
  return e + cost <= r.L
end
-- firstAdmission returns, as (µs, extra ns) from now, the first ns at which the estimate admits cost: in the
-- window that starts at start (from el ns on), else in the next one, else when the one after starts.
local function firstAdmission(r, prev, cur, start, el, cost)
  local wns = r.W * 1000
  local windows = {{prev, cur, el}, {cur, 0, 0}}
  for i = 1, 2 do
    local p, c, from = windows[i][1], windows[i][2], windows[i][3]
    if admits(r, p, c, wns - 1, cost) then
      local lo, hi = 0, wns - from -- the smallest k with admits(from + k): the estimate only falls
      while lo < hi do
        local mid = math.floor((lo + hi) / 2)
        if admits(r, p, c, from + mid, cost) then hi = mid else lo = mid + 1 end
      end
      local at = from + lo
      return start + (i - 1) * r.W - now + fdiv(at, 1000), at % 1000
    end
  end
  return start + 2 * r.W - now, 0
end
function counter.decide(r, st, cost)
  local t, tsub = now, sub -- t = max(now, stored start), with its ns beyond the µs
  if st and st.s > now then t, tsub = st.s, 0 end
  local start = fdiv(t - r.O, r.W) * r.W + r.O
  local prev, cur = 0, 0
  if st then
    if st.s == start then
      prev, cur = st.p, st.c
    elseif st.s == start - r.W then
      prev = st.c
    end
  end
  local el = (t - start) * 1000 + tsub
  local v = {}
  if cost <= r.L and admits(r, prev, cur, el, cost) then
    cur = cur + cost
    v.allowed = true
  else
    if r.count then cur = cur + cost end
    if cost <= r.L then v.retry, v.retryNs = firstAdmission(r, prev, cur, start, el, cost) end
  end
  local e = estimate(prev, cur, el, r.W * 1000)
  if r.round then e = round(e) end
  local left = math.floor(r.L - e)
  if left < -1 then left = -1 end
  v.remaining = clamp(left, r.L)
  if cur > 0 then
    v.reset = start + 2 * r.W
  elseif prev > 0 then
    v.reset = start + r.W
  else
    v.reset = t
  end
  return v, {s = start, p = prev, c = cur}
end
function counter.commit(key, r, st, nx, v, cost)
  if st and st.s == nx.s then
    redis.call('HINCRBY', key, 'c', num(cost))
  else
    redis.call('HSET', key, 's', num(nx.s), 'p', num(nx.p), 'c', num(nx.c))
  end
  redis.call('PEXPIRE', key, num(ttl(v.reset)))
end

-- sliding-window-log: a sorted set of "<µs>:<cost>" scored by the µs; requests at the same µs share a member.
local slog = {}
local LOG_MAX_ENTRIES = 1000
local function entryCost(member)
  return tonumber(string.match(member, ':(%d+)$'))
end
function slog.load(key, r)
  local st = {t = now}
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if newest[1] then
    st.newest, st.newestAt = newest[1], tonumber(newest[2])
    if st.newestAt > now then st.t = st.newestAt end -- time never runs backwards for a key
  end
  st.live = redis.call('ZRANGEBYSCORE', key, '(' .. num(st.t - r.W), '+inf', 'WITHSCORES')
  st.sum = 0
  for i = 1, #st.live, 2 do st.sum = st.sum + entryCost(st.live[i]) end
  return st
end
function slog.decide(r, st, cost)
  local sum = st.sum
  local v = {}
  if cost <= r.L - sum then
    sum = sum + cost
    v.allowed = true
  elseif cost <= r.L then
    local need = sum + cost - r.L -- units that must expire first
    for i = 1, #st.live, 2 do
      need = need - entryCost(st.live[i])
      if need <= 0 then
        v.retry = tonumber(st.live[i + 1]) + r.W - now
        break
      end
    end
  end
  v.remaining = clamp(r.L - sum, r.L)
  if v.allowed and cost > 0 then
    v.reset = st.t + r.W
  elseif #st.live > 0 then
    v.reset = tonumber(st.live[#st.live]) + r.W
  else
    v.reset = st.t
  end
  return v, nil
end
function slog.commit(key, r, st, nx, v, cost)
  local t = st.t
  redis.call('ZREMRANGEBYSCORE', key, '-inf', num(t - r.W))
  -- The same instant, or the log is full (LOG_MAX_ENTRIES, as the memory store's slidingLogMaxEntries): the
  -- newest member takes the request and moves to t, so that its requests expire later, never earlier.
  if st.newest and (st.newestAt == t or #st.live / 2 >= LOG_MAX_ENTRIES) then
    redis.call('ZREM', key, st.newest)
    cost = cost + entryCost(st.newest)
  end
  redis.call('ZADD', key, num(t), num(t) .. ':' .. num(cost))
  redis.call('PEXPIRE', key, num(ttl(v.reset)))
end

-- token-bucket and leaky-bucket: a hash {a = tokens (or level) * W_us, t = last refill}.
local function bucketLoad(key)
  local s = redis.call('HMGET', key, 'a', 't')
  if s[1] then return {a = tonumber(s[1]), t = tonumber(s[2])} end
end
local function bucketCommit(key, r, st, nx, v, cost)
  redis.call('HSET', key, 'a', num(nx.a), 't', num(nx.t))
  redis.call('PEXPIRE', key, num(ttl(v.reset)))
end

local token = {load = bucketLoad, commit = bucketCommit}
function token.decide(r, st, cost)
  local full = r.B * r.W
  local a, last = full, now -- a new key starts full
  if st then a, last = st.a, st.t end
  local t = math.max(now, last)
  if t > last then
    a = a + (t - last) * r.L
    if a > full then a = full end
    last = t
  end
  local v = {}
  if cost <= r.B then
    local need = cost * r.W
    if a >= need then
      a = a - need
      v.allowed = true
    else
      v.retry = t + cdiv(need - a, r.L) - now
    end
  end
  v.remaining = clamp(fdiv(a, r.W), r.B)
  v.reset = t + cdiv(full - a, r.L)
  return v, {a = a, t = last}
end

local leaky = {load = bucketLoad, commit = bucketCommit}
function leaky.decide(r, st, cost)
  local full = r.B * r.W
  local level, last = 0, now -- a new key starts empty
  if st then level, last = st.a, st.t end
  local t = math.max(now, last)
  if t > last then
    local leaked = (t - last) * r.L
    if level < leaked then level = 0 else level = level - leaked end
    last = t
  end
  local v = {}
  if cost <= r.B then
    local next = level + cost * r.W
    if next <= full then
      level = next
      v.allowed = true
    else
      v.retry = t + cdiv(next - full, r.L) - now
    end
  end
  v.remaining = clamp(fdiv(full - level, r.W), r.B)
  v.reset = t + cdiv(level, r.L)
  return v, {a = level, t = last}
end

-- leaky-bucket-queue and gcra: one string "<µs> <f>", the next free slot or the TAT as an exact time.
local function timeLoad(key)
  local s = redis.call('GET', key)
  if s then
    local a, f = string.match(s, '^(-?%d+) (%d+)$')
    return {n = tonumber(a), f = tonumber(f)}
  end
end
local function timeCommit(key, r, st, nx, v, cost)
  redis.call('SET', key, num(nx.n) .. ' ' .. num(nx.f), 'PX', num(ttl(v.reset)))
end

local queue = {load = timeLoad, commit = timeCommit}
-- wait returns max(next, now) - now.
local function queueWait(r, st)
  if st == nil or not after(st.n, st.f) then return 0, 0 end
  return fsub(st.n, st.f, now, 0, r.L)
end
function queue.decide(r, st, cost)
  local bn, bf = emission(r, r.B) -- B * T
  local nx = st
  local v = {}
  if cost <= r.B then
    local wn, wf = queueWait(r, st)
    if not fgreater(wn, wf, bn, bf) then
      local base, basef = now, 0
      if st and st.n >= now then base, basef = st.n, st.f end
      local en, ef = emission(r, cost)
      local nn, nf = fadd(base, basef, en, ef, r.L)
      nx = {n = nn, f = nf}
      v.allowed = true
      v.delay = fceil(wn, wf)
    else
      v.retry = fceil(fsub(wn, wf, bn, bf, r.L))
    end
  end
  v.remaining = 0
  local wn, wf = queueWait(r, nx)
  if not fgreater(wn, wf, bn, bf) then
    v.remaining = clamp(funits(r, fsub(bn, bf, wn, wf, r.L)) + 1, r.B)
  end
  v.reset = now
  if nx then v.reset = math.max(fceil(nx.n, nx.f), now) end
  return v, nx
end

local gcra = {load = timeLoad, commit = timeCommit}
function gcra.decide(r, st, cost)
  local bn, bf = emission(r, r.B) -- B * T
  local tat = st -- nil: in the distant past
  local v = {}
  if cost <= r.B then
    local base, basef = now, 0
    if tat and tat.n >= now then base, basef = tat.n, tat.f end
    local en, ef = emission(r, cost)
    local nn, nf = fadd(base, basef, en, ef, r.L)
    local on, of = fsub(nn, nf, bn, bf, r.L)
    on, of = fsub(on, of, now, 0, r.L) -- new - B*T - now
    if on < 0 or (on == 0 and of == 0) then
      tat = {n = nn, f = nf}
      v.allowed = true
    else
      v.retry = fceil(on, of)
    end
  end
  if tat and after(tat.n, tat.f) then
    local rn, rf = fadd(now, 0, bn, bf, r.L)
    v.remaining = clamp(funits(r, fsub(rn, rf, tat.n, tat.f, r.L)), r.B)
    v.reset = fceil(tat.n, tat.f)
  else
    v.remaining = r.B
    v.reset = now
  end
  return v, tat
end

-- concurrency: a sorted set of leases "<store id>:<sequence>:<cost>" scored by the µs at which they expire.
local conc = {}
local function leaseCost(member)
  return tonumber(string.match(member, ':(%d+)$'))
end
function conc.load(key)
  local live = redis.call('ZRANGEBYSCORE', key, '(' .. num(now), '+inf')
  local inflight = 0
  for i = 1, #live do inflight = inflight + leaseCost(live[i]) end
  return {inflight = inflight}
end
function conc.decide(r, st, cost)
  local inflight = st.inflight
  local v = {reset = now}
  if cost <= r.L - inflight then
    inflight = inflight + cost
    v.allowed = true
  end
  v.remaining = clamp(r.L - inflight, r.L)
  return v, nil
end
function conc.commit(key, r, st, nx, v, cost)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', num(now))
  redis.call('ZADD', key, num(now + leaseTimeout), owner .. ':' .. num(cost))
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES') -- the lease that expires last
  redis.call('PEXPIRE', key, num(ttl(tonumber(last[2]))))
end
-- release gives back cost units of the leases this store holds, oldest first; more than it holds is ignored.
function conc.release(key, cost)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', num(now))
  local held = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  for i = 1, #held, 2 do
    if cost <= 0 then return end
    local m = held[i]
    if string.sub(m, 1, #owner) == owner then
      local units = leaseCost(m)
      redis.call('ZREM', key, m)
      if units > cost then
        redis.call('ZADD', key, held[i + 1], string.match(m, '^(.*:)%d+$') .. num(units - cost))
      end
      cost = cost - units
    end
  end
end
