// Package examples_test builds every example program and starts each once, so an example that no longer
// compiles, or whose main is miswired, fails `go test ./...`.
package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEveryExampleBuildsAndStarts builds ./... under examples/ and runs each program with -help: it must
// say what it does, print its flags and exit 0.
func TestEveryExampleBuildsAndStarts(t *testing.T) {
	goTool, err := exec.LookPath("go") // go test puts its own go command first on PATH
	if err != nil {
		t.Fatalf("the go command is needed to build the examples: %v", err)
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var examples []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(e.Name(), "main.go")); e.IsDir() && err == nil {
			examples = append(examples, e.Name())
		}
	}
	for _, want := range []string{"basic", "batch", "retryablehttp", "testing", "tiers"} {
		if !slices.Contains(examples, want) {
			t.Errorf("no example %q (found %v)", want, examples)
		}
	}

	bin := t.TempDir()
	build := exec.Command(goTool, "build", "-o", bin+string(filepath.Separator), "./...")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./... in examples/: %v\n%s", err, out)
	}
	for _, name := range examples {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command(filepath.Join(bin, name), "-help").CombinedOutput()
			if err != nil {
				t.Fatalf("%s -help: %v\n%s", name, err, out)
			}
			// A line of description first, then how to run it, then the flags.
			first, _, _ := strings.Cut(string(out), "\n")
			if !strings.HasPrefix(first, name+": ") || len(first) < len(name)+20 {
				t.Errorf("%s -help does not start with a line of description:\n%s", name, out)
			}
			if !strings.Contains(string(out), "go run ./examples/"+name+" [flags]") || !strings.Contains(string(out), "\nFlags:\n  -") {
				t.Errorf("%s -help does not print its usage and flags:\n%s", name, out)
			}
		})
	}
}
