package ratekit

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUnnamedPolicyNameIsItsSerialization(t *testing.T) {
	for _, c := range []struct {
		n, w int64
		want string
	}{
		{1000, 3600, "1000;w=3600"},
		{10000, 86400, "10000;w=86400"},
		{50, -1, "50"},
		{50, 0, "50;w=0"}, // a window under a second is still a window
	} {
		assert.Equal(t, c.want, unnamedPolicyName(c.n, c.w))
		assert.Equal(t, c.want, unnamedPolicyName(c.n, c.w), "the kept name")
	}
}

// TestUnnamedPolicyNamesAreBounded: a server that names a new unnamed limit in every response does not
// grow the table past its bound, and the names past it are still right.
func TestUnnamedPolicyNamesAreBounded(t *testing.T) {
	t2 := &unnamedPolicyNames
	t2.mu.Lock()
	kept := t2.names
	t2.names = nil // the other tests' names stay out of it, and in the table once it is done
	t2.mu.Unlock()
	t.Cleanup(func() {
		t2.mu.Lock()
		t2.names = kept
		t2.mu.Unlock()
	})
	for n := range int64(3 * maxUnnamedPolicyNames) {
		assert.Equal(t, itoa(1_000_000+n)+";w=60", unnamedPolicyName(1_000_000+n, 60))
	}
	t2.mu.RLock()
	defer t2.mu.RUnlock()
	assert.LessOrEqual(t, len(t2.names), maxUnnamedPolicyNames)
}

func TestUnnamedPolicyNameAllocatesNothingOnceKept(t *testing.T) {
	unnamedPolicyName(10000, 86400)
	assert.Zero(t, testing.AllocsPerRun(100, func() { unnamedPolicyName(10000, 86400) }))
}
