package ratekit

import (
	"net/http"
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
	var c candidates
	if !c.scan(h) {
		return Observation{} // most responses: no buffer zeroed
	}
	return p.parseCandidates(h, received, &c)
}

// parseCandidates is the rest of Parse once the scan found candidates. It is a function of its own so that
// its buffer is zeroed only then.
//
//go:noinline
func (p *Parser) parseCandidates(h http.Header, received time.Time, c *candidates) Observation {
	var buf quotaBuf
	retryAt, inline := p.parse(&buf, h, received, c)
	qs := buf.spill // more quotas than fit inline: already on the heap, and no one else's
	if qs == nil && len(inline) > 0 {
		qs = make([]Quota, len(inline)) // the one allocation: the caller keeps the quotas
		copy(qs, inline)
	}
	return Observation{RetryAt: retryAt, Quotas: qs}
}

// inlineQuotas is how many quotas the Transport's path keeps without a heap allocation: real servers send
// one or two (four for Anthropic, eight with its priority tier, which then allocates).
const inlineQuotas = 4

// quotaBuf is the caller-owned storage of parse's quotas: inline while they fit, then in spill.
type quotaBuf struct {
	inline [inlineQuotas]Quota
	n      int     // quotas in inline
	spill  []Quota // every quota, once more than fit inline
}

// all returns the quotas recorded so far.
func (b *quotaBuf) all() []Quota {
	if b.spill != nil {
		return b.spill
	}
	return b.inline[:b.n]
}

// push records q: inline while it fits, then in spill.
func (b *quotaBuf) push(q Quota) {
	if b.spill == nil && b.n < len(b.inline) {
		b.inline[b.n] = q
		b.n++
		return
	}
	if b.spill == nil {
		b.spill = make([]Quota, b.n, maxQuotas)
		copy(b.spill, b.inline[:b.n])
	}
	b.spill = append(b.spill, q)
}

// quotaBufs recycles the Transport's quota buffers. A buffer on the Transport's stack would do, but the
// Transport hands the Observation to code that keeps times from it, and escape analysis, which does not
// tell a struct's fields apart, would then move the buffer to the heap on every request.
var quotaBufs = sync.Pool{New: func() any { return new(quotaBuf) }}

// parsePooled is Parse for the Transport: the quotas go in a pooled buffer, taken only when the response
// has a rate-limit field (most have none and touch no pool). The caller gives buf back with putQuotaBuf once
// the quotas are no longer used; buf is nil when there is nothing to give back.
func (p *Parser) parsePooled(h http.Header, received time.Time) (retryAt time.Time, qs []Quota, buf *quotaBuf) {
	var c candidates
	if !c.scan(h) {
		return time.Time{}, nil, nil
	}
	buf = quotaBufs.Get().(*quotaBuf)
	retryAt, qs = p.parse(buf, h, received, &c)
	return retryAt, qs, buf
}

// putQuotaBuf gives back a buffer of parsePooled whose quotas, qs, are no longer used.
func putQuotaBuf(buf *quotaBuf, qs []Quota) {
	clear(buf.inline[:min(len(qs), len(buf.inline))]) // drop the references to the response's strings; the rest is unused
	buf.n, buf.spill = 0, nil
	quotaBufs.Put(buf)
}

// candidates are the fields of a header whose names may be rate-limit fields, found in the one pass over
// the header.
type candidates struct {
	c    [maxCandidates]candidate
	n    int
	more bool // more candidates than fit, or two spellings of Date: parse reads the whole header again
	date []string
}

// scan is the one pass over the header: a gate on each name (limitish), keeping the few that may be
// rate-limit fields. It reports whether there is any. Most responses have none and end here.
func (c *candidates) scan(h http.Header) bool {
	for name, lines := range h {
		switch {
		case len(name) == len("date"):
			if isDate(name) {
				if c.date != nil {
					c.more = true // two spellings of Date: the slow path merges them
				}
				c.date = lines
			}
		case limitish(name):
			if c.n < len(c.c) {
				cand := &c.c[c.n]
				cand.name, cand.lines = name, lines
				c.n++
			} else {
				c.more = true
			}
		}
	}
	return c.n > 0
}

