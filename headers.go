package ratekit

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// ParseHeaders reads every rate-limit signal in a response's header into one Observation, in local time.
// received is when the response arrived; absolute times in the header are converted to local time through
// the Date header, so a server whose clock runs ahead or behind does not skew the waits.
//
// It understands Retry-After (seconds, decimals, all three HTTP-date forms, merged values, merged dates),
// retry-after-ms and x-ms-retry-after-ms (preferred), Traefik's X-Retry-In, the IETF RateLimit and
// RateLimit-Policy fields of draft 11 and the older drafts (dictionary, separate fields, policies inside the
// limit, Beta- prefixes), X-RateLimit-* and its look-alikes (GitHub, GitLab, X/Twitter, Okta, Discord,
// Reddit, Mastodon, Jira, OpenRouter, Shopify, Heroku, WHOOP and Envoy's limits with windows, tollbooth's
// X-Rate-Limit-Duration, Zendesk, Kong), the multi-dimension headers of AI APIs (OpenAI, Groq, Azure,
// Cerebras, Anthropic), and any other field it can recognise by the structure of its name: a limit word, a
// field word, and words for the scope, dimension and period in either order (X API v2's 24-hour app and
// user limits, HubSpot, HighLevel, Azure Resource Manager, Xero, Salesforce's Sforce-Limit-Info,
// Confluence). Such fields are read by the units their values carry or their names state; a number whose
// unit is unknown (a bare "17" in a reset field of an unknown API) is left out, never guessed.
//
// A malformed or implausible value is ignored, never an error: no header makes ParseHeaders panic, report a
// negative wait, or a wait beyond 40 days. Its time is linear in the size of the header whatever the input:
// a Structured Field (RateLimit, RateLimit-Policy, a draft-03 limit) of more than 64 members or 256
// parameters is ignored as a whole, at most 16 spellings of one name in different cases are merged, and at
// most 16 quotas are reported. Reset fields whose unit the header family leaves open are
// classified as ResetAuto describes; use a Parser to pin the unit for a server no rule can classify.
func ParseHeaders(h http.Header, received time.Time) Observation {
	var p Parser
	return p.Parse(h, received)
}

// Parser reads rate-limit headers like ParseHeaders, with options. The zero value is ready to use and
// behaves exactly like ParseHeaders. A Parser is safe for concurrent use if Suspect is.
type Parser struct {
	// ResetFormat pins how reset values of undefined unit are read (X-RateLimit-Reset, RateLimit-Reset,
	// X-Rate-Limit-Reset and the bare-number resets of the multi-dimension headers). Zero: ResetAuto.
	ResetFormat ResetFormat
	// Suspect, when set, is called with the field name and value of every retry or reset value that was
	// ignored: malformed, or implausible (a reset more than a minute in the past, or any time more than 40
	// days ahead). It helps to pin ResetFormat for a server whose resets are misread.
	Suspect func(field, value string)
}

// Parse reads h as ParseHeaders does, with p's options.
func (p *Parser) Parse(h http.Header, received time.Time) Observation {
	var buf quotaBuf
	retryAt, inline := p.parseInto(&buf, h, received)
	var qs []Quota
	if len(inline) > 0 {
		qs = slices.Clone(inline) // the one allocation: the caller keeps the quotas
	}
	return Observation{RetryAt: retryAt, Quotas: qs}
}

// inlineQuotas is how many quotas the Transport's path keeps without a heap allocation: real servers send
// one or two (four for Anthropic, eight with its priority tier, which then allocates).
const inlineQuotas = 4

// quotaBuf is the caller-owned storage of parseInto's quotas.
type quotaBuf [inlineQuotas]Quota

// quotaBufs recycles the Transport's quota buffers. A buffer on the Transport's stack would do, but the
// Transport hands the Observation to code that keeps times from it, and escape analysis, which does not
// tell a struct's fields apart, would then move the buffer to the heap on every request.
var quotaBufs = sync.Pool{New: func() any { return new(quotaBuf) }}

// getQuotaBuf returns an empty quota buffer; putQuotaBuf gives it back once its quotas are no longer used.
func getQuotaBuf() *quotaBuf { return quotaBufs.Get().(*quotaBuf) }

func putQuotaBuf(b *quotaBuf) {
	*b = quotaBuf{} // drop the references to the response's strings
	quotaBufs.Put(b)
}

// parseInto is Parse for the Transport: it returns the Observation's RetryAt and Quotas, the quotas in buf
// (or on the heap when more than fit), so a caller that keeps buf on its stack reads a response without a
// heap allocation. They are valid until the caller reuses buf. (Two results, not an Observation, so that
// escape analysis keeps buf on the caller's stack.)
func (p *Parser) parseInto(buf *quotaBuf, h http.Header, received time.Time) (time.Time, []Quota) {
	// The one pass over the header: a byte loop over each name, keeping the few that may be rate-limit
	// fields. Most responses have none and end here.
	var c [maxCandidates]candidate
	n, more := 0, false
	var date []string
	for name, lines := range h {
		switch {
		case isDate(name):
			if date != nil {
				more = true // two spellings of Date: the slow path merges them
			}
			date = lines
		case limitish(name):
			if n < len(c) {
				c[n] = candidate{name, lines}
				n++
			} else {
				more = true
			}
		}
	}
	if n == 0 {
		return time.Time{}, nil
	}
	return p.parse(buf, h, received, c[:n], more, date)
}

