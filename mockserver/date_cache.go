package mockserver

import (
	"net/http"
	"sync/atomic"
	"time"
)

// dateCache keeps the Date header's value of the current second, as one shared []string: every response of a
// second writes the same value, and formatting it per request cost two allocations. Handlers only ever
// replace a header's slice (Header.Set, setHeader) or append to it (Header.Add reallocates a full slice), so
// sharing it is safe. Safe for concurrent use.
type dateCache struct {
	cur atomic.Pointer[dateValue]
}

// dateValue is the Date of one Unix second.
type dateValue struct {
	sec   int64
	value []string
}

// values returns the Date header of the instant t (already skewed), from the cache when t is in its second.
func (c *dateCache) values(t time.Time) []string {
	sec := t.Unix()
	if d := c.cur.Load(); d != nil && d.sec == sec {
		return d.value
	}
	d := &dateValue{sec: sec, value: []string{t.UTC().Format(http.TimeFormat)}}
	c.cur.Store(d)
	return d.value
}
