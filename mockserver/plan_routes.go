package mockserver

import (
	"fmt"
	"slices"
)

// Route-scoped rules (Rule.Routes): a tier whose rules name routes is split, once, into one tierPlan per route
// (and one for the requests that match none), each holding the rules that count that route's requests. The
// request path picks its route's plan with on, and the store sees only those rules.

// routeScope is what a route's plan keeps of its tier's plan.
type routeScope struct {
	index []int // the tier's index of each of the plan's rules
	width int   // how many rules the tier has
}

// on returns the plan of t for the requests of route (-1: none matched).
func (t *tierPlan) on(route int) *tierPlan {
	if t.byRoute == nil {
		return t
	}
	return &t.byRoute[route+1]
}

// ruleIndex is the tier's index of rule i of t (t may be a route's plan).
func (t *tierPlan) ruleIndex(i int) int {
	if t.scope.index == nil {
		return i
	}
	return t.scope.index[i]
}

// ruleCount is how many rules t's tier has (t may be a route's plan).
func (t *tierPlan) ruleCount() int {
	if t.scope.index == nil {
		return len(t.rules)
	}
	return t.scope.width
}

// scopeRoutes checks the Routes of tp's rules and, when one names routes, builds tp.byRoute. Every route, and
// the requests that match none, must be counted by at least one rule.
func (p *plan) scopeRoutes(field string, tp *tierPlan) error {
	labels := make([]string, 0, len(p.routes.routes)+1)
	labels = append(labels, otherRoute)
	for _, r := range p.routes.routes {
		labels = append(labels, r.Pattern)
	}
	scoped := false
	for j, r := range tp.rules {
		for k, pattern := range r.Routes {
			if !slices.Contains(labels, pattern) {
				return badValue(fmt.Sprintf("%s.Rules[%d].Routes[%d]", field, j, k), pattern, "route", labels)
			}
		}
		scoped = scoped || r.Routes != nil
	}
	if !scoped {
		return nil
	}
	tp.byRoute = make([]tierPlan, len(labels))
	for route, label := range labels {
		sub := tierPlan{name: tp.name, scope: routeScope{width: len(tp.rules)}}
		for j, r := range tp.rules {
			if r.Routes != nil && !slices.Contains(r.Routes, label) {
				continue
			}
			sub.rules = append(sub.rules, r)
			sub.capacity = append(sub.capacity, tp.capacity[j])
			sub.dim = append(sub.dim, tp.dim[j])
			sub.offsets = append(sub.offsets, tp.offsets[j])
			sub.scope.index = append(sub.scope.index, j)
			sub.hasConcurrency = sub.hasConcurrency || r.Algorithm == Concurrency
		}
		if len(sub.rules) == 0 {
			what := fmt.Sprintf("the requests of route %q", label)
			if route == 0 {
				what = fmt.Sprintf("the requests that match no route (%q)", otherRoute)
			}
			return badField(field+".Rules", "", "tier %q has no rule for %s: list it in a rule's Routes, or add a rule without Routes", tp.name, what)
		}
		tp.byRoute[route] = sub
	}
	return nil
}
