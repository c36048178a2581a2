// Package redisquota shares one API key's quota among the processes of a fleet through Redis: a
// ratekit.Limiter that each process's ratekit.Transport asks before every request. What one process learns
// from the server (a Retry-After pause, the pace the rate-limit headers allow) then binds them all, so a
// fleet of N processes stays within the quota instead of each spending it as if it were alone.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
//	defer rdb.Close()
//	limiter, err := redisquota.New(rdb)
//	if err != nil {
//		log.Fatal(err)
//	}
//	client := &http.Client{Transport: &ratekit.Transport{Limiter: limiter}}
//
// # What it decides
//
// Exactly what ratekit.NewLocalLimiter decides for Transports in one process, for the whole fleet: GCRA
// (the generic cell rate algorithm) at the pace learned last, after the latest pause anyone learned. Each
// Reserve is one atomic Lua script evaluation (EVALSHA, or EVAL when Redis lost its scripts): it applies
// what the caller learned, decides, and writes the key's new state. The script mirrors LocalLimiter's
// arithmetic in whole nanoseconds, with the pace converted by ratekit.Pace.Spans on the Go side, so both
// return identical waits (a differential test replays random traces through both).
//
// # What it keeps in Redis
//
// Two keys per client key, both named with a Redis Cluster hash tag so that they share a slot and the
// Limiter works on a cluster:
//
//	<prefix>{<key>}:pace     a hash: the GCRA state (TAT), the pace, the pause
//	<prefix>{<key>}:members  a sorted set: the IDs of the instances that used the key, by last-seen time
//
// The prefix is "ratekit:" unless WithKeyPrefix says otherwise. In the key, "%" is written "%25" and "}"
// "%7D", and the empty key "%". Every write of the pace sets its TTL to the time until its pause and its
// debt are over, plus a margin (WithExpiryMargin, default 10 minutes), so idle keys expire on their own; the
// members set expires one peer window (WithPeerWindow, default 1 minute) after its last write. An instance
// writes its heartbeat there at most once per quarter of the peer window; the other calls only read the set.
//
// # Time
//
// Decisions use the now the caller passes (the Transport reads its clock once per request), so the fleet's
// clocks must agree to well within the pace's interval, as NTP makes them. The script could read Redis's
// clock instead (TIME, as mockserver's WithRedisServerTime does), but the pauses a Transport learns are
// instants on its own clock, so that would only move the disagreement; redisquota therefore takes now, and
// the expiry margin absorbs clock differences in TTLs.
//
// # When Redis is slow or down
//
// A request never waits for Redis longer than the timeout (WithTimeout, default 50 ms; the client must be
// built with ContextTimeoutEnabled, which New checks). When a call fails, the Limiter calls the
// WithOnFallback hook and decides locally, returning no error: each key is paced at this instance's share of
// the fleet's pace (1/peers, peers being the members seen in the peer window when Redis last answered, else
// WithFallbackShare, default 1/4), starting from the fleet's debt at that moment, and the pauses known or
// learned meanwhile still apply. While Redis is down, one request per retry interval (WithRetryInterval,
// default 1 s) tries it again, and the others do not wait for it; a wait for the pace lasts at most until
// that retry, so that the fleet decides again as soon as Redis answers (a pause is waited in full). When it
// answers, the Limiter calls WithOnRecover, goes back to Redis, and publishes what it learned while down
// with each key's next request.
package redisquota
