// Package ctxsleep waits for a duration or for a context to end, whichever comes first: the one wait the
// project's library code, mock server and tools need (never time.Sleep, which a cancelled request could not
// interrupt).
package ctxsleep

import (
	"context"
	"time"
)

// Sleep waits for d, or until ctx is done. It returns nil after the full wait, else ctx's error. A wait of
// d <= 0 returns ctx's error (nil for a live context) at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
