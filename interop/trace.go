package interop

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ratekit/ratekit/internal/ctxsleep"
)

// Schedule is a list of requests at given instants, for recording what a limiter answers to each.
type Schedule struct {
	Name string
	// Phase is how far past a whole second of the clock the schedule starts: windows and roundings to the
	// second meet the requests at that phase.
	Phase time.Duration
	// Build is when the target is built (its limiter created), past the same whole second; at most Phase.
	// It matters to limiters that anchor windows at their creation (httprate).
	Build time.Duration
	// Offsets are the requests' instants after the start, in order; equal offsets are sent back to back.
	Offsets []time.Duration
}

// Exchange is one request of a trace and the answer to it.
type Exchange struct {
	// At is when the request was sent, after the schedule's start (the planned offset in virtual time, the
	// measured one in real time).
	At Duration `json:"at"`
	// Took is how long the answer took to arrive: zero in virtual time with an in-process target; in real
	// time the peer decided somewhere between At and At+Took.
	Took   Duration `json:"took,omitempty"`
	Status int      `json:"status"`
	// Headers are the answer's rate-limit headers (see IsRateLimitHeader): name as the client received it,
	// value byte for byte, sorted by name, repeated values in their order.
	Headers [][2]string `json:"headers"`
}

// Trace is what a limiter answered to a schedule.
type Trace struct {
	Peer     string   `json:"peer"`
	Schedule string   `json:"schedule"`
	Phase    Duration `json:"phase"`
	// Built is when the target was built, after the schedule's start (negative: before it).
	Built    Duration   `json:"built"`
	Requests []Exchange `json:"requests"`
}

// Duration is a time.Duration that reads and writes as its String ("1.5s") in JSON.
type Duration time.Duration

// MarshalText writes the duration as time.Duration.String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads what time.ParseDuration reads.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("interop: duration %q: %w", b, err)
	}
	*d = Duration(v)
	return nil
}

// IsRateLimitHeader reports whether a header is one a rate limiter sends: its name contains "ratelimit" or
// "rate-limit" (X-RateLimit-*, RateLimit, RateLimit-Policy, X-Rate-Limit-*), or it is Retry-After.
func IsRateLimitHeader(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "ratelimit") || strings.Contains(n, "rate-limit") || n == "retry-after"
}

// Record sends the schedule to a fresh target and records every answer, each request Phase+offset past a
// whole second of the clock, one after the other, with no retry. With Build zero it starts the target, then
// waits for the next whole second (none when the clock is on one, as in a synctest bubble, where an
// in-process limiter is then built exactly on it); a process's start-up does not delay the schedule. With
// Build set it waits for the next whole second and builds the target Build past it. Its clock is time.Now:
// in a bubble an in-process target is recorded in virtual time, to the nanosecond; in real time At says
// when each request went.
func Record(ctx context.Context, name string, start func(context.Context) (*Target, error), s Schedule) (Trace, error) {
	if s.Build < 0 || s.Build > s.Phase {
		return Trace{}, fmt.Errorf("interop: schedule %q: Build %v: want 0 to Phase (%v)", s.Name, s.Build, s.Phase)
	}
	var target *Target
	var err error
	if s.Build == 0 {
		if target, err = start(ctx); err != nil {
			return Trace{}, err
		}
		defer target.Close()
	}
	second := time.Now()
	if whole := second.Truncate(time.Second); !whole.Equal(second) {
		second = whole.Add(time.Second)
	}
	built := second
	if s.Build > 0 {
		if err := ctxsleep.Sleep(ctx, time.Until(second.Add(s.Build))); err != nil {
			return Trace{}, err
		}
		built = time.Now()
		if target, err = start(ctx); err != nil {
			return Trace{}, err
		}
		defer target.Close()
	}
	rt := target.Transport()
	defer closeIdle(rt)

	t0 := second.Add(s.Phase)
	tr := Trace{Peer: name, Schedule: s.Name, Phase: Duration(s.Phase), Built: Duration(built.Sub(t0)),
		Requests: make([]Exchange, 0, len(s.Offsets))}
	for _, off := range s.Offsets {
		if err := ctxsleep.Sleep(ctx, time.Until(t0.Add(off))); err != nil {
			return tr, err
		}
		at := time.Since(t0)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.ItemURL(), nil)
		if err != nil {
			return tr, err
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return tr, fmt.Errorf("interop: %s at %v: %w", name, off, err)
		}
		resp.Body.Close()
		took := time.Since(t0) - at
		tr.Requests = append(tr.Requests, Exchange{At: Duration(at), Took: Duration(took), Status: resp.StatusCode,
			Headers: rateLimitHeaders(resp.Header)})
	}
	return tr, nil
}

