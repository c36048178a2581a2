package mockserver

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ratekit/ratekit/internal/redistest"
)

// TestRedisStoreKeyTTLs: every write sets its key's TTL to the time until the state is fresh again, plus the
// margin, so that idle keys expire on their own; a rejected request writes nothing, so it extends nothing.
func TestRedisStoreKeyTTLs(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	const margin = 10 * time.Second
	s := newTestRedisStore(t, client, WithRedisExpiryMargin(margin), WithRedisLeaseTimeout(time.Hour))
	now := tMinute.Add(250 * time.Millisecond)
	for _, alg := range Algorithms() {
		rules := []Rule{{Name: "ttl", Algorithm: alg, Policy: storePolicy(alg)}}
		d := mustAllow(t, s, "k", rules, []int64{2}, now)[0]
		idle := d.Reset.Sub(now) // fresh again at Reset ...
		if alg == Concurrency {
			idle = time.Hour // ... or when the last lease expires
		}
		name := s.tag("k") + "ttl:" + alg
		want := (idle + margin).Milliseconds()
		pttl := func() int64 {
			t.Helper()
			ms, err := client.PTTL(context.Background(), name).Result()
			if err != nil {
				t.Fatal(err)
			}
			return ms.Milliseconds()
		}
		// PTTL counts down in real time from the write: allow a slow machine a second.
		if got := pttl(); got > want || got < want-1000 {
			t.Errorf("%s: PTTL %d ms after a request of cost 2 (fresh in %v), want %d ms", alg, got, idle, want)
		}
		// Fill the state until a request is rejected: the rejection must not touch the TTL.
		for range 10 {
			mustAllow(t, s, "k", rules, []int64{2}, now)
		}
		before := pttl()
		if d := mustAllow(t, s, "k", rules, []int64{2}, now)[0]; d.Allowed {
			t.Fatalf("%s: still allowed after 11 requests", alg)
		}
		if after := pttl(); after > before {
			t.Errorf("%s: a rejection raised the PTTL from %d to %d ms", alg, before, after)
		}
	}
}

// TestRedisStoreIdleKeysExpire: with no margin and a 1 ms window, a key is gone from Redis (and from Len)
// moments after its window ends, in Redis's own time.
func TestRedisStoreIdleKeysExpire(t *testing.T) {
	s := newTestRedisStore(t, redistest.Start(t).Client(), WithRedisExpiryMargin(0))
	rules := []Rule{{Name: "ms", Algorithm: FixedWindow, Policy: Policy{Limit: 1, Window: time.Millisecond}}}
	mustAllow(t, s, "k", rules, []int64{1}, time.Now())
	// Redis expires keys on its own clock: wait for it, bounded (this is a check that expiry happens at all;
	// TestRedisStoreKeyTTLs checks the TTLs exactly).
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for mustLen(t, s) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the key of a 1 ms window still exists 5 s later")
		}
		<-tick.C
	}
}

// TestRedisStoreReleasedLeasesLeaveNoKey: once every lease is given back, the concurrency key is gone.
func TestRedisStoreReleasedLeasesLeaveNoKey(t *testing.T) {
	s := newTestRedisStore(t, redistest.Start(t).Client())
	rules := []Rule{{Name: "inflight", Algorithm: Concurrency, Policy: Policy{Limit: 2}}}
	mustAllow(t, s, "k", rules, []int64{2}, tMinute)
	if n := mustLen(t, s); n != 1 {
		t.Fatalf("Len with a request in flight = %d, want 1", n)
	}
	mustRelease(t, s, "k", rules, []int64{2}, tMinute)
	if n := mustLen(t, s); n != 0 {
		t.Errorf("Len after the release = %d, want 0", n)
	}
}

