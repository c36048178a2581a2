package mockserver

// reportedBinding is the rule that the dialects report among the rules of dimension dim (-1: all): the binding
// rule among those that are not secondary (Rule.Secondary), as GitHub's headers tell of the primary quota
// whatever secondary limit rejected a request; the binding rule of all when every one is secondary; -1 when no
// rule counts dim.
func (v *quotaView) reportedBinding(dim int) int {
	best := -1
	for i := range v.decisions {
		if dim >= 0 && v.dimOf[i] != dim || v.rules[i].Secondary {
			continue
		}
		if best < 0 || v.binds(i, best) {
			best = i
		}
	}
	if best < 0 {
		return v.binding(dim)
	}
	return best
}
