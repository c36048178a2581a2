package interop

import (
	"errors"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// skipIfMissing skips the test when a program the peer needs is absent, unless the environment requires it.
func skipIfMissing(t *testing.T, err error) {
	t.Helper()
	var missing *MissingError
	if errors.As(err, &missing) {
		if missing.Required() {
			t.Fatalf("interop: %s is not available (%s), and %s is set: the test must run", missing.What, missing.Hint, missing.Env)
		}
		t.Skip(err)
	}
}
