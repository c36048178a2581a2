//go:build linux

package ratekit

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// timeCPU runs f on a locked OS thread and returns the CPU time that thread spent in it, which other
// processes on a loaded machine do not inflate the way they inflate the wall clock.
func timeCPU(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var start, end unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &start) != nil {
		return timeWall(f)
	}
	f()
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &end) != nil {
		return timeWall(f)
	}
	return time.Duration(end.Nano() - start.Nano())
}
