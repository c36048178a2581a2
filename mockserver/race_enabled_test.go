//go:build race

package mockserver

// raceEnabled reports whether the tests run with the race detector, which makes memory-heavy sequential tests
// several times slower without checking anything more in them; those tests scale themselves down.
const raceEnabled = true
