package ratekit

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBucketWithoutResetPacesAtItsMeasuredRate: Shopify's call limit, a leaky bucket of 40 leaking 2 a
// second, says only "used/40" and no reset. Each time the key comes back after Retry-After: 2.0 it finds 4
// units, spends them, and is refused on the 5th (15 of 115 answers refused, the pace right by accident).
// Remaining over those cycles shows the leak: once 10 units have been seen come back, an empty bucket waits
// for the next unit at that rate instead of sending a request to be refused.
func TestBucketWithoutResetPacesAtItsMeasuredRate(t *testing.T) {
	e := newEngine(t, &Transport{})
	calls := func(remaining int64) Quota { return Quota{Dimension: "requests", Limit: 40, Remaining: remaining} }
	now := t0
	used := int64(0)
	serve := func() {
		tk := e.send(now)
		used++
		e.answer(tk, now, http.StatusOK, time.Time{}, calls(40-used))
	}
	for used < 40 {
		serve() // the first burst
	}
	for range 3 {
		now = now.Add(2 * time.Second) // back after Retry-After: 2.0, 4 units leaked
		used -= 4
		for range 4 {
			serve()
		}
	}
	// 40 used, 0 remaining: the next unit leaks in half a second.
	a := e.decide(now)
	require.Equal(t, WaitQuota, a.reason, "%+v", a)
	assert.InDelta(t, 0.5, a.wait.Seconds(), 0.1)
}