// TestRedisStoreLeases: a slot whose release never comes frees itself after the lease timeout; a store releases
// only its own leases (another server's stay until they are released or expire), oldest first, and a release
// can give back part of a lease.
func TestRedisStoreLeases(t *testing.T) {
	client := redistest.Start(t).Client()
	const leaseTimeout = 10 * time.Second
	a, err := NewRedisStore(client, WithRedisKeyPrefix("leases:"), WithRedisLeaseTimeout(leaseTimeout))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRedisStore(client, WithRedisKeyPrefix("leases:"), WithRedisLeaseTimeout(leaseTimeout))
	if err != nil {
		t.Fatal(err)
	}
	rules := []Rule{{Name: "inflight", Algorithm: Concurrency, Policy: Policy{Limit: 5}}}
	inflight := func(at time.Time) int64 {
		t.Helper()
		return 5 - 1 - mustInspect(t, a, "k", rules, at)[0].Remaining // Inspect asks for 1 more unit
	}

	t.Run("expire after the timeout", func(t *testing.T) {
		mustAllow(t, a, "crash", rules, []int64{5}, tMinute) // the server "crashes": no release
		if d := mustAllow(t, b, "crash", rules, []int64{1}, tMinute.Add(leaseTimeout-time.Microsecond))[0]; d.Allowed {
			t.Errorf("1 µs before the lease expires: %s, want rejected", formatDecision(d, tMinute))
		}
		if d := mustAllow(t, b, "crash", rules, []int64{5}, tMinute.Add(leaseTimeout))[0]; !d.Allowed || d.Remaining != 0 {
			t.Errorf("when the lease expires: %s, want all 5 slots free again", formatDecision(d, tMinute))
		}
	})

	t.Run("only own leases, oldest first, in part", func(t *testing.T) {
		mustAllow(t, a, "k", rules, []int64{2}, tMinute)
		mustAllow(t, b, "k", rules, []int64{1}, tMinute)
		mustAllow(t, a, "k", rules, []int64{2}, tMinute.Add(time.Second))
		mustRelease(t, b, "k", rules, []int64{3}, tMinute) // b holds only 1
		if n := inflight(tMinute); n != 4 {
			t.Fatalf("after b released its 1 unit (and asked for 2 more): %d in flight, want 4 (a's)", n)
		}
		mustRelease(t, a, "k", rules, []int64{3}, tMinute) // a's first lease (2) and half of its second
		if n := inflight(tMinute); n != 1 {
			t.Fatalf("after a released 3 of its 4 units: %d in flight, want 1", n)
		}
		// The unit left is a's second lease, taken 1 s later: it expires 1 s after the first would have.
		if n := inflight(tMinute.Add(leaseTimeout)); n != 1 {
			t.Errorf("when a's first lease would have expired: %d in flight, want 1 (the newer lease)", n)
		}
		if n := inflight(tMinute.Add(leaseTimeout + time.Second)); n != 0 {
			t.Errorf("when a's second lease expires: %d in flight, want 0", n)
		}
	})
}

// TestRedisStoreServerTime: with WithRedisServerTime the script decides at Redis's clock, whatever the caller
// says now is; the durations it reports are added to the caller's now.
func TestRedisStoreServerTime(t *testing.T) {
	s := newTestRedisStore(t, redistest.Start(t).Client(), WithRedisServerTime())
	rules := []Rule{{Name: "second", Algorithm: TokenBucket, Policy: Policy{Limit: 1, Window: time.Second}}}
	callerNow := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if d := mustAllow(t, s, "k", rules, []int64{1}, callerNow)[0]; !d.Allowed {
		t.Fatalf("first request: %s", formatDecision(d, callerNow))
	}
	// The caller claims a minute has passed; Redis's clock says it has not: the token is not back.
	later := callerNow.Add(time.Minute)
	d := mustAllow(t, s, "k", rules, []int64{1}, later)[0]
	if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > time.Second {
		t.Fatalf("second request 'a minute later' by the caller's clock: %s, want rejected for at most 1 s", formatDecision(d, later))
	}
	if reset := d.Reset.Sub(later); reset != d.RetryAfter {
		t.Errorf("Reset is %v after the caller's now, RetryAfter %v: want the same (one token to refill)", reset, d.RetryAfter)
	}
}

