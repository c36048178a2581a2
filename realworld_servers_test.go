package ratekit_test

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Small servers that write their headers the way the public limiter libraries do, at 50 requests a second
// with a burst of 10 (windowed ones: 50 per 1 s window), as /work/shared/REALWORLD.md records them: whole
// seconds, floored epochs, Limit as a burst or a rate, constant resets, windows anchored at the first
// request, sliding counters, and silence. Each is one algorithm and one way of writing it; the Transport
// is told none of it.

const (
	rwRate  = 50.0
	rwBurst = 10
)

// rwServer is a limiter with a header writer; it counts what it answered.
type rwServer struct {
	mu       sync.Mutex
	decide   func(now time.Time) (ok bool, h http.Header) // guarded by mu
	allowed  int
	rejected int
}

func (s *rwServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ok, h := s.decide(time.Now())
	if ok {
		s.allowed++
	} else {
		s.rejected++
	}
	s.mu.Unlock()
	for k, v := range h {
		w.Header()[k] = v
	}
	if ok {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusTooManyRequests)
}

func ceilSeconds(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(max(d, 0).Seconds())), 10)
}

// gcraState is GCRA at rwRate with a burst of rwBurst: what throttled and redis_rate run.
type gcraState struct{ tat time.Time }

// allow reports whether a request at now is allowed, the units left, the time until the bucket is full,
// and (when refused) the wait until the next unit.
func (g *gcraState) allow(now time.Time) (ok bool, remaining int64, full, retry time.Duration) {
	emission := time.Duration(float64(time.Second) / rwRate)
	tolerance := emission * time.Duration(rwBurst-1)
	tat := g.tat
	if tat.Before(now) {
		tat = now
	}
	newTAT := tat.Add(emission)
	allowAt := newTAT.Add(-tolerance - emission)
	if now.Before(allowAt) {
		left := tat.Sub(now)
		return false, 0, left, allowAt.Sub(now)
	}
	g.tat = newTAT
	left := newTAT.Sub(now)
	remaining = int64((tolerance + emission - left) / emission)
	return true, max(remaining, 0), left, 0
}

// throttledServer: GCRA; X-RateLimit-Limit is the burst, Reset the ceiled time to full, Retry-After ceiled.
func throttledServer() *rwServer {
	var g gcraState
	return &rwServer{decide: func(now time.Time) (bool, http.Header) {
		ok, rem, full, retry := g.allow(now)
		h := http.Header{"X-Ratelimit-Limit": {strconv.Itoa(rwBurst)}, "X-Ratelimit-Remaining": {strconv.FormatInt(rem, 10)},
			"X-Ratelimit-Reset": {ceilSeconds(full)}}
		if !ok {
			h.Set("Retry-After", ceilSeconds(retry))
		}
		return ok, h
	}}
}

// redisRateServer: GCRA; RateLimit-Limit is the rate (50) while Remaining counts down from the burst.
func redisRateServer() *rwServer {
	var g gcraState
	return &rwServer{decide: func(now time.Time) (bool, http.Header) {
		ok, rem, full, retry := g.allow(now)
		h := http.Header{"Ratelimit-Limit": {"50"}, "Ratelimit-Remaining": {strconv.FormatInt(rem, 10)}, "Ratelimit-Reset": {ceilSeconds(full)}}
		if !ok {
			h.Set("Retry-After", ceilSeconds(retry))
		}
		return ok, h
	}}
}

// tollboothServer: a token bucket (x/time/rate); Limit as a float rate, a constant RateLimit-Reset: 1, no
// Retry-After.
func tollboothServer() *rwServer {
	tokens, last := float64(rwBurst), time.Time{}
	return &rwServer{decide: func(now time.Time) (bool, http.Header) {
		if !last.IsZero() {
			tokens = min(tokens+now.Sub(last).Seconds()*rwRate, rwBurst)
		}
		last = now
		ok := tokens >= 1
		if ok {
			tokens--
		}
		h := http.Header{"X-Rate-Limit-Limit": {"50.00"}, "X-Rate-Limit-Duration": {"1"}, "Ratelimit-Limit": {"50"},
			"Ratelimit-Remaining": {strconv.Itoa(int(tokens))}, "Ratelimit-Reset": {"1"}}
		return ok, h
	}}
}

// ululeServer: a fixed window of 50 per second anchored at the key's first request; the reset an epoch
// floored to the second; no Retry-After.
func ululeServer() *rwServer {
	var start time.Time
	var count int
	return &rwServer{decide: func(now time.Time) (bool, http.Header) {
		if start.IsZero() || now.Sub(start) >= time.Second {
			if start.IsZero() {
				start = now
			} else {
				start = start.Add(now.Sub(start).Truncate(time.Second))
			}
			count = 0
		}
		count++
		ok := count <= 50
		end := start.Add(time.Second)
		h := http.Header{"X-Ratelimit-Limit": {"50"}, "X-Ratelimit-Remaining": {strconv.Itoa(max(50-count, 0))},
			"X-Ratelimit-Reset": {strconv.FormatInt(end.Unix(), 10)}}
		if !ok {
			count-- // rejections are not counted
		}
		return ok, h
	}}
}

