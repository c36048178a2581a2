package ratekit

import (
	"hash/maphash"
	"strings"
	"time"
)

// ietf reads the IETF RateLimit and RateLimit-Policy fields (and Jira's Beta-RateLimit twins).
func (r *reader) ietf(f *fields) {
	if len(f.ietfState)|len(f.ietfPolicy)|len(f.betaState)|len(f.betaPolicy) == 0 {
		return // most responses; small enough to inline, so they cost no call
	}
	r.ietfOf(f)
}

// ietfOf is ietf of fields present.
func (r *reader) ietfOf(f *fields) {
	separate := int64(-1) // the separate RateLimit-Limit of drafts up to 6, which a policy may describe
	if n, ok := minCount(f.rlLimit); ok && len(f.ietfState) == 0 {
		separate = n
	}
	r.ietfPair(f.ietfState, f.ietfPolicy, separate)
	r.ietfPair(f.betaState, f.betaPolicy, -1)
}

// ietfPair joins one RateLimit field to its RateLimit-Policy field.
//
// Draft 11 (and 8 to 10, with tokens for names): both are Lists of named items,
// `RateLimit-Policy: "minute";q=60;w=60` and `RateLimit: "minute";r=12;t=33`, joined by name only.
// Draft 7: RateLimit is a Dictionary `limit=100, remaining=50, reset=5` of the policy now in force, and
// RateLimit-Policy a List of unnamed limits `100;w=10, 1000;w=3600`.
//
// Drafts up to 6 sent the state as separate fields beside the same list of unnamed limits (express-rate-limit's
// draft-6: `RateLimit-Policy: 50;w=1` and `RateLimit-Limit: 50`): the limit equal to separate (the separate
// RateLimit-Limit; -1: none) is that quota's, and gives it its window (reader.separateWindow) instead of
// becoming a quota of its own.
//
// It is small enough to inline, so that a response without the fields (most) costs no call.
func (r *reader) ietfPair(stateLines, policyLines []string, separate int64) {
	if len(stateLines) == 0 && len(policyLines) == 0 {
		return
	}
	r.ietfPairOf(stateLines, policyLines, separate)
}

// ietfPairOf is ietfPair of fields present.
func (r *reader) ietfPairOf(stateLines, policyLines []string, separate int64) {
	scratch := getSFScratch() // recycled: not zeroed (sfv_scratch.go)
	defer putSFScratch(scratch)
	policies, state := &scratch.policies, &scratch.state
	if len(policyLines) > 0 && !policies.parseList(policyLines) {
		r.suspect("RateLimit-Policy", strings.Join(policyLines, ", "))
	}
	var joined joinedSet // which policies a state member named
	if len(stateLines) > 0 {
		switch {
		case state.parseList(stateLines):
			r.ietfNamedState(state, policies, &joined)
		case state.parseDictionary(stateLines):
			r.ietfDictionaryState(state, policies, &joined)
		default:
			r.suspect("RateLimit", strings.Join(stateLines, ", "))
		}
	}
	for i := range policies.len() {
		if joined.has(i) {
			continue
		}
		m := policies.member(i)
		if n, ok := m.val.integer(); ok && n == separate && separate >= 0 && r.separateWindow == 0 {
			if w := ietfWindow(policies, m); w > 0 {
				r.separateWindow = w
				continue
			}
		}
		r.add(r.ietfPolicy(policies, m))
	}
}

// ietfNamedState reads the members of a draft-8+ RateLimit list, each joined to the policy of its name.
func (r *reader) ietfNamedState(state, policies *sfField, joined *joinedSet) {
	var index policyIndex
	index.build(policies)
	for i := range state.len() {
		m := state.member(i)
		name, ok := m.val.name()
		if !ok {
			continue
		}
		rv, ok := state.param(m, "r")
		remaining, okR := rv.integer()
		if !ok || !okR || remaining < 0 {
			continue // r is required
		}
		q := unknownQuota(name, "")
		if j := index.find(policies, name); j >= 0 {
			q = r.ietfPolicy(policies, policies.member(j))
			joined.set(j)
		}
		q.Remaining = remaining
		if tv, ok := state.param(m, "t"); ok {
			q.Reset = r.ietfDelay(tv)
		}
		r.add(q)
	}
}