// parse reads the candidates; when there were more than fit inline, it reads the whole header again.
func (p *Parser) parse(buf *quotaBuf, h http.Header, received time.Time, c []candidate, more bool, date []string) (time.Time, []Quota) {
	var f fields
	if more {
		for name, lines := range h {
			if isDate(name) || limitish(name) {
				f.add(name, lines)
			}
		}
	} else {
		f.date = date
		for i := range c {
			f.add(c[i].name, c[i].lines)
		}
	}
	if !f.found {
		return time.Time{}, nil
	}
	f.sortDims()
	r := reader{p: *p, c: clock{received: received, date: f.date}}
	retryAt := r.retryAfter(&f)
	r.ietf(&f)
	r.ietfSeparate(&f)
	r.xRateLimit(&f)
	r.dimensions(&f)
	r.shopify(&f)
	r.finish()
	switch {
	case r.spill != nil:
		return retryAt, r.spill
	case r.n > 0:
		return retryAt, buf[:copy(buf[:], r.inline[:r.n])]
	}
	return retryAt, nil
}

// reader turns collected fields into quotas: inline while they fit, then in spill. parse copies the
// inline ones into the caller's storage.
type reader struct {
	p      Parser
	c      clock
	inline quotaBuf
	n      int     // quotas in inline
	spill  []Quota // every quota, once more than fit inline
}

// all returns the quotas recorded so far.
func (r *reader) all() []Quota {
	if r.spill != nil {
		return r.spill
	}
	return r.inline[:r.n]
}

func (r *reader) push(q Quota) {
	if r.spill == nil && r.n < len(r.inline) {
		r.inline[r.n] = q
		r.n++
		return
	}
	if r.spill == nil {
		r.spill = make([]Quota, r.n, maxQuotas)
		copy(r.spill, r.inline[:r.n])
	}
	r.spill = append(r.spill, q)
}

// maxQuotas bounds the quotas one response can report. Real servers send at most eight (Anthropic with its
// priority tier); the bound keeps a hostile header from costing memory.
const maxQuotas = 16

// add records a quota. A quota with the same policy and dimension as one already recorded (a server that
// sends the IETF fields and X-RateLimit-* for the same limit, say) is merged into it conservatively: the
// first limit and window reported win, the smallest remaining and the latest reset.
func (r *reader) add(q Quota) {
	if q.Dimension == "" {
		q.Dimension = "requests"
	}
	if q.Limit < 0 && q.Remaining < 0 && q.Reset.IsZero() && q.Window == 0 {
		return // says nothing
	}
	all := r.all()
	for i := range all {
		old := &all[i]
		if old.Policy != q.Policy || old.Dimension != q.Dimension {
			continue
		}
		if old.Limit < 0 {
			old.Limit = q.Limit
		}
		if old.Window == 0 {
			old.Window = q.Window
		}
		if q.Remaining >= 0 && (old.Remaining < 0 || q.Remaining < old.Remaining) {
			old.Remaining = q.Remaining
		}
		if q.Reset.After(old.Reset) {
			old.Reset = q.Reset
		}
		return
	}
	if len(all) < maxQuotas {
		r.push(q)
	}
}

// finish sorts the recorded quotas by policy and dimension and clamps Remaining to Limit.
func (r *reader) finish() {
	qs := r.all()
	for i := range qs {
		if qs[i].Limit >= 0 && qs[i].Remaining > qs[i].Limit {
			qs[i].Remaining = qs[i].Limit
		}
	}
	if len(qs) > 1 {
		slices.SortFunc(qs, func(a, b Quota) int {
			if c := strings.Compare(a.Policy, b.Policy); c != 0 {
				return c
			}
			return strings.Compare(a.Dimension, b.Dimension)
		})
	}
}

// reset reads the field lines of a reset of undefined unit with the pinned format. Of several values the
// latest wins; ignored values are reported to the Suspect hook.
func (r *reader) reset(field string, lines []string, format ResetFormat) time.Time {
	var latest time.Time
	for _, v := range lines {
		t, ok := r.c.reset(v, format)
		if !ok {
			r.suspect(field, v)
			continue
		}
		if t.After(latest) {
			latest = t
		}
	}
	return latest
}

// suspect tells the Parser's Suspect hook about a value that was dropped, if it was a value at all.
func (r *reader) suspect(field, v string) {
	if r.p.Suspect != nil && trimOWS(v) != "" {
		r.p.Suspect(field, v)
	}
}

// unknownQuota is a Quota with nothing reported yet.
func unknownQuota(policy, dimension string) Quota {
	return Quota{Policy: policy, Dimension: dimension, Limit: -1, Remaining: -1}
}
