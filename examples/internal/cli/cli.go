// Package cli is what the examples' command lines share: one flag vocabulary, and a -help that says what the
// program does before listing its flags.
//
// The vocabulary, in every example that has the concept:
//
//	-n          how many requests to send (fleet: per member)
//	-c          how many goroutines send at once (concurrency)
//	-algorithm  the mock server's algorithm
//	-dialect    the mock server's rate-limit headers
//	-limit      requests the mock server allows per -window
//	-window     the window of -limit
package cli

import (
	"flag"
	"fmt"
	"io"
)

// Flag names of the shared vocabulary.
const (
	Requests    = "n"
	Concurrency = "c"
)

// NewFlagSet returns a flag set for the example name that reports its errors to stderr and whose -help
// prints description (a line saying what the example does), how to run it from the repository root, and
// its flags.
func NewFlagSet(name, description string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s: %s\n\nUsage, from the repository root:\n\n  go run ./examples/%s [flags]\n\nFlags:\n", name, description, name)
		fs.PrintDefaults()
	}
	return fs
}
