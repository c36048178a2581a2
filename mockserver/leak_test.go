package mockserver_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: the Handler must leave nothing behind
// (it runs inside synctest bubbles), and neither may the stores.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