// TestRedisStoreFailures: when Redis is down or hangs, calls return an error within the store's timeout
// instead of hanging, and the store works again once Redis is back.
func TestRedisStoreFailures(t *testing.T) {
	srv := redistest.Start(t)
	const timeout = 100 * time.Millisecond
	s := newTestRedisStore(t, srv.Client(), WithRedisTimeout(timeout))
	ctx := context.Background()
	rules := []Rule{{Name: "minute", Algorithm: FixedWindow, Policy: Policy{Limit: 1, Window: time.Minute}}}
	mustAllow(t, s, "k", rules, []int64{1}, tMinute)

	// failsFast checks that every method fails, each well within a bound that only a hang would exceed.
	failsFast := func(what string) {
		t.Helper()
		calls := map[string]func() error{
			"Allow":   func() error { _, err := s.Allow(ctx, "k", rules, []int64{1}, tMinute, nil); return err },
			"Inspect": func() error { _, err := s.Inspect(ctx, "k", rules, tMinute, nil); return err },
			"Release": func() error {
				return s.Release(ctx, "k", []Rule{{Name: "c", Algorithm: Concurrency, Policy: Policy{Limit: 1}}}, []int64{1}, tMinute)
			},
			"Reset": func() error { return s.Reset(ctx, "") },
			"Len":   func() error { _, err := s.Len(ctx); return err },
		}
		for name, call := range calls {
			start := time.Now()
			err := call()
			t.Logf("%s: %s: %v in %v", what, name, err, time.Since(start))
			if elapsed := time.Since(start); elapsed > timeout+2*time.Second { // generous: a busy CI machine
				t.Errorf("%s: %s took %v, want an error within about the timeout %v", what, name, elapsed, timeout)
			}
			if err == nil || !strings.HasPrefix(err.Error(), "mockserver: redis store: ") {
				t.Errorf("%s: %s returned %v, want a mockserver: redis store: error", what, name, err)
			}
		}
	}

	srv.Pause()
	failsFast("Redis paused")
	_, err := s.Allow(ctx, "k", rules, []int64{1}, tMinute, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Allow while Redis hangs: %v, want context.DeadlineExceeded", err)
	}
	srv.Resume()
	if d := mustAllow(t, s, "k", rules, []int64{1}, tMinute)[0]; d.Allowed {
		t.Errorf("after Resume the state is kept: %s, want rejected (the window's one unit is taken)", formatDecision(d, tMinute))
	}

	srv.Kill()
	failsFast("Redis killed")
	srv.Restart()
	if d := mustAllow(t, s, "k", rules, []int64{1}, tMinute)[0]; !d.Allowed {
		t.Errorf("after a restart (empty Redis, NOSCRIPT): %s, want allowed", formatDecision(d, tMinute))
	}
}

// TestRedisStoreKeysThatLookLikeSyntax: keys with braces, the escape character, glob characters or nothing at
// all are independent of each other, and Reset of one of them touches no other.
func TestRedisStoreKeysThatLookLikeSyntax(t *testing.T) {
	s := newTestRedisStore(t, redistest.Start(t).Client())
	rules := []Rule{{Name: "minute", Algorithm: FixedWindow, Policy: Policy{Limit: 5, Window: time.Minute}}}
	keys := []string{"", "%", "%25", "%7D", "}", "{", "{}", "a}b", "*", "k", "k*", "k?", "[k]", `\`, "\xff"}
	for i, k := range keys {
		mustAllow(t, s, k, rules, []int64{int64(i%5 + 1)}, tMinute)
	}
	for i, k := range keys {
		if got, want := mustInspect(t, s, k, rules, tMinute)[0].Remaining, max(5-int64(i%5+1)-1, 0); got != want {
			t.Errorf("key %q: %d left for the next request, want %d", k, got, want)
		}
	}
	for _, k := range []string{"*", "k", "{}", "%"} { // Reset("") would reset every key
		if err := s.Reset(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	if n := mustLen(t, s); n != len(keys)-4 {
		t.Errorf("Len after resetting 4 keys = %d, want %d", n, len(keys)-4)
	}
	if got := mustInspect(t, s, "k*", rules, tMinute)[0].Remaining; got != 5-int64(10%5+1)-1 {
		t.Errorf(`Reset("k") or Reset("*") touched key "k*": %d left`, got)
	}
}

func TestNewRedisStoreBadInput(t *testing.T) {
	client := redistest.Start(t).Client()
	tests := []struct {
		opts []RedisOption
		want string
	}{
		{[]RedisOption{WithRedisKeyPrefix("app{1}:")}, `mockserver: NewRedisStore: key prefix "app{1}:": want no '{' or '}'`},
		{[]RedisOption{WithRedisTimeout(0)}, "mockserver: NewRedisStore: timeout 0s: want more than 0"},
		{[]RedisOption{WithRedisLeaseTimeout(time.Nanosecond)}, "mockserver: NewRedisStore: lease timeout 1ns: want at least 1µs"},
		{[]RedisOption{WithRedisExpiryMargin(-time.Second)}, "mockserver: NewRedisStore: expiry margin -1s: want 0 or more"},
	}
	for _, tt := range tests {
		if _, err := NewRedisStore(client, tt.opts...); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("error %v, want one starting %q", err, tt.want)
		}
	}
	if _, err := NewRedisStore(nil); err == nil || !strings.Contains(err.Error(), "client is nil") {
		t.Errorf("nil client: error %v", err)
	}
	s := newTestRedisStore(t, client)
	rules := []Rule{{Name: "odd", Algorithm: GCRA, Policy: Policy{Limit: 3, Window: 1500 * time.Nanosecond}}}
	want := `mockserver: rule "odd": gcra policy: window 1.5µs: the Redis store wants a whole number of microseconds`
	if _, err := s.Allow(context.Background(), "k", rules, []int64{1}, tMinute, nil); err == nil || err.Error() != want {
		t.Errorf("window of 1.5 µs: error %v, want %q", err, want)
	}
}