// httprateServer: a sliding window counter of 50 per second, windows anchored at the limiter's creation
// (created is the instant it was made); the reset an epoch floored; Retry-After the whole window.
func httprateServer(created time.Time) *rwServer {
	var cur, prev int
	var win int64 = -1
	return &rwServer{decide: func(now time.Time) (bool, http.Header) {
		w := int64(now.Sub(created) / time.Second)
		switch {
		case w == win+1:
			prev, cur = cur, 0
		case w > win+1:
			prev, cur = 0, 0
		}
		if win < 0 {
			prev = 0
		}
		win = w
		into := now.Sub(created.Add(time.Duration(w) * time.Second)).Seconds()
		rate := float64(prev)*(1-into) + float64(cur)
		ok := rate < 50
		if ok {
			cur++
			rate++
		}
		end := created.Add(time.Duration(w+1) * time.Second)
		h := http.Header{"X-Ratelimit-Limit": {"50"}, "X-Ratelimit-Remaining": {strconv.Itoa(max(50-int(math.Ceil(rate)), 0))},
			"X-Ratelimit-Reset": {strconv.FormatInt(end.Unix(), 10)}}
		if !ok {
			h.Set("Retry-After", "1")
		}
		return ok, h
	}}
}

// nginxServer: limit_req at 50/s, burst=10 nodelay: nothing but the status code.
func nginxServer() *rwServer {
	var excess float64
	var last time.Time
	return &rwServer{decide: func(now time.Time) (bool, http.Header) {
		if !last.IsZero() {
			excess = max(excess-now.Sub(last).Seconds()*rwRate, 0)
		}
		last = now
		if excess+1 > rwBurst+1 {
			return false, nil
		}
		excess++
		return true, nil
	}}
}

// expressServer: express-rate-limit's memory store, 50 per 1 s window: a window opens at the client's first
// request after the last one ended (resetTime = now + window, expired when resetTime <= now), rejected
// requests count too. legacy writes X-RateLimit-Reset as the window's end in epoch seconds, ceiled; the
// draft-7 mode writes "RateLimit: limit=50, remaining=N, reset=S" with S the ceiled seconds to the end, and
// RateLimit-Policy: 50;w=1. A refusal adds Retry-After: the ceiled seconds to the end.
func expressServer(legacy bool) *rwServer {
	var end time.Time
	var hits int
	return &rwServer{decide: func(now time.Time) (bool, http.Header) {
		if !end.After(now) {
			end, hits = now.Add(time.Second), 0
		}
		hits++
		ok := hits <= 50
		rem, secs := strconv.Itoa(max(50-hits, 0)), ceilSeconds(end.Sub(now))
		h := http.Header{}
		if legacy {
			h.Set("X-Ratelimit-Limit", "50")
			h.Set("X-Ratelimit-Remaining", rem)
			h.Set("X-Ratelimit-Reset", strconv.FormatInt(int64(math.Ceil(float64(end.UnixNano())/1e9)), 10))
		} else {
			h.Set("Ratelimit-Policy", "50;w=1")
			h.Set("Ratelimit", "limit=50, remaining="+rem+", reset="+secs)
		}
		if !ok {
			h.Set("Retry-After", secs)
		}
		return ok, h
	}}
}

// goLimiterServer: sethvargo/go-limiter's memory store, 50 per 1 s: the bucket is refilled whole at each
// tick since the key's first request (a fixed window at that phase), rejections do not count. The reset is
// the tick's end as an HTTP-date (cut to the second); a refusal adds Retry-After: the same date.
func goLimiterServer() *rwServer {
	var start time.Time
	var tick int64 = -1
	var tokens int
	return &rwServer{decide: func(now time.Time) (bool, http.Header) {
		if start.IsZero() {
			start = now
		}
		if t := int64(now.Sub(start) / time.Second); t > tick {
			tick, tokens = t, 50
		}
		ok := tokens > 0
		if ok {
			tokens--
		}
		reset := start.Add(time.Duration(tick+1) * time.Second).UTC().Format(time.RFC1123)
		h := http.Header{"X-Ratelimit-Limit": {"50"}, "X-Ratelimit-Remaining": {strconv.Itoa(tokens)}, "X-Ratelimit-Reset": {reset}}
		if !ok {
			h.Set("Retry-After", reset)
		}
		return ok, h
	}}
}
