package ratekit

import "net/http"

// DefaultCost is what a request costs when Transport.CostFunc is nil: 1 in "requests" and in
// "concurrent-requests" (a slot while in flight), its body's length in "content-bytes" (the IETF unit),
// and 0 in any other dimension ("tokens": only the caller knows; with CostFunc nil, the Transport learns
// that cost from the server's answers instead).
func DefaultCost(req *http.Request, dimension string) int64 {
	return defaultCostOf(dimension, req.ContentLength)
}

func defaultCostOf(dimension string, contentLength int64) int64 {
	switch dimension {
	case "requests", "concurrent-requests":
		return 1
	case "content-bytes":
		return max(contentLength, 0)
	}
	return 0
}

// dimCost is a request's cost in one dimension.
type dimCost struct {
	dimension string
	cost      int64
}

// costs is a request's cost vector: its cost in every dimension its key knew when the attempt began,
// computed once per attempt, before the key's lock is taken, since CostFunc is user code (it may even call
// Snapshot). A dimension the key learnt meanwhile (the answer to the probe the request waited for names the
// token quotas) costs what DefaultCost says when CostFunc is nil; when it is set, the request is not admitted
// on such a vector: it asks CostFunc for the missing dimensions, outside the lock, and decides again
// (admission.recost), since a request of 1,000 tokens charged 0 overdraws the quota it is sent into.
type costs struct {
	n             int
	fixed         [4]dimCost
	more          []dimCost
	contentLength int64
	route         string // the request's route group, for the quotas it hits (quotaset.go)
	user          bool   // computed by Transport.CostFunc, which alone knows a dimension this vector lacks
}

// costsOf computes req's cost in "requests" and in each of dims.
func (s *settings) costsOf(req *http.Request, dims []string) costs {
	var c costs
	s.costsInto(&c, req, dims)
	return c
}

// costsInto is costsOf writing to c, a zero vector: the Transport computes the vector in its ticket, where
// admission would otherwise copy it (160 bytes) after costsOf returned it (another copy).
func (s *settings) costsInto(c *costs, req *http.Request, dims []string) {
	c.contentLength, c.route, c.user = req.ContentLength, routeOf(req.URL.Path), s.costFunc != nil
	c.add("requests", s.cost(req, "requests"))
	for _, d := range dims {
		if d != "requests" {
			c.add(d, s.cost(req, d))
		}
	}
}

func (c *costs) add(dimension string, cost int64) {
	if c.n < len(c.fixed) {
		c.fixed[c.n] = dimCost{dimension, cost}
	} else {
		c.more = append(c.more, dimCost{dimension, cost})
	}
	c.n++
}

// of is the cost in dimension.
func (c *costs) of(dimension string) int64 {
	for i := 0; i < c.n && i < len(c.fixed); i++ {
		if c.fixed[i].dimension == dimension {
			return c.fixed[i].cost
		}
	}
	for _, d := range c.more {
		if d.dimension == dimension {
			return d.cost
		}
	}
	return defaultCostOf(dimension, c.contentLength)
}

// requests is the cost in "requests".
func (c *costs) requests() int64 { return c.of("requests") }

// cover adds req's cost in every dimension of quotas the vector lacks: the dimensions a response reported
// for the first time, which the server counted the request in all the same. Like costsOf, it runs outside
// the key's lock.
func (c *costs) cover(s *settings, req *http.Request, quotas []Quota) {
	for _, q := range quotas {
		c.ensure(s, req, q.Dimension)
	}
}

// coverDimensions adds req's cost in each of dims the vector lacks (see costs). Outside the key's lock.
func (c *costs) coverDimensions(s *settings, req *http.Request, dims []string) {
	for _, d := range dims {
		c.ensure(s, req, d)
	}
}

// ensure adds req's cost in dimension, unless the vector has it.
func (c *costs) ensure(s *settings, req *http.Request, dimension string) {
	if !c.has(dimension) {
		c.add(dimension, s.cost(req, dimension))
	}
}

// stale reports whether the vector was computed by CostFunc and lacks one of dims: only CostFunc can say
// what the request costs there.
func (c *costs) stale(dims []string) bool {
	if !c.user {
		return false
	}
	for _, d := range dims {
		if !c.has(d) {
			return true
		}
	}
	return false
}

func (c *costs) has(dimension string) bool {
	for i := 0; i < c.n && i < len(c.fixed); i++ {
		if c.fixed[i].dimension == dimension {
			return true
		}
	}
	for _, d := range c.more {
		if d.dimension == dimension {
			return true
		}
	}
	return false
}
