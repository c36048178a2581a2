package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ratekit/ratekit/internal/redistest"
)

// smallFleet are flags that make a run take about a second per phase.
var smallFleet = []string{"-members", "3", "-n", "10", "-c", "2", "-limit", "20", "-window", "500ms"}

// fleetBinary is the command, built once by TestMain; "" when there is no go command to build it with.
var fleetBinary string

// TestMain builds the command into a temporary directory for the tests that run it.
func TestMain(m *testing.M) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "no go command on PATH: the tests that run the built command skip")
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "fleet-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin := filepath.Join(dir, "fleet")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	fleetBinary = bin
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runFleetCommand runs the built command with env added to the test's environment, and returns its output.
func runFleetCommand(t *testing.T, env ...string) string {
	t.Helper()
	if fleetBinary == "" {
		t.Skip("no go command on PATH to build the command with")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, fleetBinary, smallFleet...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fleet %s: %v\n%s", strings.Join(smallFleet, " "), err, out)
	}
	return string(out)
}

// checkTable wants both runs complete, side by side, labelled.
func checkTable(t *testing.T, out, label string) {
	t.Helper()
	for _, want := range []string{
		"completed                              30             30",
		"requests                               30             30",
		"(" + label + ")",
		"429s at the server",
		"combined rate",
		"quota                      40.0/s, 20 per 500ms",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
}

// TestFleetStartsItsOwnRedis: without REDIS_URL, the command starts a redis-server, shares through it, and
// kills it at exit.
func TestFleetStartsItsOwnRedis(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv(redistest.RequireEnv) != "" {
			t.Fatalf("redis-server is not installed and %s is set", redistest.RequireEnv)
		}
		t.Skip("redis-server is not installed")
	}
	t.Parallel() // the runs mostly wait, in real time
	out := runFleetCommand(t, "REDIS_URL=")
	checkTable(t, out, "redisquota")
	m := regexp.MustCompile(`redis-server started on (127\.0\.0\.1:\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the output does not say where redis-server was started:\n%s", out)
	}
	if conn, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
		conn.Close()
		t.Errorf("redis-server on %s still accepts connections after the command ended", m[1])
	}
}

// TestFleetUsesRedisURL: with REDIS_URL, the command shares through that Redis and starts none.
func TestFleetUsesRedisURL(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	out := runFleetCommand(t, "REDIS_URL=redis://"+srv.Addr()+"/0")
	checkTable(t, out, "redisquota")
	if !strings.Contains(out, "shared quota: Redis at REDIS_URL ("+srv.Addr()+")") || strings.Contains(out, "redis-server started") {
		t.Errorf("the output does not say it used REDIS_URL:\n%s", out)
	}
}

// TestFleetWithoutRedis: with neither REDIS_URL nor redis-server, the command says so and shares among
// the workers of its process with a LocalLimiter.
func TestFleetWithoutRedis(t *testing.T) {
	t.Parallel()
	out := runFleetCommand(t, "REDIS_URL=", "PATH="+t.TempDir())
	checkTable(t, out, "LocalLimiter, one process")
	if !strings.Contains(out, "REDIS_URL is not set and redis-server is not installed: sharing among the workers of this process with ratekit.NewLocalLimiter instead") {
		t.Errorf("the output does not explain the fallback to LocalLimiter:\n%s", out)
	}
}

// TestFleetFlags: bad flags are errors naming the flag and what it allows.
func TestFleetFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-members", "0"}, "-members 0: want 1 to 1000"},
		{[]string{"-n", "-1"}, "-n -1: want 1 or more"},
		{[]string{"-c", "0"}, "-c 0: want 1 to 100"},
		{[]string{"-limit", "0"}, "-limit 0: want 1 or more"},
		{[]string{"-window", "0s"}, "-window 0s: want 1ms or more"},
		{[]string{"-algorithm", "leaky"}, "-algorithm leaky: "},
		{[]string{"extra"}, `unexpected arguments ["extra"]: want flags only`},
	} {
		err := run(context.Background(), tt.args, io.Discard, io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want one starting %q", tt.args, err, tt.want)
		}
	}
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"-nosuchflag"}, io.Discard, &stderr); err == nil || !strings.Contains(stderr.String(), "-members") {
		t.Errorf("unknown flag: error %v, usage %q", err, stderr.String())
	}
}
