-- The last part of the Redis store's script (after store_redis.lua and store_redis_algorithms.lua): parse the
-- rules, decide all of them, commit only when all allow the request, and reply.

local algorithms = {
  ['fixed-window'] = fixed,
  ['sliding-window-log'] = slog,
  ['sliding-window-counter'] = counter,
  ['token-bucket'] = token,
  ['leaky-bucket'] = leaky,
  ['leaky-bucket-queue'] = queue,
  ['gcra'] = gcra,
  ['concurrency'] = conc,
}

local rules = {}
for i = 1, #KEYS do
  local base = 7 + 8 * (i - 1)
  local alg = algorithms[ARGV[base + 1]]
  if alg == nil then return redis.error_reply('unknown algorithm ' .. tostring(ARGV[base + 1])) end
  local flags = tonumber(ARGV[base + 8])
  rules[i] = {alg = alg, L = tonumber(ARGV[base + 2]), W = tonumber(ARGV[base + 3]),
    B = tonumber(ARGV[base + 4]), cost = tonumber(ARGV[base + 5]), first = ARGV[base + 6] == '1',
    O = tonumber(ARGV[base + 7]), count = flags % 2 == 1, round = flags >= 2}
end

if op == 'release' then
  for i = 1, #KEYS do
    if rules[i].alg == conc then conc.release(KEYS[i], rules[i].cost) end
  end
  return {}
end

local states, verdicts, nexts = {}, {}, {}
local all = true
for i = 1, #KEYS do
  local r = rules[i]
  local cost = r.cost
  if op == 'inspect' then cost = 1 end
  states[i] = r.alg.load(KEYS[i], r)
  verdicts[i], nexts[i] = r.alg.decide(r, states[i], cost)
  all = all and verdicts[i].allowed == true
end

if op == 'allow' then
  for i = 1, #KEYS do
    local r = rules[i]
    if all then
      r.alg.commit(KEYS[i], r, states[i], nexts[i], verdicts[i], r.cost)
    elseif r.count then
      -- A CountRejected rule takes the cost of a rejected request too.
      if verdicts[i].allowed then
        local v = r.alg.decide(r, nexts[i], 0)
        v.allowed, v.retry, v.retryNs, v.delay = true, nil, nil, nil
        verdicts[i] = v
      end
      r.alg.commit(KEYS[i], r, states[i], nexts[i], verdicts[i], r.cost)
    elseif verdicts[i].allowed then
      -- This rule would have passed; another rejected the request: show the state unchanged.
      local v = r.alg.decide(r, states[i], 0)
      v.allowed, v.retry, v.retryNs, v.delay = true, nil, nil, nil
      verdicts[i] = v
    end
  end
end

local out = {}
for i = 1, #KEYS do
  local v = verdicts[i]
  local allowed = 0
  if v.allowed then allowed = 1 end
  local n = #out
  out[n + 1] = allowed
  out[n + 2] = v.remaining
  out[n + 3] = v.reset - now
  out[n + 4] = v.retry or 0
  out[n + 5] = v.retryNs or 0
  out[n + 6] = v.delay or 0
end
return out
