package ratekit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestObservationResumeAtAndWait(t *testing.T) {
	for _, c := range []struct {
		name string
		obs  Observation
		want time.Time
	}{
		{"nothing said", Observation{}, none},
		{"RetryAt wins over any reset", Observation{RetryAt: at(sec(5)), Quotas: []Quota{q("", "requests", 10, 0, 0, at(sec(60)))}}, at(sec(5))},
		{"exhausted quota: its reset", Observation{Quotas: []Quota{q("", "requests", 10, 0, 0, at(sec(60)))}}, at(sec(60))},
		{"the binding quota is the exhausted one, not the first to reset", Observation{Quotas: []Quota{
			q("minute", "requests", 60, 5, 0, at(sec(10))),
			q("day", "requests", 1000, 0, 0, at(time.Hour)),
		}}, at(time.Hour)},
		{"several exhausted: the latest reset", Observation{Quotas: []Quota{
			q("", "requests", 60, 0, 0, at(sec(10))),
			q("", "tokens", 1000, 0, 0, at(sec(30))),
		}}, at(sec(30))},
		{"exhausted without a reset: no wait to report", Observation{Quotas: []Quota{q("", "requests", 10, 0, 0, none)}}, none},
		{"not exhausted: no wait", Observation{Quotas: []Quota{q("", "requests", 10, 3, 0, at(sec(60)))}}, none},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.obs.ResumeAt()
			assert.True(t, got.Equal(c.want), "ResumeAt = %s, want %s", fmtTime(got), fmtTime(c.want))
			wantWait := time.Duration(0)
			if !c.want.IsZero() {
				wantWait = c.want.Sub(t0)
			}
			assert.Equal(t, wantWait, c.obs.Wait(t0), "Wait(t0)")
			assert.Zero(t, c.obs.Wait(t0.Add(48*time.Hour)), "Wait long after")
		})
	}
}

func TestObservationBinding(t *testing.T) {
	minute := q("minute", "requests", 60, 30, 0, at(sec(10)))
	day := q("day", "requests", 1000, 100, 0, at(time.Hour))
	tokens := q("", "tokens", -1, 5, 0, none)
	exhaustedEarly := q("a", "requests", 10, 0, 0, at(sec(1)))
	exhaustedLate := q("b", "requests", 10, 0, 0, at(sec(9)))
	for _, c := range []struct {
		name   string
		quotas []Quota
		want   Quota
		ok     bool
	}{
		{"none", nil, Quota{}, false},
		{"nothing remaining known", []Quota{q("p", "requests", 5, -1, 0, none)}, Quota{}, false},
		{"largest used fraction", []Quota{minute, day}, day, true},
		{"a known fraction beats an unknown one", []Quota{tokens, minute}, minute, true},
		{"exhausted beats any fraction", []Quota{day, exhaustedEarly}, exhaustedEarly, true},
		{"of the exhausted, the latest reset", []Quota{exhaustedEarly, exhaustedLate}, exhaustedLate, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Observation{Quotas: c.quotas}.Binding()
			assert.Equal(t, c.ok, ok, "Binding's ok")
			assert.Equal(t, c.want, got, "Binding = %s, want %s", fmtQuota(got), fmtQuota(c.want))
		})
	}
}

func TestQuotaAccessors(t *testing.T) {
	full := q("core", "requests", 5000, 4990, time.Hour, at(sec(90)))
	assert.False(t, full.Exhausted())
	assert.Equal(t, int64(10), full.Used())
	f, ok := full.UsedFraction()
	assert.True(t, ok)
	assert.Equal(t, 0.002, f)
	assert.Equal(t, 90*time.Second, full.ResetIn(t0))
	assert.Equal(t, "core/requests 4990/5000 per 1h0m0s reset 2026-11-23T18:01:30Z", full.String())
	unknown := q("", "tokens", -1, -1, 0, none)
	assert.False(t, unknown.Exhausted())
	assert.Equal(t, int64(-1), unknown.Used())
	assert.Zero(t, unknown.ResetIn(t0))
	_, ok = unknown.UsedFraction()
	assert.False(t, ok, "UsedFraction of an unknown quota")
	_, ok = q("", "requests", 0, 0, 0, none).UsedFraction()
	assert.False(t, ok, "UsedFraction with a zero limit")
	assert.Equal(t, "tokens ?/?", unknown.String())
}
