//go:build !linux

package ratekit

import "time"

// timeCPU falls back to the wall clock where the thread's CPU clock is not at hand.
func timeCPU(f func()) time.Duration { return timeWall(f) }
