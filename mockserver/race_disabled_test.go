//go:build !race

package mockserver

// raceEnabled reports whether the tests run with the race detector (see race_enabled_test.go).
const raceEnabled = false
