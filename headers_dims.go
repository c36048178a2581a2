package ratekit

import (
	"strings"
	"time"
)

// dimensions reads the groups of fields found by the form or the structure of their names:
//   - OpenAI and Groq: x-ratelimit-{limit,remaining,reset}-{requests,tokens,...}, resets as Go durations
//     ("6m0s", "12ms"); the set of dimensions is open ("tokens_usage_based").
//   - Azure OpenAI: the same names with sentinels: -1 means unknown, and so does a limit of 0.
//   - Cerebras: x-ratelimit-{limit,remaining,reset}-{requests,tokens}-{day,minute}, resets as bare float
//     seconds; the period becomes the policy and its window. Kong: x-ratelimit-{limit,remaining}-minute.
//   - Anthropic: anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset},
//     resets as RFC 3339 times (which can be a second before Date: clamped to now), and anthropic-priority-*
//     for the priority tier (policy "priority").
//   - Names recognised by their structure (names.go), read by what their values carry (groups.go).
func (r *reader) dimensions(g *groups) {
	for i := 0; i < g.n; i++ {
		d := &g.d[i]
		if d.family == familyStructural {
			r.structuralGroup(d)
			continue
		}
		q := unknownQuota(d.policy, d.dimension)
		q.Window = d.window
		if n, ok := minCount(d.limit); ok && (n > 0 || d.family == familyAnthropic) {
			q.Limit = n
		}
		if n, ok := minCount(d.remaining); ok {
			q.Remaining = n
		}
		q.Reset = r.dimensionReset(d)
		r.add(q)
	}
}

func (r *reader) dimensionReset(d *dimFields) time.Time {
	if d.family == familyAnthropic {
		return r.reset(d.resetFieldName, d.reset, ResetAuto)
	}
	var latest time.Time
	for _, v := range d.reset {
		if strings.ContainsAny(v, "hmnsµu") {
			t, ok := r.durationAfter(v)
			if !ok {
				r.suspect(d.resetFieldName, v)
			} else if t.After(latest) {
				latest = t
			}
			continue
		}
		if t := r.reset(d.resetFieldName, []string{v}, r.p.ResetFormat); t.After(latest) {
			latest = t
		}
	}
	return latest
}
