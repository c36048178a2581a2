package ratekit

import (
	"strings"
	"time"
)

// The words of rate-limit field names: periods, the names returned without allocating, and ASCII case
// folding.

// period recognises the window words of per-period quotas ("minute", "daily", "secondly", "24hour") and
// returns the policy they name and its window. Months and years have no fixed length: their window is 0.
func period(s string) (string, time.Duration, bool) {
	for _, p := range periods {
		if foldEqual(s, p.word) {
			return p.name, p.window, true
		}
	}
	return "", 0, false
}

const day = 24 * time.Hour

var periods = [...]struct {
	word, name string
	window     time.Duration
}{
	{"second", "second", time.Second}, {"secondly", "second", time.Second}, {"sec", "second", time.Second},
	{"minute", "minute", time.Minute}, {"minutely", "minute", time.Minute}, {"min", "minute", time.Minute},
	{"hour", "hour", time.Hour}, {"hourly", "hour", time.Hour}, {"hr", "hour", time.Hour},
	{"day", "day", day}, {"daily", "day", day}, {"24hour", "24hour", day}, {"24h", "24hour", day},
	{"15min", "15min", 15 * time.Minute}, {"15minute", "15min", 15 * time.Minute},
	{"week", "week", 7 * day}, {"weekly", "week", 7 * day},
	{"month", "month", 0}, {"monthly", "month", 0}, {"year", "year", 0}, {"yearly", "year", 0},
}

// knownNames are the dimension and policy names seen in the wild, returned without allocating.
var knownNames = [...]string{"requests", "tokens", "input-tokens", "output-tokens", "bytes",
	"app-24hour", "user-24hour", "app-minute", "subscription-reads", "subscription-writes", "subscription-deletes",
	"tenant-reads", "tenant-writes", "subscription-global-reads", "subscription-global-writes", "tickets-index"}

// lowerName returns s in lowercase, as dimension names are reported.
func lowerName(s string) string {
	for _, k := range knownNames {
		if foldEqual(s, k) {
			return k
		}
	}
	return strings.ToLower(s)
}

// foldEqual reports whether s equals lower, a lowercase ASCII string, ignoring ASCII case.
func foldEqual(s, lower string) bool {
	return len(s) == len(lower) && foldHasPrefix(s, lower)
}

// foldHasPrefix reports whether s begins with lower, a lowercase ASCII string, ignoring ASCII case.
func foldHasPrefix(s, lower string) bool {
	if len(s) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		c := s[i]
		if c != lower[i] && !('A' <= c && c <= 'Z' && c+('a'-'A') == lower[i]) {
			return false
		}
	}
	return true
}

// foldHasSuffix reports whether s ends with lower, a lowercase ASCII string, ignoring ASCII case.
func foldHasSuffix(s, lower string) bool {
	return len(s) >= len(lower) && foldHasPrefix(s[len(s)-len(lower):], lower)
}
