-- The Redis store's one script, in three files that store_redis.go joins in this order:
--   store_redis.lua             the arguments, and exact integer arithmetic
--   store_redis_algorithms.lua  every algorithm: load, decide, commit (and release for concurrency)
--   store_redis_main.lua        check all rules, then commit, and the reply
-- store_redis.go runs it with EVALSHA, falling back to EVAL on NOSCRIPT.
--
-- One evaluation decides a whole request: it reads the state of every rule, decides each as the pure cores in
-- algorithm_*.go do, and writes only when every rule allows the request (check all, then commit). Redis runs a
-- script atomically, so no other request for the key can come in between.
--
-- Arithmetic: Lua numbers are float64, which hold every integer below 2^53 exactly. Times are whole µs (a Unix
-- time in µs is about 1.8e15), and the bucket algorithms keep the same exact integers as the Go cores, with µs
-- where the cores have ns: token and leaky buckets keep tokens * W_us, GCRA and the queue keep a time as a whole
-- µs plus a fraction in 1/L µs. The sliding-window-counter evaluates Cloudflare's estimate with durations in ns,
-- exactly as the Go core does (same float64 operations in the same order). So on a µs grid, with W / L a whole
-- number of µs, every decision equals the memory store's; otherwise results differ by less than 1 µs.
--
-- KEYS[i] is the state of rule i for the client key; all of them share one hash slot ({key} hash tag).
-- ARGV[1]  op: "allow", "inspect" or "release"
-- ARGV[2]  now in Unix µs, or "" to read Redis's clock (TIME)
-- ARGV[3]  now's ns beyond the whole µs (0 to 999), for the sliding-window-counter
-- ARGV[4]  the lease owner: "<store id>:<sequence>" for allow, "<store id>:" for release
-- ARGV[5]  lease timeout in µs (concurrency)
-- ARGV[6]  expiry margin in µs, added to every key's TTL
-- ARGV[7]  the caller's deadline in Unix µs, compared with Redis's clock (TIME), or "" for none: a decision
--          that reaches Redis after it changes nothing and answers an EXPIRED error
-- ARGV[8 + 8*(i-1) ...] rule i: algorithm, L, W in µs, capacity B, cost, "1" for a first-request anchor
--          (else "0"), anchor offset in µs (0 <= O < W), flags (1: count rejections, 2: round the estimate)
--
-- The reply has six integers per rule: allowed (1 or 0), remaining, reset - now (µs), retry-after (µs), the
-- retry-after's extra ns (sliding-window-counter only), delay (µs). Times are relative to now floored to the µs;
-- the Go side subtracts ARGV[3].

local op = ARGV[1]
local now
if ARGV[2] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[2])
end
local sub = tonumber(ARGV[3])
local owner = ARGV[4]
local leaseTimeout = tonumber(ARGV[5])
local margin = tonumber(ARGV[6])
if ARGV[7] ~= '' then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000000 + tonumber(t[2]) > tonumber(ARGV[7]) then
    do return redis.error_reply('EXPIRED the decision reached Redis after its deadline: nothing was counted') end
  end
end

-- num and fdiv come from internal/luaexact, prepended to this script.

-- cdiv returns ceil(x / d).
local function cdiv(x, d)
  return -fdiv(-x, d)
end

local function clamp(v, hi)
  if v < 0 then return 0 end
  if v > hi then return hi end
  return v
end

-- ttl returns the ms a key must live when its state becomes fresh (idle) at the µs instant idle.
local function ttl(idle)
  local ms = cdiv(idle - now + margin, 1000)
  if ms < 1 then return 1 end
  return ms
end

-- Exact times (arith.go's fracTime): us + f/L µs with 0 <= f < L, passed around as two numbers.

-- emission returns units * W / L.
local function emission(r, units)
  local x = units * r.W
  local q = fdiv(x, r.L)
  return q, x - q * r.L
end

local function fadd(a, af, b, bf, L)
  local f = af + bf
  if f >= L then return a + b + 1, f - L end
  return a + b, f
end

local function fsub(a, af, b, bf, L)
  local f = af - bf
  if f < 0 then return a - b - 1, f + L end
  return a - b, f
end

local function fceil(a, af)
  if af > 0 then return a + 1 end
  return a
end

local function fgreater(a, af, b, bf)
  return a > b or (a == b and af > bf)
end

-- funits returns floor(a * L / W), the units of cost that fit in the duration a (0 when a < 0).
local function funits(r, a, af)
  if a < 0 then return 0 end
  return fdiv(a * r.L + af, r.W)
end

-- after reports whether the exact time a is later than now.
local function after(a, af)
  return a > now or (a == now and af > 0)
end