// ietfDictionaryState reads a draft-7 RateLimit dictionary; its limit picks the policy it belongs to.
func (r *reader) ietfDictionaryState(state, policies *sfField, joined *joinedSet) {
	q := unknownQuota("", "")
	if m, ok := state.lookup("limit"); ok {
		if n, ok := m.val.integer(); ok && n >= 0 {
			q.Limit = n
		}
	}
	if m, ok := state.lookup("remaining"); ok {
		if n, ok := m.val.integer(); ok && n >= 0 {
			q.Remaining = n
		}
	}
	if m, ok := state.lookup("reset"); ok {
		q.Reset = r.ietfDelay(m.val)
	}
	for j := range policies.len() {
		if n, ok := policies.member(j).val.integer(); ok && n == q.Limit && q.Limit >= 0 {
			q.Window = ietfWindow(policies, policies.member(j))
			joined.set(j)
			break
		}
	}
	r.add(q)
}

// ietfPolicy reads one RateLimit-Policy member: a named policy with q (quota), qu (unit), w (window), or a
// draft-7 unnamed limit with w. Unnamed limits other than the one in force are named after their
// serialization ("50;w=60"), so each stays a quota of its own.
func (r *reader) ietfPolicy(policies *sfField, m *sfMember) Quota {
	if n, ok := m.val.integer(); ok {
		q := unknownQuota("", "")
		if n >= 0 {
			q.Limit = n
		}
		q.Window = ietfWindow(policies, m)
		w := int64(-1)
		if q.Window > 0 {
			w = int64(q.Window / time.Second)
		}
		q.Policy = unnamedPolicyName(n, w)
		return q
	}
	name, _ := m.val.name()
	q := unknownQuota(name, "")
	if v, ok := policies.param(m, "q"); ok {
		if n, ok := v.integer(); ok && n >= 0 {
			q.Limit = n
		}
	}
	if v, ok := policies.param(m, "qu"); ok {
		if unit, ok := v.name(); ok && unit != "" {
			q.Dimension = unit
		}
	}
	q.Window = ietfWindow(policies, m)
	return q
}

// ietfWindow reads the w parameter (or window, in drafts before 4) in seconds.
func ietfWindow(f *sfField, m *sfMember) time.Duration {
	v, ok := f.param(m, "w")
	if !ok {
		v, ok = f.param(m, "window")
	}
	if !ok {
		return 0
	}
	milli, ok := v.number()
	if !ok || milli <= 0 || milli > maxAhead.Milliseconds() {
		return 0
	}
	return time.Duration(milli) * time.Millisecond
}

// ietfDelay reads a t (or reset) value: seconds until the quota is restored.
func (r *reader) ietfDelay(v sfValue) time.Time {
	milli, ok := v.number()
	if !ok {
		return time.Time{}
	}
	t, ok := r.c.afterSeconds(float64(milli) / 1000)
	if !ok {
		r.suspect("RateLimit", itoa(milli/1000))
	}
	return t
}

// policyIndex finds a RateLimit-Policy member by name. A few policies are scanned; more are hashed, so
// joining n state members to m policies costs O(n + m) name comparisons, not O(n * m), even for names that
// differ only in their last byte.
type policyIndex struct {
	hashed bool
	seed   maphash.Seed
	slots  [2 * maxSFMembers]uint8 // member index + 1, open addressing; 0 is empty
}

// policyScanMax is the number of policies below which a scan beats hashing.
const policyScanMax = 8

func (x *policyIndex) build(policies *sfField) {
	if policies.len() <= policyScanMax {
		return
	}
	x.hashed, x.seed = true, maphash.MakeSeed()
	for j := range policies.len() {
		name, ok := policies.member(j).val.name()
		if !ok {
			continue
		}
		for s := x.slot(name); ; s = (s + 1) % len(x.slots) {
			if x.slots[s] == 0 {
				x.slots[s] = uint8(j + 1)
				break
			}
			if other, _ := policies.member(int(x.slots[s]) - 1).val.name(); other == name {
				break // the first of two policies of one name wins, as in a scan
			}
		}
	}
}

func (x *policyIndex) slot(name string) int {
	return int(maphash.String(x.seed, name) % uint64(len(x.slots)))
}

// find returns the index of the first policy named name, or -1.
func (x *policyIndex) find(policies *sfField, name string) int {
	if !x.hashed {
		for j := range policies.len() {
			if pn, ok := policies.member(j).val.name(); ok && pn == name {
				return j
			}
		}
		return -1
	}
	for s := x.slot(name); x.slots[s] != 0; s = (s + 1) % len(x.slots) {
		j := int(x.slots[s]) - 1
		if pn, _ := policies.member(j).val.name(); pn == name {
			return j
		}
	}
	return -1
}

// joinedSet records which of a field's first 64 members were joined; a field with more members than that
// is not a real server's.
type joinedSet uint64

func (s *joinedSet) set(i int) {
	if i < 64 {
		*s |= 1 << i
	}
}

func (s joinedSet) has(i int) bool { return i < 64 && s&(1<<i) != 0 }
