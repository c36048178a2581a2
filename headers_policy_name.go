package ratekit

import (
	"strconv"
	"sync"
)

// An unnamed limit beside the one in force (draft 7's `RateLimit-Policy: 50;w=1, 1000;w=3600`, WHOOP's
// `X-RateLimit-Limit: 100, 100;window=60, 10000;window=86400`) is named after its serialization,
// "1000;w=3600", so that each stays a quota of its own. A server sends the same few in every response, so
// the names are kept once built: the Transport's path then allocates nothing for them. The table is bounded,
// so a server that sends a new one in every response cannot grow it; past the bound a name is built each
// time.

// maxUnnamedPolicyNames bounds the table of unnamed policies' names.
const maxUnnamedPolicyNames = 256

// unnamedPolicyNames holds the names built so far, by limit and window in whole seconds (-1: none).
var unnamedPolicyNames struct {
	mu    sync.RWMutex
	names map[[2]int64]string
}

// unnamedPolicyName is the name of an unnamed limit of n with a window of w whole seconds (-1: no window):
// "n" or "n;w=w".
func unnamedPolicyName(n, w int64) string {
	key := [2]int64{n, w}
	t := &unnamedPolicyNames
	t.mu.RLock()
	name, ok := t.names[key]
	t.mu.RUnlock()
	if ok {
		return name
	}
	var buf [48]byte
	b := strconv.AppendInt(buf[:0], n, 10)
	if w >= 0 {
		b = append(b, ";w="...)
		b = strconv.AppendInt(b, w, 10)
	}
	name = string(b)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.names == nil {
		t.names = make(map[[2]int64]string)
	}
	if len(t.names) < maxUnnamedPolicyNames {
		t.names[key] = name
	}
	return name
}