// parse reads the candidates. Fields in the canonical form of the common dialects (Retry-After, the IETF
// fields, X-RateLimit-*) are read with fields alone; any other name, or more candidates than fit, takes
// parseTable, which adds the table of groups.
func (p *Parser) parse(buf *quotaBuf, h http.Header, received time.Time, c *candidates) (time.Time, []Quota) {
	var f fields
	if c.more {
		return p.parseTable(buf, h, received, &f, nil)
	}
	f.date = c.date
	n := 0 // the candidates no canonical name matched, moved to the front; by index, not copied per turn
	for i := range c.n {
		cand := &c.c[i]
		if dst := f.canonical(cand.name); dst != nil {
			f.set(dst, cand.lines)
		} else {
			c.c[n] = *cand
			n++
		}
	}
	if n > 0 {
		return p.parseTable(buf, h, received, &f, c.c[:n])
	}
	return p.read(buf, &f, nil, received)
}

// parseTable is parse with the table of groups: it adds the candidates rest to f, or, when rest is nil,
// every rate-limit field of the whole header. It is a function of its own so that the table is zeroed
// only on this path.
//
//go:noinline
func (p *Parser) parseTable(buf *quotaBuf, h http.Header, received time.Time, f *fields, rest []candidate) (time.Time, []Quota) {
	var g groups
	if rest == nil {
		for name, lines := range h {
			if isDate(name) || limitish(name) {
				f.add(&g, name, lines)
			}
		}
	}
	for _, cand := range rest {
		f.add(&g, cand.name, cand.lines)
	}
	return p.read(buf, f, &g, received)
}

// read turns the collected fields and groups (nil when parse needed none) into the Observation's RetryAt
// and Quotas, the quotas in buf while they fit.
func (p *Parser) read(buf *quotaBuf, f *fields, g *groups, received time.Time) (time.Time, []Quota) {
	if !f.found {
		return time.Time{}, nil
	}
	c := clock{received: received, date: f.date}
	r := reader{p: *p, c: &c, out: buf}
	retryAt := r.retryAfter(f)
	r.ietf(f)
	r.ietfSeparate(f)
	r.xRateLimit(f)
	if g != nil {
		g.sort()
		r.dimensions(g)
	}
	r.shopify(f)
	r.finish()
	if qs := buf.all(); len(qs) > 0 { // buf, not r.out: see reader
		return retryAt, qs
	}
	return retryAt, nil
}

// reader turns collected fields into quotas, written in place in the caller's buffer out: a buffer of the
// reader's own, copied out at the end, cost a zeroing and a copy of 320 bytes per response. Escape
// analysis, which does not tell a struct's fields apart, keeps out (the caller's stack buffer, for
// ParseHeaders) and the clock off the heap only while no pointer held in the reader itself flows to the
// heap or to a result: so the clock, whose time's location goes into every quota, is held by pointer,
// the spilled quotas live in out, and read returns its caller's buffer, not r.out.
type reader struct {
	p   Parser
	c   *clock
	out *quotaBuf
	// separateWindow is the window RateLimit-Policy gives the separate RateLimit-Limit of drafts up to 6
	// (express-rate-limit's draft-6: `RateLimit-Policy: 50;w=1` beside `RateLimit-Limit: 50`)
	separateWindow time.Duration
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
	all := r.out.all()
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
		r.out.push(q)
	}
}

// finish sorts the recorded quotas by policy and dimension and clamps Remaining to Limit.
func (r *reader) finish() {
	qs := r.out.all()
	for i := range qs {
		if qs[i].Limit >= 0 && qs[i].Remaining > qs[i].Limit {
			qs[i].Remaining = qs[i].Limit
		}
	}
	// An insertion sort: at most maxQuotas quotas, most often two, for which slices.SortFunc's setup and
	// indirect calls cost more than the sort. add merges quotas of one policy and dimension, so no two
	// compare equal and every correct sort gives this order.
	for i := 1; i < len(qs); i++ {
		for j := i; j > 0 && quotaBefore(&qs[j], &qs[j-1]); j-- {
			qs[j], qs[j-1] = qs[j-1], qs[j]
		}
	}
}

// quotaBefore reports whether a sorts before b: by policy, then dimension.
func quotaBefore(a, b *Quota) bool {
	if a.Policy != b.Policy {
		return a.Policy < b.Policy
	}
	return a.Dimension < b.Dimension
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