// RecordPeer records a peer's answers to the schedule.
func RecordPeer(ctx context.Context, p Peer, s Schedule) (Trace, error) {
	return Record(ctx, p.Name(), p.Start, s)
}

func rateLimitHeaders(h http.Header) [][2]string {
	names := make([]string, 0, len(h))
	for name := range h {
		if IsRateLimitHeader(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	out := [][2]string{}
	for _, name := range names {
		for _, v := range h[name] {
			out = append(out, [2]string{name, v})
		}
	}
	return out
}

// Schedules are the suite's schedules: each crosses whole seconds at a different phase, with bursts above
// every per-second quota, paced requests above and below the rate, and lone probes after a pause.
func Schedules() []Schedule {
	return []Schedule{
		{Name: "burst", Phase: 300 * time.Millisecond, Offsets: concat(
			repeat(0, 60), // above every burst and window
			every(100*time.Millisecond, 10*time.Millisecond, 31), // 100/s for 0.3 s
			repeat(1200*time.Millisecond, 20),
			repeat(2500*time.Millisecond, 5),
		)},
		{Name: "paced", Phase: 700 * time.Millisecond, Build: 450 * time.Millisecond, Offsets: concat(
			every(0, 15*time.Millisecond, 150),                    // 66.7/s for 2.25 s
			every(2500*time.Millisecond, 40*time.Millisecond, 40), // 25/s for 1.6 s
		)},
		{Name: "probe", Phase: 50 * time.Millisecond, Offsets: concat(
			repeat(0, 12),
			[]time.Duration{100e6, 200e6, 500e6, 950e6, 1000e6, 1050e6, 1500e6, 2000e6, 3000e6},
			repeat(3100*time.Millisecond, 55),
			[]time.Duration{3150e6, 3500e6, 4000e6, 4100e6, 6000e6},
		)},
	}
}

func repeat(at time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = at
	}
	return out
}

func every(from, step time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = from + time.Duration(i)*step
	}
	return out
}

func concat(parts ...[]time.Duration) []time.Duration { return slices.Concat(parts...) }

// InMemory is a start function for Record and RunBatch-style use of any http.Handler: newHandler builds a
// fresh one (a mock server's, a library's) each time, served in memory.
func InMemory(newHandler func() (http.Handler, error)) func(context.Context) (*Target, error) {
	return func(context.Context) (*Target, error) {
		h, err := newHandler()
		if err != nil {
			return nil, err
		}
		return &Target{Handler: h}, nil
	}
}

// DiffTraces lists how got differs from want, request by request: a status or a header (name or bytes)
// that changed, a request missing or extra. The instants are compared too, so that two traces of the same
// schedule line up. Nil when they agree.
func DiffTraces(want, got Trace) []string {
	var diffs []string
	for i := range max(len(want.Requests), len(got.Requests)) {
		switch {
		case i >= len(got.Requests):
			diffs = append(diffs, fmt.Sprintf("request %d at %v: missing", i+1, time.Duration(want.Requests[i].At)))
			continue
		case i >= len(want.Requests):
			diffs = append(diffs, fmt.Sprintf("request %d at %v: extra", i+1, time.Duration(got.Requests[i].At)))
			continue
		}
		w, g := want.Requests[i], got.Requests[i]
		where := fmt.Sprintf("request %d at %v", i+1, time.Duration(w.At))
		if w.At != g.At {
			diffs = append(diffs, fmt.Sprintf("%s: sent at %v", where, time.Duration(g.At)))
		}
		if w.Status != g.Status {
			diffs = append(diffs, fmt.Sprintf("%s: status %d, want %d", where, g.Status, w.Status))
		}
		if !slices.Equal(w.Headers, g.Headers) {
			diffs = append(diffs, fmt.Sprintf("%s: headers %q, want %q", where, g.Headers, w.Headers))
		}
	}
	return diffs
}
