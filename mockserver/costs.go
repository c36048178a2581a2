package mockserver

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// otherRoute labels, in metrics, the requests that match no Config.Routes entry.
const otherRoute = "other"

// routeTable finds the Config.Routes entry of a request with an http.ServeMux, so patterns mean exactly what
// they mean to net/http.
type routeTable struct {
	mux    *http.ServeMux // nil when there are no routes
	routes []Route        // costs filled in (0 became 1)
}

// routeMarker is the "handler" registered for route i: ServeMux.Handler hands it back for a matching request.
type routeMarker int

// ServeHTTP is never called: the mux is only asked which handler matches.
func (routeMarker) ServeHTTP(http.ResponseWriter, *http.Request) {}

var _ http.Handler = routeMarker(0)

// newRouteTable checks the routes and registers their patterns.
func newRouteTable(routes []Route) (routeTable, error) {
	t := routeTable{routes: make([]Route, len(routes))}
	if len(routes) == 0 {
		return t, nil
	}
	t.mux = http.NewServeMux()
	for i, r := range routes {
		field := fmt.Sprintf("Routes[%d]", i)
		if r.Cost < 0 {
			return t, badField(field+".Cost", strconv.FormatInt(r.Cost, 10), "cost %d is negative (0 means 1)", r.Cost)
		}
		if r.Cost == 0 {
			r.Cost = 1
		}
		if r.Pattern == "" {
			return t, badField(field+".Pattern", "", "empty pattern (write an http.ServeMux pattern such as \"/search\" or \"/export/\")")
		}
		if reason := register(t.mux, r.Pattern, routeMarker(i)); reason != "" {
			return t, badField(field+".Pattern", r.Pattern, "%s", reason)
		}
		t.routes[i] = r
	}
	return t, nil
}

// registeredAt is the source position ServeMux adds to its conflict messages, which means nothing to a user.
var registeredAt = regexp.MustCompile(` \(registered at [^)]*\)`)

// register adds pattern to mux, turning the panic ServeMux raises for a bad or conflicting pattern into a
// reason ("" when the pattern was registered): bad configuration must never crash the server.
func register(mux *http.ServeMux, pattern string, h http.Handler) (reason string) {
	defer func() {
		if p := recover(); p != nil {
			msg := strings.TrimPrefix(fmt.Sprint(p), "http: ")
			msg = registeredAt.ReplaceAllString(msg, "")
			msg = strings.Join(strings.Fields(strings.ReplaceAll(msg, ":\n", ": ")), " ")
			reason = fmt.Sprintf("bad pattern %q: %s", pattern, msg)
		}
	}()
	mux.Handle(pattern, h)
	return ""
}

// match returns the index of the route r matches and its label (the pattern); -1 and "" when none matches.
func (t *routeTable) match(r *http.Request) (int, string) {
	if t.mux == nil {
		return -1, ""
	}
	h, _ := t.mux.Handler(r)
	i, ok := h.(routeMarker)
	if !ok { // not found, or a redirect to a cleaner path
		return -1, ""
	}
	return int(i), t.routes[i].Pattern
}

// costError is a cost header that is not a whole number >= 1.
type costError struct {
	header string
	value  string
}

func (e *costError) Error() string {
	return fmt.Sprintf("mockserver: header %s: %q is not a whole number >= 1", e.header, e.value)
}

// requestCosts fills dimCost with r's cost in every dimension: the route's cost (or the "requests" cost
// header or body cost) in dims[0], the cost header or body cost of each other dimension or 1.
func requestCosts(r *http.Request, dims []dimension, routeCost int64, dimCost []int64) error {
	var body any
	if needsBody(dims) {
		var err error
		if body, err = readJSONBody(r); err != nil {
			return err
		}
	}
	for i, d := range dims {
		c := int64(1)
		switch {
		case d.body != nil && body != nil:
			c = d.body.estimate(body)
		case i == 0:
			c = routeCost
		}
		if d.header != "" {
			if v := r.Header.Get(d.header); v != "" {
				n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				if err != nil || n < 1 {
					return &costError{header: d.header, value: v}
				}
				c = n
			}
		}
		dimCost[i] = c
	}
	return nil
}
