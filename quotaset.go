package ratekit

import (
	"strings"
	"time"
)

// A key's quotas are learnt per resource. A server that names its quotas (GitHub's x-ratelimit-resource,
// IETF policy names) may answer different routes from different quotas: /search from "search" (30 a
// minute), the rest from "core" (5000 an hour). A request is charged only to the quotas it is known or
// likely to hit: a quota without a name (the server's one quota), or one that answers the request's route,
// or, for a route no quota has answered yet, every quota. Quotas that no answer has reported for a while
// are dropped, and a key holds at most maxKeyQuotas, whatever the server names.

// maxKeyQuotas is the most quotas a key holds: beyond it, the one reported longest ago is dropped.
const maxKeyQuotas = 32

// maxRoutesPerQuota is how many routes a quota remembers answering.
const maxRoutesPerQuota = 16

// routeOf is the route group of a request path: its first segment ("/search/issues" -> "search"), without
// allocating.
func routeOf(path string) string {
	path = strings.TrimPrefix(path, "/")
	if i := strings.IndexByte(path, '/'); i >= 0 {
		path = path[:i]
	}
	return path
}

// hits reports whether a request on route is known or likely to count against bucket b. Requires mu held.
func (k *keyState) hits(b *bucket, route string) bool {
	if b.policy == "" || len(b.routes) == 0 {
		return true
	}
	for _, r := range b.routes {
		if r == route {
			return true
		}
	}
	for _, o := range k.buckets {
		for _, r := range o.routes {
			if r == route {
				return false // another quota answers this route
			}
		}
	}
	return true // a route no quota has answered yet: it may hit any
}

// answers records that b answered a request on route. Requires mu held.
func (b *bucket) answers(route string) {
	for _, r := range b.routes {
		if r == route {
			return
		}
	}
	if len(b.routes) < maxRoutesPerQuota {
		b.routes = append(b.routes, route)
	}
}

// dropStale forgets the named quotas no answer has reported for long (twice the longest reset it ever
// reported, and at least a minute, since its last report, its reset passed), and the quotas reported
// longest ago beyond maxKeyQuotas. Requires mu held.
func (k *keyState) dropStale(now time.Time) {
	kept := k.buckets[:0]
	for _, b := range k.buckets {
		stale := b.policy != "" && now.Sub(b.observed) > max(2*b.longest, time.Minute) && !now.Before(b.reset)
		if !stale {
			kept = append(kept, b)
		}
	}
	for len(kept) > maxKeyQuotas {
		oldest := 0
		for i, b := range kept {
			if b.observed.Before(kept[oldest].observed) {
				oldest = i
			}
		}
		kept = append(kept[:oldest], kept[oldest+1:]...)
	}
	if len(kept) != len(k.buckets) {
		for i := len(kept); i < len(k.buckets); i++ {
			k.buckets[i] = nil
		}
		k.buckets = kept
		k.publishDimensions()
	}
}
