package ratekit

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTokenCostIsLearntFromRemaining: with CostFunc nil, a request costs 0 tokens to the client, but the
// server's Remaining says what it cost. OpenAI's 200,000 tokens a minute at 20,009 a request (the body's
// max_tokens and prompt), reset "time until full": the first answer's prior and the fall between two answers
// charge 20,009 a request, and a paced client's answers (each fall mostly the refill since the last) do not
// pull the estimate down.
func TestTokenCostIsLearntFromRemaining(t *testing.T) {
	const limit, cost = 200_000, 20_009
	rate := float64(limit) / 60 // tokens a second
	tokens := func(remaining float64, now time.Time) Quota {
		full := time.Duration((limit - remaining) / rate * float64(time.Second))
		return Quota{Dimension: "tokens", Limit: limit, Remaining: int64(remaining), Reset: now.Add(full)}
	}
	e := newEngine(t, &Transport{})
	level := float64(limit)
	serve := func(now time.Time) {
		tk := e.send(now)
		level -= cost
		e.answer(tk, now, http.StatusOK, time.Time{}, tokens(level, now))
	}
	serve(t0)
	require.Len(t, e.k.buckets, 1)
	b := e.k.buckets[0]
	assert.Equal(t, int64(cost), e.k.learntCost(b), "the first answer's prior: what the full quota lacks")
	serve(t0)
	assert.Equal(t, int64(cost), e.k.learntCost(b), "the fall between two answers")
	for i := 2; i < 9; i++ {
		serve(t0)
	}
	// 19,919 remain: the 10th request waits for what the 10th lacks, not for nothing (it would go at once
	// at cost 0, and be refused).
	a := e.decide(t0)
	assert.Equal(t, WaitQuota, a.reason)
	assert.InDelta(t, float64(cost-int64(level))/rate, a.wait.Seconds(), 0.01)
	// Paced: one request each time the bucket holds its cost again; each answer's fall is the cost less
	// the refill since the last.
	now := t0
	for range 5 {
		now = now.Add(a.wait)
		level = min(level+rate*a.wait.Seconds(), limit)
		serve(now)
		a = e.decide(now)
	}
	assert.InDelta(t, cost, e.k.learntCost(b), cost*0.05, "the paced answers measure the refill model, not the cost")
}

// TestLearntCostIsBoundedByTheRequestsTheServerCounted: requests in flight at once reach the server in any
// order, so the fall between two answers covers between the requests answered since and those admitted since
// plus the ones that were in flight at the first: an interval, that bounds the estimate, and a measurement only
// when it is a point. 200,000 tokens, 20,009 a request, all at one instant (no refill).
func TestLearntCostIsBoundedByTheRequestsTheServerCounted(t *testing.T) {
	const limit, cost = 200_000, 20_009
	type step struct {
		send      bool  // admit the next request, else answer request n
		n         int   // which request (1-based, in the order admitted)
		remaining int64 // what its answer says
	}
	send := step{send: true}
	answer := func(n int, remaining int64) step { return step{n: n, remaining: remaining} }
	tests := []struct {
		name  string
		steps []step
		want  int64
	}{
		{"the first answer's prior",
			[]step{send, answer(1, limit-cost)}, cost},
		// Request 2 is still in flight when 3's answer shows one fall: 20,009 over one or two requests.
		{"a fall over a request still in flight",
			[]step{send, answer(1, limit-cost), send, send, answer(3, limit-2*cost)}, cost},
		// The server took 3 before 2, and 2's answer, first to arrive, shows both.
		{"a fall over a request sent later",
			[]step{send, answer(1, limit-cost), send, send, answer(2, limit-3*cost)}, cost},
		// The server took 1, 3, 4, then 2, whose answer came before 4's: 5's shows 2's cost and its own.
		{"a fall over a request sent earlier",
			[]step{send, answer(1, limit-cost), send, send, answer(3, limit-2*cost), send, answer(2, limit-4*cost),
				answer(4, limit-3*cost), send, answer(5, limit-5*cost)}, cost},
		// The quota was half spent before the batch: the prior overcharges, the first exact fall replaces it.
		{"an exact fall replaces the prior",
			[]step{send, answer(1, limit/2-cost), send, answer(2, limit/2-2*cost)}, cost},
		{"exact falls are averaged",
			[]step{send, answer(1, limit-cost), send, answer(2, limit-2*cost), send, answer(3, limit-2*cost-10_000)},
			17_006}, // 20,009 + 0.3 × (10,000 - 20,009)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, &Transport{})
			var sent []*ticket
			for _, s := range tt.steps {
				if s.send {
					sent = append(sent, e.send(t0))
					continue
				}
				require.Less(t, s.n-1, len(sent))
				e.answer(sent[s.n-1], t0, http.StatusOK, time.Time{},
					Quota{Dimension: "tokens", Limit: limit, Remaining: s.remaining, Reset: t0.Add(time.Minute)})
			}
			require.Len(t, e.k.buckets, 1)
			assert.Equal(t, tt.want, e.k.learntCost(e.k.buckets[0]))
		})
	}
}

// TestCostFuncIsNotSecondGuessed: a CostFunc's 0 is the caller's word: no cost is learnt.
func TestCostFuncIsNotSecondGuessed(t *testing.T) {
	e := newEngine(t, &Transport{CostFunc: DefaultCost})
	for i, remaining := range []int64{9000, 8000, 7000} {
		tk := e.send(ms(i))
		e.answer(tk, ms(i), http.StatusOK, time.Time{}, Quota{Dimension: "tokens", Limit: 10_000, Remaining: remaining, Reset: ms(60_000)})
	}
	require.Len(t, e.k.buckets, 1)
	assert.Zero(t, e.k.learntCost(e.k.buckets[0]))
	assert.Empty(t, e.k.meters)
}
