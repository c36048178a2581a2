package mockserver

import (
	"sync"
	"time"
)

// defaultLogLinesPerSecond is the log budget of a Config whose LogLinesPerSecond is 0: a flood of rejections
// writes at most about 1 KB/s of log at that rate, under 100 MB a day.
const defaultLogLinesPerSecond = 10

// logSampler paces log lines: at most perSecond per wall-clock second, and it counts the lines it holds
// back so that the next line written can say how many were left out. A nil logSampler allows every line.
// Safe for concurrent use.
type logSampler struct {
	perSecond int

	mu      sync.Mutex
	second  int64 // the Unix second of the lines counted in used; guarded by mu
	used    int   // lines allowed in second; guarded by mu
	dropped int64 // lines held back since the last line allowed; guarded by mu
}

// newLogSampler allows perSecond lines a second; perSecond < 0 allows every line (nil).
func newLogSampler(perSecond int) *logSampler {
	if perSecond < 0 {
		return nil
	}
	return &logSampler{perSecond: perSecond}
}

// allow reports whether a line may be written at now, and how many were held back before it (to report in
// the line). When it returns false the line is counted as dropped.
func (s *logSampler) allow(now time.Time) (ok bool, dropped int64) {
	if s == nil {
		return true, 0
	}
	sec := now.Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec != s.second {
		s.second, s.used = sec, 0
	}
	if s.used >= s.perSecond {
		s.dropped++
		return false, 0
	}
	s.used++
	dropped, s.dropped = s.dropped, 0
	return true, dropped
}
