// Lua run atomically inside Redis, one round trip each. Leases live in one sorted set per instance: the member
// is `replica|lease`, the score its expiry (Redis's own clock, so replicas' clocks never matter). Every script
// first drops expired members, so a dead replica's slots come back within the lease TTL without anyone's help.

/** Current time in ms from Redis (TIME is allowed in scripts since Redis 5 with effect replication, the 7.x default). */
const NOW = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS[1] lease set; ARGV: member, maxConcurrency, ttlMs, load channel, message prefix ("replica\tinstance\t").
 * Returns {granted 0|1, slots held after the call}; publishes the new count when granted.
 */
export const ACQUIRE_LUA = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[2]) then return {0, n} end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
redis.call('PUBLISH', ARGV[4], ARGV[5] .. (n + 1))
return {1, n + 1}
`;

/** KEYS[1] lease set; ARGV: member, load channel, message prefix. Returns the slots still held; publishes them. */
export const RELEASE_LUA = `${NOW}
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = redis.call('ZCARD', KEYS[1])
redis.call('PUBLISH', ARGV[2], ARGV[3] .. n)
return n
`;

/**
 * The heartbeat. KEYS[1] this replica's liveness key, KEYS[2] the set of live replicas (member the replica id, score
 * its expiry), KEYS[3..] lease sets; ARGV[1] ttlMs, ARGV[2] replica info, ARGV[3] replica id, ARGV[4..] this
 * replica's members per lease set ("\n"-joined, "" for none), renewed (or written back after the store lost them).
 * Returns the number of live replicas (this one included), then the slots held on each lease set, in order.
 */
export const RENEW_LUA = `${NOW}
local ttl = tonumber(ARGV[1])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('PEXPIRE', KEYS[2], ttl * 2)
local counts = {redis.call('ZCARD', KEYS[2])}
for i = 3, #KEYS do
  local k = KEYS[i]
  local mine = ARGV[i + 1]
  if mine ~= nil and mine ~= '' then
    for m in string.gmatch(mine, '[^\\n]+') do redis.call('ZADD', k, now + ttl, m) end
    redis.call('PEXPIRE', k, ttl * 2)
  end
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
  counts[i - 1] = redis.call('ZCARD', k)
end
return counts
`;
