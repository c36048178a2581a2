package ratekit

import "sync"

// sfScratch is the space the IETF readers parse Structured Fields into: RateLimit-Policy and RateLimit
// (ietfPair), or a draft-3 limit list alone (draft3Limit, in policies). An sfField is 1.7 KB, nearly all of
// it the inline member and parameter buffers; declared on the stack, the two would be zeroed whole on every
// IETF response, about 8% of such a parse. A recycled one is not zeroed: parse resets the counts and
// overwrites what it reads.
type sfScratch struct {
	policies, state sfField
}

// sfScratches recycles sfScratch. A pooled one keeps the strings of the last header parsed into it until
// the next parse overwrites them or the pool drops it (within two garbage collections): a few small strings
// per P, which is cheaper than clearing them on every response. Spilled members are let go at once, so a
// hostile header's spill is not kept.
var sfScratches = sync.Pool{New: func() any { return new(sfScratch) }}

// getSFScratch returns an sfScratch; give it back with putSFScratch once its members are no longer used.
func getSFScratch() *sfScratch { return sfScratches.Get().(*sfScratch) }

// putSFScratch gives back an sfScratch of getSFScratch.
func putSFScratch(s *sfScratch) {
	s.policies.release()
	s.state.release()
	sfScratches.Put(s)
}

// release empties f for its next user, who may read it without parsing into it (ietfPair reads an absent
// RateLimit-Policy as an empty list), and drops the members and parameters that did not fit inline.
func (f *sfField) release() {
	f.nMembers, f.nParams = 0, 0
	f.moreMembers, f.moreParams = nil, nil
}
