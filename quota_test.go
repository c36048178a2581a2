package ratekit

import (
	"testing"
	"time"
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
			if got := c.obs.ResumeAt(); !got.Equal(c.want) {
				t.Errorf("ResumeAt = %s, want %s", fmtTime(got), fmtTime(c.want))
			}
			wantWait := time.Duration(0)
			if !c.want.IsZero() {
				wantWait = c.want.Sub(t0)
			}
			if got := c.obs.Wait(t0); got != wantWait {
				t.Errorf("Wait(t0) = %v, want %v", got, wantWait)
			}
			if got := c.obs.Wait(t0.Add(48 * time.Hour)); got != 0 {
				t.Errorf("Wait long after = %v, want 0", got)
			}
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
			if ok != c.ok || got != c.want {
				t.Errorf("Binding = %s, %v; want %s, %v", fmtQuota(got), ok, fmtQuota(c.want), c.ok)
			}
		})
	}
}

func TestQuotaAccessors(t *testing.T) {
	full := q("core", "requests", 5000, 4990, time.Hour, at(sec(90)))
	if full.Exhausted() || full.Used() != 10 {
		t.Errorf("Exhausted/Used = %v/%d", full.Exhausted(), full.Used())
	}
	if f, ok := full.UsedFraction(); !ok || f != 0.002 {
		t.Errorf("UsedFraction = %v, %v", f, ok)
	}
	if d := full.ResetIn(t0); d != 90*time.Second {
		t.Errorf("ResetIn = %v", d)
	}
	if s := full.String(); s != "core/requests 4990/5000 per 1h0m0s reset 2026-11-23T18:01:30Z" {
		t.Errorf("String = %q", s)
	}
	unknown := q("", "tokens", -1, -1, 0, none)
	if unknown.Exhausted() || unknown.Used() != -1 || unknown.ResetIn(t0) != 0 {
		t.Errorf("unknown quota: Exhausted %v Used %d ResetIn %v", unknown.Exhausted(), unknown.Used(), unknown.ResetIn(t0))
	}
	if _, ok := unknown.UsedFraction(); ok {
		t.Error("UsedFraction of an unknown quota reported ok")
	}
	if _, ok := q("", "requests", 0, 0, 0, none).UsedFraction(); ok {
		t.Error("UsedFraction with a zero limit reported ok")
	}
	if s := unknown.String(); s != "tokens ?/?" {
		t.Errorf("String = %q", s)
	}
}
