package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain checks that run leaves no goroutine behind once it has returned.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// syncBuffer is a bytes.Buffer safe for the server's and the test's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// started is a ratemock running in-process.
type started struct {
	url    string
	stderr *syncBuffer
	client *http.Client
	stop   func() int // cancels run's context and returns its exit status
}

// start runs ratemock with args until the test stops it, and reads its first line.
func start(t *testing.T, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &started{stderr: &syncBuffer{}, client: &http.Client{Transport: &http.Transport{}}}
	done := make(chan int, 1)
	go func() {
		code := run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw, s.stderr)
		pw.Close()
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("first line: %v (stderr: %s, exit %d)", err, s.stderr, <-done)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		cancel()
		t.Fatalf("first line %q, want listening on http://127.0.0.1:PORT", line)
	}
	s.url = url
	stopped := false
	s.stop = func() int {
		stopped = true
		s.client.CloseIdleConnections()
		cancel()
		return <-done
	}
	t.Cleanup(func() {
		if !stopped {
			s.stop()
		}
	})
	return s
}

// do sends a request and returns the status, the headers and the body.
func (s *started) do(t *testing.T, method, path string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

func TestRunServesUntilCancelled(t *testing.T) {
	s := start(t, "-limit", "2", "-window", "1h", "-dialect", "x-ratelimit", "-failure-mode", "fail-closed")
	for i, want := range []int{200, 200, 429} {
		status, h, body := s.do(t, http.MethodGet, "/anything")
		if status != want {
			t.Fatalf("request %d: status %d, want %d (%s)", i, status, want, body)
		}
		if h.Get("X-RateLimit-Limit") != "2" {
			t.Errorf("request %d: X-RateLimit-Limit %q", i, h.Get("X-RateLimit-Limit"))
		}
	}
	if status, _, body := s.do(t, http.MethodPost, "/_store?down=true"); status != 200 || body != "{\"down\":true}\n" {
		t.Errorf("/_store: %d %s", status, body)
	}
	if status, _, _ := s.do(t, http.MethodGet, "/anything"); status != http.StatusServiceUnavailable {
		t.Errorf("store down, fail-closed: status %d, want 503", status)
	}
	s.do(t, http.MethodPost, "/_store?down=false")
	_, _, metrics := s.do(t, http.MethodGet, "/metrics")
	if !strings.Contains(metrics, `mockserver_store_failures_total{mode="fail-closed"} 1`) {
		t.Errorf("metrics:\n%s", metrics)
	}
	if code := s.stop(); code != 0 {
		t.Errorf("exit status %d, want 0; stderr:\n%s", code, s.stderr)
	}
	logs := s.stderr.String()
	if !regexp.MustCompile(`msg="rate limited" key=k_[0-9a-f]{24} tier=default route=other rule=hour retry_after=`).MatchString(logs) {
		t.Errorf("stderr has no line for the rejection:\n%s", logs)
	}
	if strings.Contains(logs, "key=127.0.0.1") {
		t.Errorf("stderr names a client by its raw key:\n%s", logs)
	}
}

func TestRunWithTheExampleConfigFile(t *testing.T) {
	s := start(t, "-config", "example.yaml", "-log-level", "off")
	status, h, body := s.do(t, http.MethodPost, "/v1/chat/completions", "X-API-Key", "key-pro-1", "X-Token-Count", "1500")
	if status != 200 || !strings.Contains(body, `"tier":"pro"`) {
		t.Fatalf("status %d body %s", status, body)
	}
	if h.Get("X-Ratelimit-Remaining-Tokens") != "398500" || h.Get("X-Ratelimit-Limit-Requests") != "600" {
		t.Errorf("openai headers from the file: %v", h)
	}
	_, _, body = s.do(t, http.MethodGet, "/search")
	var v struct {
		Key, Tier string
		Cost      int64
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil || v.Key != "anonymous:127.0.0.1" || v.Tier != "anonymous" || v.Cost != 5 {
		t.Errorf("anonymous /search: %s (%v)", body, err)
	}
	if s.stderr.String() != "" {
		t.Errorf("-log-level off logged:\n%s", s.stderr)
	}
}

func TestBadFlagsAndConfigFilesExitWith2AndSayWhy(t *testing.T) {
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	typo := file("typo.yaml", "tiers:\n  - name: free\n    rules:\n      - algoritm: gcra\n        limit: lots\n        window: 1 min\n")
	semantic := file("semantic.yaml", "tiers:\n  - name: free\n    rules:\n      - {name: m, algorithm: fixed-window, limit: 5, window: 1m, burst: 10}\n")
	dialect := file("dialect.yaml", "dialect: xml\n")
	deadRedis := unusedAddr(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-dialect", "foo"}, `ratemock: -dialect: unknown dialect "foo" (allowed: ietf, ietf-legacy, x-ratelimit, github, openai, tollbooth, anthropic, shopify, discord, none)`},
		{[]string{"-algorithm", "gcrx"}, `ratemock: -algorithm: unknown algorithm "gcrx" (allowed: fixed-window, sliding-window-log, sliding-window-counter, token-bucket, leaky-bucket, leaky-bucket-queue, gcra, concurrency)`},
		{[]string{"-limit", "0"}, `ratemock: -limit: fixed-window policy: limit 0: want limit >= 1`},
		{[]string{"-burst", "5"}, `ratemock: -burst: fixed-window policy: burst 5: want 0`},
		{[]string{"-key", "cookie"}, `ratemock: -key: unknown key kind "cookie" in "cookie" (allowed: ip, api-key, user, route`},
		{[]string{"-status", "200"}, `ratemock: -status: status 200 is not a rejection status (allowed: 429, 403, 503)`},
		{[]string{"-retry-after", "ms"}, `ratemock: -retry-after: unknown Retry-After format "ms" (allowed: seconds, http-date, window, fractional, none)`},
		{[]string{"-failure-mode", "open"}, `ratemock: -failure-mode: unknown failure mode "open" (allowed: fail-open, fail-closed)`},
		{[]string{"-reset-as", "minutes"}, `ratemock: -reset-as: unknown reset form "minutes" (allowed: delta, delta-ms, epoch, epoch-ms)`},
		{[]string{"-error-rate", "2"}, `ratemock: -error-rate: 2 is not a fraction between 0 and 1`},
		{[]string{"-store-failure-rate", "-1"}, `ratemock: -store-failure-rate: rate -1 is not a fraction between 0 and 1`},
		{[]string{"-store", "redis", "-redis", deadRedis}, "ratemock: -redis " + deadRedis + ": cannot reach Redis (for -store redis): "},
		{[]string{"-store", "etcd"}, `ratemock: -store: unknown store "etcd" (allowed: memory, redis)`},
		{[]string{"-log-level", "loud"}, `ratemock: -log-level: unknown level "loud" (allowed: debug, info, warn, error, off)`},
		{[]string{"-addr", "8080"}, `ratemock: -addr: "8080" is not HOST:PORT`},
		{[]string{"-window", "1 minute"}, `invalid value "1 minute" for flag -window`},
		{[]string{"-nope"}, `flag provided but not defined: -nope`},
		{[]string{"extra"}, `ratemock: ratemock: unexpected argument "extra"`},
		{[]string{"-config", filepath.Join(dir, "missing.yaml")}, `ratemock: -config: open `},
		{[]string{"-config", typo}, `ratemock: -config ` + typo + `: line 4: unknown setting "algoritm" of a rule (allowed: name, algorithm, limit, window, burst, dimension, anchor, anchor_offset, count_rejected, round_estimate); ` +
			`line 5: "lots" is not a whole number; line 6: window "1 min" is not a duration (write 90s, 1m, 24h)`},
		{[]string{"-config", semantic}, `ratemock: -config ` + semantic + `: tiers[0].rules[0]: fixed-window policy: burst 10: want 0`},
		{[]string{"-config", semantic, "-limit", "3"}, `ratemock: -limit: cannot be combined with the tiers of -config ` + semantic},
		{[]string{"-config", dialect}, `ratemock: -config ` + dialect + `: dialect: unknown dialect "xml"`},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), c.args, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), c.want) || stdout.Len() != 0 {
			t.Errorf("ratemock %s: exit %d, stdout %q, stderr:\n%s\nwant exit 2 and stderr containing\n%s",
				strings.Join(c.args, " "), code, stdout.String(), stderr.String(), c.want)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-help"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "usage: ratemock") {
		t.Errorf("-help: exit %d, stderr %s", code, stderr.String())
	}
}

// TestBinaryStopsOnSIGINT builds ratemock and checks the whole life of the real process: first line,
// a request, SIGINT, exit status 0.
func TestBinaryStopsOnSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "ratemock")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0", "-dialect", "github")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("first line: %v; stderr %s", err, &stderr)
	}
	url := strings.TrimPrefix(strings.TrimSpace(line), "listening on ")
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	client.CloseIdleConnections()
	if resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Used") != "1" {
		t.Errorf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGINT: %v; stderr %s", err, &stderr)
	}
}
