-- Exact integer arithmetic for Redis scripts, shared by mockserver's Redis store and redisquota. Lua numbers
-- are float64: every integer below 2^53 is exact, but formatting and division need care.

-- num formats an integer for Redis: redis.call would format a Lua number with %.14g and lose digits.
local function num(x)
  return string.format('%.0f', x)
end

-- fdiv returns floor(x / d) for integers x and d > 0, exactly (the correction absorbs float rounding).
local function fdiv(x, d)
  local q = math.floor(x / d)
  local r = x - q * d
  if r < 0 then
    q = q - 1
  elseif r >= d then
    q = q + 1
  end
  return q
end
