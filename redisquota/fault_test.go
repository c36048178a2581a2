package redisquota_test

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/memtransport"
	"github.com/ratekit/ratekit/internal/redistest"
	"github.com/ratekit/ratekit/mockserver"
	"github.com/ratekit/ratekit/redisquota"
)

// The fault tests run a fleet against a mock server in real time (Redis is a real process, and synctest
// does not mix with sockets), with a fast quota so that they take seconds: 100 requests in any 2 s (a
// sliding-window-log, the exact algorithm: no second of the server's arithmetic hides an excess), 50/s.
const (
	faultLimit   = 100
	faultWindow  = 2 * time.Second
	faultMembers = 8  // each with its own Redis client and Limiter, as separate processes
	faultPerHead = 35 // requests per member: 280 in all, about 4 s at the quota after the first 100
	faultWorkers = 4  // goroutines per member
	// faultDeadline is each request's deadline: a request that hangs on Redis fails the test by missing it.
	// It leaves room for the waits of a slow pace: near the end of a window a Transport may learn "2 left
	// in 2 s", 1/s for the whole fleet (the longest request takes about 6 s).
	faultDeadline = 15 * time.Second
	// faultTimeout is the Limiters' timeout for each call to Redis.
	faultTimeout = 50 * time.Millisecond
)

// arrivals records when requests reached the server, and which were rejected.
type arrivals struct {
	next http.Handler

	mu sync.Mutex
	at []arrival // guarded by mu
}

type arrival struct {
	at       time.Time
	rejected bool
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	a.next.ServeHTTP(rec, r)
	a.mu.Lock()
	a.at = append(a.at, arrival{at: now, rejected: rec.status == http.StatusTooManyRequests})
	a.mu.Unlock()
}

// count returns how many requests arrived.
func (a *arrivals) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.at)
}

// traffic is what the server saw: arrivals and rejections, in all and between two instants (the outage),
// and the most arrivals within any window.
type traffic struct {
	arrivals, rejected             int
	outageArrivals, outageRejected int
	busiest                        int
}

