package redisquota_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: the Limiter starts none, and the Redis
// clients of the tests (and their pools) must be closed.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
