package contract_test

import (
	"testing"

	"github.com/ratekit/ratekit/internal/harness/scoreboard"
)

// matrixKnownFailures are the cells of the matrix that miss their bounds today, with what they measured when
// recorded (the same in three runs). They still run; a cell that starts passing says so, to be moved out.
// The shopify dialect (X-Shopify-Shop-Api-Call-Limit: used/size, as Shopify's REST Admin API sends it) tells
// what remains but not when it comes back: ratekit measures the refill from Remaining over time (3 of 803
// answers rejected for the buckets), and paces concurrency by the rate it finds.
var matrixKnownFailures = map[string]knownFailure{
	"concurrency/shopify": {goodput: 0.448, rejected: 0},
}

// checkMatrixCell checks a matrix cell's bounds, or, for a known failure, logs its numbers beside the bounds,
// failing only when it completes fewer requests than recorded.
func checkMatrixCell(t *testing.T, r scoreboard.Result, b bounds) {
	t.Helper()
	k, known := matrixKnownFailures[r.Cell.Label()]
	switch {
	case !known:
		checkBounds(t, r, b)
	case boundsHold(r, b):
		t.Logf("KNOWN FAILURE NOW PASSES: %s: goodput %.3f (bound %.2f), rejected %.1f%% (bound %.0f%%); "+
			"recorded %+v: remove it from matrixKnownFailures", r.Cell.Label(), r.Goodput(), b.minGoodput,
			100*r.RejectedShare(), 100*b.maxRejected, k)
	case k.completed > 0 && r.Completed < k.completed, k.completed == 0 && r.Completed != r.Cell.N:
		t.Errorf("known failure %s: %d of %d requests completed, recorded %+v (first error: %v)",
			r.Cell.Label(), r.Completed, r.Cell.N, k, r.FirstErr)
	default:
		t.Logf("known failure: goodput %.3f (bound %.2f), rejected %d/%d = %.1f%% (bound %.0f%%), %d/%d done; recorded %+v",
			r.Goodput(), b.minGoodput, r.Rejected, r.Hits, 100*r.RejectedShare(), 100*b.maxRejected, r.Completed, r.Cell.N, k)
	}
}
