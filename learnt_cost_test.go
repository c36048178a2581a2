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
// max_tokens and prompt), reset "time until full": after two answers the key charges 20,009 a request, and
// a paced client's answers (each fall mostly the refill since the last) do not pull the estimate down.
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
	assert.Zero(t, e.k.learntCost(b), "one answer shows no fall")
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
