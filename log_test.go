package ratekit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPassLog: the log of the key's passes at fixed instants.
func TestPassLog(t *testing.T) {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// ten passes sent at 0, 10, ..., 90 ms, each answered 5 ms later
	tenPasses := func() *passLog {
		var l passLog
		for i := range 10 {
			l.add(at(10*i), at(10*i+5), 10)
		}
		return &l
	}
	for _, tc := range []struct {
		name  string
		check func(t *testing.T, l *passLog)
	}{
		{"full: the first frees a window after its answer", func(t *testing.T, l *passLog) {
			assert.WithinDuration(t, at(1005).Add(turnoverMargin), l.frees(1, time.Second, at(500)), 0)
		}},
		{"the third request needs the third oldest gone", func(t *testing.T, l *passLog) {
			assert.WithinDuration(t, at(1025).Add(turnoverMargin), l.frees(3, time.Second, at(500)), 0)
		}},
		{"once they have left, now", func(t *testing.T, l *passLog) {
			assert.WithinDuration(t, at(1100), l.frees(10, time.Second, at(1100)), 0)
		}},
		{"more than the limit at once is the server's to judge", func(t *testing.T, l *passLog) {
			assert.WithinDuration(t, at(500), l.frees(11, time.Second, at(500)), 0)
		}},
		{"held: between those sent and those answered less than a window before", func(t *testing.T, l *passLog) {
			lo, hi := l.held(at(1003), time.Second)
			assert.Equal(t, 9, lo, "sent after 3 ms")
			assert.Equal(t, 10, hi, "answered after 3 ms")
		}},
		{"held counts only passes sent before the request", func(t *testing.T, l *passLog) {
			lo, hi := l.held(at(45), time.Second)
			assert.Equal(t, 5, lo)
			assert.Equal(t, 5, hi)
		}},
		{"trimmed to the limit past twice it", func(t *testing.T, l *passLog) {
			for i := range 10 {
				l.add(at(100+10*i), at(105+10*i), 10)
			}
			assert.Len(t, l.entries, 10)
			assert.Equal(t, at(100).UnixNano(), l.entries[0].sent)
		}},
		{"no log of a limit above maxLogEntries", func(t *testing.T, l *passLog) {
			l.add(at(200), at(205), maxLogEntries+1)
			assert.Empty(t, l.entries)
			assert.Zero(t, l.limit)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, tenPasses()) })
	}
}

// TestNoteLog: where an answer after a window turned over shows the log model, and where it does not.
func TestNoteLog(t *testing.T) {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	fixed := func() *bucket {
		b := &bucket{limit: 10, remaining: 0, mode: modeFixed, span: 2 * time.Second}
		for i := range 10 {
			b.notePass(at(300+10*i), at(305+10*i))
		}
		return b
	}
	q := func(remaining int64) Quota { return Quota{Limit: 10, Remaining: remaining} }
	for _, tc := range []struct {
		name      string
		remaining int64
		sent      int // ms
		shared    bool
		want      bucketMode
		wantW     time.Duration
	}{
		// at 1.335 s, the passes sent at 0.34-0.39 s are less than a second old: 6 held, and 1 for this one
		{"the log holds the key's passes of the last second", 3, 1335, false, modeLog, time.Second},
		{"a window that opened whole", 9, 1335, false, modeFixed, 0},
		{"more held than the key passed: another client", 0, 1335, false, modeFixed, 0},
		{"a quota shared through a Limiter", 3, 1335, true, modeFixed, 0},
		{"sent before the window was taken to turn over", 3, 999, false, modeFixed, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := fixed()
			b.noteLog(q(tc.remaining), at(1000), at(tc.sent), 1, tc.shared)
			assert.Equal(t, tc.want, b.mode)
			assert.Equal(t, tc.wantW, b.logW)
		})
	}
}

// TestLogModel: a bucket on the log model admits while fewer than the limit of its passes are a window
// old, waits for the one that must leave, and two refusals of requests it let through refute it.
func TestLogModel(t *testing.T) {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	b := &bucket{limit: 10, remaining: 0, mode: modeLog, logW: time.Second}
	for i := range 10 {
		b.notePass(at(10*i), at(10*i+5))
	}
	assert.Zero(t, b.available(at(500)), "all ten a window old only after 1.005 s")
	wait, ok := b.wait(1, at(500))
	require.True(t, ok)
	assert.Equal(t, at(1005).Add(turnoverMargin).Sub(at(500)), wait)
	assert.InDelta(t, 3, b.available(at(1030)), 1e-9, "three left by 1.03 s")
	b.take(1, 1, at(1030))
	assert.InDelta(t, 2, b.available(at(1030)), 1e-9, "one in flight")

	b.missLog()
	assert.Equal(t, modeLog, b.mode, "one refusal can be the server's order of requests in flight")
	b.missLog()
	assert.Equal(t, modeFixed, b.mode)
	assert.True(t, b.notLog)
}

// TestLogResume: after a refusal, the key resumes where its log model frees the request, instead of at a
// Retry-After in whole seconds that rounds that instant up, or truncates it to 0.
func TestLogResume(t *testing.T) {
	now := t0.Add(400 * time.Millisecond)
	free := t0.Add(1005 * time.Millisecond)
	for _, tc := range []struct {
		name      string
		free      time.Time
		exhausted int
		retryAt   time.Time
		want      bool
	}{
		{"a Retry-After of 1 rounds up", free, 1, now.Add(time.Second), true},
		{"a Retry-After of 0 truncates", free, 1, now, true},
		{"a Retry-After of 0, the log more than a second off", now.Add(1500 * time.Millisecond), 1, now, false},
		{"the log frees later than the server says", free, 1, now.Add(500 * time.Millisecond), false},
		{"a Retry-After with a fraction says when", free, 1, now.Add(900 * time.Millisecond), false},
		{"two quotas exhausted", free, 2, now.Add(time.Second), false},
		{"no log model", time.Time{}, 1, now.Add(time.Second), false},
		{"no Retry-After", free, 1, time.Time{}, false},
		{"the log frees now: the refusal refutes it", now, 1, now.Add(time.Second), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, logResume(tc.free, tc.exhausted, tc.retryAt, now))
		})
	}
}