func (a *arrivals) traffic(window time.Duration, from, to time.Time) traffic {
	a.mu.Lock()
	at := append([]arrival(nil), a.at...)
	a.mu.Unlock()
	sort.Slice(at, func(i, j int) bool { return at[i].at.Before(at[j].at) })
	tr := traffic{arrivals: len(at)}
	first := 0
	for i, x := range at {
		for x.at.Sub(at[first].at) >= window {
			first++
		}
		tr.busiest = max(tr.busiest, i-first+1)
		during := !x.at.Before(from) && x.at.Before(to)
		if during {
			tr.outageArrivals++
		}
		if x.rejected {
			tr.rejected++
			if during {
				tr.outageRejected++
			}
		}
	}
	return tr
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// timedLimiter measures the longest Reserve of a Limiter.
type timedLimiter struct {
	ratekit.Limiter
	longest atomic.Int64
}

func (l *timedLimiter) Reserve(ctx context.Context, key string, cost int64, learned *ratekit.Pace, now time.Time) (time.Duration, error) {
	start := time.Now()
	defer func() {
		d := int64(time.Since(start))
		for old := l.longest.Load(); d > old && !l.longest.CompareAndSwap(old, d); old = l.longest.Load() {
		}
	}()
	return l.Limiter.Reserve(ctx, key, cost, learned, now)
}

// member is one process of the fleet.
type member struct {
	limiter *redisquota.Limiter
	timed   *timedLimiter
	hooks   *hooks
	client  *http.Client
}

// runFaultFleet runs the fleet; fault is called on the test goroutine once 120 requests have arrived, and
// must return when the fault is over. It returns what the server saw and when the fault lasted.
func runFaultFleet(t *testing.T, srv *redistest.Server, fault func(members []*member)) {
	h, err := mockserver.NewHandler(mockserver.Config{Dialect: mockserver.DialectXRateLimit,
		Tiers: []mockserver.Tier{{Name: "t", Rules: []mockserver.Rule{{Name: "window", Algorithm: mockserver.SlidingWindowLog,
			Policy: mockserver.Policy{Limit: faultLimit, Window: faultWindow}}}}}})
	require.NoError(t, err)
	server := &arrivals{next: h}
	var members []*member
	for range faultMembers {
		hk := &hooks{}
		l, err := redisquota.New(srv.Client(), append(hk.options(), redisquota.WithTimeout(faultTimeout),
			redisquota.WithRetryInterval(100*time.Millisecond))...)
		require.NoError(t, err)
		timed := &timedLimiter{Limiter: l}
		tr := &ratekit.Transport{Base: &memtransport.Transport{Handler: server, Latency: time.Millisecond}, Limiter: timed, MaxWait: faultDeadline}
		members = append(members, &member{limiter: l, timed: timed, hooks: hk, client: &http.Client{Transport: tr}})
	}

	var failed atomic.Int32
	var slowest atomic.Int64 // the longest request, ns
	var wg sync.WaitGroup
	start := time.Now()
	for _, m := range members {
		var next atomic.Int32
		for range faultWorkers {
			wg.Go(func() {
				for next.Add(1) <= faultPerHead {
					begin := time.Now()
					err := faultRequest(m.client)
					d := int64(time.Since(begin))
					for old := slowest.Load(); d > old && !slowest.CompareAndSwap(old, d); old = slowest.Load() {
					}
					if err != nil {
						if failed.Add(1) <= 3 {
							assert.NoError(t, err, "a request failed")
						}
					}
				}
			})
		}
	}

	// The first window's 100 pass at once; the fault comes when the fleet is paced.
	waitFor(t, "120 requests to arrive", func() bool { return server.count() >= 120 })
	faultStart := time.Now()
	fault(members)
	faultEnd := time.Now()
	wg.Wait()
	elapsed := time.Since(start)

	tr := server.traffic(faultWindow, faultStart, faultEnd)

	outage := faultEnd.Sub(faultStart)
	outageRate := float64(tr.outageArrivals) / outage.Seconds()
	var longest time.Duration
	for _, m := range members {
		longest = max(longest, time.Duration(m.timed.longest.Load()))
	}
	quotaRate := float64(faultLimit) / faultWindow.Seconds()
	t.Logf("%d requests in %v: %d arrivals at the server, %d rejected (429); busiest %v: %d arrivals (quota %d); "+
		"during the %v outage %d arrivals (%.1f/s, quota %.0f/s), %d rejected; longest Reserve %v; longest request %v",
		faultMembers*faultPerHead, elapsed.Round(time.Millisecond), tr.arrivals, tr.rejected, faultWindow, tr.busiest, faultLimit,
		outage.Round(time.Millisecond), tr.outageArrivals, outageRate, quotaRate, tr.outageRejected, longest.Round(time.Millisecond),
		time.Duration(slowest.Load()).Round(time.Millisecond))

	assert.Zero(t, failed.Load(), "requests failed of %d: want every request completed", faultMembers*faultPerHead)
	// No hang: a call to Redis is cut at the timeout (allow a busy machine a second).
	assert.LessOrEqual(t, longest, faultTimeout+time.Second, "the longest Reserve: want about the timeout %v at most", faultTimeout)
	// The fleet stays within the quota plus a margin: the server admits at most 100 in any 2 s, and the
	// fleet's arrivals (429s included) may exceed that by 15%, no more; at most 1 in 20 arrivals is
	// rejected, and 1 in 8 during the outage (the members' shares resume together when a pause ends).
	// Without pacing while Redis is down (fail open), the same fleet sends 121 to 143 in its busiest 2 s,
	// with 16-35% of the outage's arrivals rejected: every one of these checks fails.
	assert.LessOrEqual(t, tr.busiest, faultLimit*115/100, "requests that arrived at the server within %v", faultWindow)
	assert.LessOrEqual(t, outageRate, quotaRate*1.15, "requests a second during the outage: want at most the quota plus 15%%")
	assert.LessOrEqual(t, tr.rejected*20, tr.arrivals, "%d of %d arrivals rejected, want at most 1 in 20", tr.rejected, tr.arrivals)
	assert.LessOrEqual(t, tr.outageRejected*8, tr.outageArrivals, "during the outage %d of %d arrivals rejected, want at most 1 in 8", tr.outageRejected, tr.outageArrivals)
	// Every member fell back, and returned to Redis with its next request once Redis answered (a member
	// that finished its share of the batch during the outage has not made that request yet: it makes it
	// now, more than a retry interval after Redis came back).
	recoveredInBatch := 0
	for _, m := range members {
		if m.hooks.recoveries.Load() > 0 {
			recoveredInBatch++
		}
	}
	for i, m := range members {
		assert.NoError(t, faultRequest(m.client), "member %d: a request after the batch", i)
		// A busy machine may miss the 50 ms timeout outside the outage too: a switch more, and back.
		f, r := m.hooks.fallbacks.Load(), m.hooks.recoveries.Load()
		assert.GreaterOrEqual(t, f, int32(1), "member %d: fallbacks", i)
		assert.Equal(t, f, r, "member %d: as many recoveries as fallbacks", i)
		assert.False(t, m.limiter.Degraded(), "member %d: Degraded()", i)
	}
	t.Logf("%d of %d members returned to Redis within the batch, the others with their next request", recoveredInBatch, len(members))
}

// faultRequest sends one request with its own deadline and reads the answer; anything but 200 is an error.
func faultRequest(client *http.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.test/items", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &statusError{resp.StatusCode}
	}
	return nil
}

type statusError struct{ status int }

func (e *statusError) Error() string { return "status " + http.StatusText(e.status) }

// waitFor polls cond every few ms until it holds, and fails the test if it does not within 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		require.False(t, time.Now().After(deadline), "waited 10 s for %s", what)
		<-tick.C
	}
}

// outage holds a fault until every member has fallen back, for at least one window of the quota, so that
// the fleet's rate is measured on the fallback alone.
func outage(t *testing.T, members []*member) {
	t.Helper()
	start := time.Now()
	waitFor(t, "every member to fall back, for a window", func() bool {
		for _, m := range members {
			if m.hooks.fallbacks.Load() == 0 {
				return false
			}
		}
		return time.Since(start) >= faultWindow
	})
}

// TestFleetSurvivesRedisHanging: Redis stops answering (SIGSTOP) mid-batch, then continues.
func TestFleetSurvivesRedisHanging(t *testing.T) {
	t.Parallel() // the fault tests mostly wait, in real time
	srv := redistest.Start(t)
	runFaultFleet(t, srv, func(members []*member) {
		srv.Pause()
		defer srv.Resume()
		outage(t, members)
	})
}

// TestFleetSurvivesRedisCrashing: Redis is killed mid-batch, then restarted empty.
func TestFleetSurvivesRedisCrashing(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	runFaultFleet(t, srv, func(members []*member) {
		srv.Kill()
		defer srv.Restart()
		outage(t, members)
	})
}
