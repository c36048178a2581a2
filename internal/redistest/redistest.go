// Package redistest starts throwaway redis-server processes for tests: one server with Start, a small Redis
// Cluster with StartCluster. Each server listens on a free port of 127.0.0.1, keeps nothing on disk (no RDB
// snapshots, no append-only file; its files live in a temporary directory), and is killed and waited for when
// the test ends, together with the clients this package handed out.
//
//	func TestSomething(t *testing.T) {
//		srv := redistest.Start(t) // skips the test when redis-server is not installed
//		rdb := srv.Client()
//		...
//	}
//
// # When redis-server is missing
//
// The helpers look for redis-server on PATH. When it is not there they skip the test (t.Skip), so that
// `go test ./...` passes on a machine without Redis, unless the environment variable RATEKIT_REQUIRE_REDIS is
// set to a non-empty value: then they fail the test (t.Fatal) with a message saying how to install Redis. CI sets
// RATEKIT_REQUIRE_REDIS=1, so that the Redis tests can never be skipped there by accident.
//
// Servers are started on ports chosen by listening on 127.0.0.1:0 and closing the listener; if another process
// takes the port in between, the start is retried on another port. The package uses POSIX signals (Pause and
// Resume send SIGSTOP and SIGCONT), so it builds on Unix-like systems only.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/ratekit/ratekit/internal/redistest/freeport"
)

// RequireEnv is the environment variable that turns a missing redis-server from a skip into a failure.
const RequireEnv = "RATEKIT_REQUIRE_REDIS"

const (
	// startAttempts is how many ports a start tries before it gives up (a port can be taken between the moment
	// it was found free and the moment redis-server binds it).
	startAttempts = 5
	// readyTimeout bounds the wait for a new server to answer PING.
	readyTimeout = 10 * time.Second
	// pollInterval is the pause between two readiness checks.
	pollInterval = 2 * time.Millisecond
)

// Server is one redis-server process that a test owns. Its methods must be called from the test's goroutine
// (they may call t.Fatal), except Addr, which is safe anywhere.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	addr string // 127.0.0.1:port; fixed for the life of the Server (Restart keeps it)
	// clusterPort is the cluster bus port, or 0 for a stand-alone server.
	clusterPort int

	mu     sync.Mutex
	proc   *os.Process   // guarded by mu; nil when stopped
	exited chan struct{} // guarded by mu; closed when proc has exited and been waited for
}

// Start starts a redis-server for the test and returns when it answers PING. It is killed, and every client
// from Client closed, when the test and its subtests end. Start skips the test when redis-server is not
// installed, or fails it when RATEKIT_REQUIRE_REDIS is set (see the package documentation).
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, lookPath(t), false)
}

// lookPath finds redis-server, or skips (or fails) the test.
func lookPath(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err == nil {
		return bin
	}
	msg := "redistest: redis-server is not installed (not on PATH): " + err.Error()
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%s; %s is set, so the Redis tests must run: install Redis (Debian/Ubuntu: apt-get install redis-server)", msg, RequireEnv)
	}
	t.Skipf("%s; skipping (set %s=1 to make this a failure)", msg, RequireEnv)
	return ""
}

// start starts a server, in cluster mode when cluster is true.
func start(t testing.TB, bin string, cluster bool) *Server {
	t.Helper()
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	t.Cleanup(s.Kill)
	var lastErr error
	for range startAttempts {
		port, err := freeport.Get()
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if cluster {
			if s.clusterPort, err = freeport.Get(); err != nil {
				t.Fatalf("redistest: %v", err)
			}
		}
		lastErr = s.launch()
		if lastErr == nil {
			return s
		}
		if !errors.Is(lastErr, errAddrInUse) {
			break
		}
	}
	t.Fatalf("redistest: starting redis-server: %v", lastErr)
	return nil
}

// errAddrInUse reports that redis-server could not bind its port: try another one.
var errAddrInUse = errors.New("address already in use")

// launch starts the process on s.addr and waits until it answers PING.
func (s *Server) launch() error {
	_, port, _ := net.SplitHostPort(s.addr)
	logFile := filepath.Join(s.dir, "redis-"+port+".log")
	args := []string{
		"--bind", "127.0.0.1",
		"--port", port,
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--logfile", logFile,
		"--loglevel", "notice",
		"--daemonize", "no",
	}
	if s.clusterPort != 0 {
		args = append(args,
			"--cluster-enabled", "yes",
			"--cluster-port", strconv.Itoa(s.clusterPort),
			"--cluster-config-file", filepath.Join(s.dir, "nodes-"+port+".conf"),
			"--cluster-node-timeout", "5000",
		)
	}
	// Logs go to logFile: with no Stdout or Stderr writer, exec starts no copying goroutines.
	cmd := exec.Command(s.bin, args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // ends when the process does: Kill and Stop wait for it
		close(exited)
	}()
	s.mu.Lock()
	s.proc, s.exited = cmd.Process, exited
	s.mu.Unlock()

	deadline := time.Now().Add(readyTimeout)
	for {
		err := ping(s.addr)
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			s.mu.Lock()
			s.proc = nil
			s.mu.Unlock()
			tail := logTail(logFile)
			if strings.Contains(tail, "Address already in use") {
				return fmt.Errorf("%s: %w", s.addr, errAddrInUse)
			}
			return fmt.Errorf("redis-server on %s exited before answering PING; its log ends with:\n%s", s.addr, tail)
		default:
		}
		if time.Now().After(deadline) {
			s.kill(syscall.SIGKILL)
			return fmt.Errorf("redis-server on %s did not answer PING within %v: %v; its log ends with:\n%s",
				s.addr, readyTimeout, err, logTail(logFile))
		}
		time.Sleep(pollInterval) // waiting for another process to come up: nothing to select on
	}
}

// ping sends one PING over a fresh connection and expects PONG.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// logTail returns the last lines of a log file, for error messages.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

// Addr returns the server's address, 127.0.0.1:PORT. It does not change when the server is restarted.
func (s *Server) Addr() string { return s.addr }

// Options returns the client options this package recommends for s: ContextTimeoutEnabled, so that a context
// deadline also cuts a read from a server that hangs; no CLIENT SETINFO and no maintenance notifications (extra
// round trips that a test server does not need). Callers that build their own client from them must close it.
func (s *Server) Options() *redis.Options {
	return &redis.Options{
		Addr:                     s.addr,
		ContextTimeoutEnabled:    true,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
}

// Client returns a new client of s (a *redis.Client built from Options), closed when the test ends.
func (s *Server) Client() redis.UniversalClient {
	c := redis.NewClient(s.Options())
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// Kill kills the server (SIGKILL) and waits until it has exited, as a crash would. Its data is lost. Killing a
// server that is not running does nothing.
func (s *Server) Kill() { s.kill(syscall.SIGKILL) }

// Stop stops the server gracefully (SIGTERM) and waits until it has exited. It keeps no data either (nothing
// is saved on shutdown). Stopping a server that is not running does nothing.
func (s *Server) Stop() { s.kill(syscall.SIGTERM) }

// kill sends sig (and SIGCONT, so that a paused server can act on it) and waits for the process to exit.
func (s *Server) kill(sig syscall.Signal) {
	s.mu.Lock()
	proc, exited := s.proc, s.exited
	s.proc = nil
	s.mu.Unlock()
	if proc == nil {
		return
	}
	_ = proc.Signal(sig)
	_ = proc.Signal(syscall.SIGCONT)
	<-exited
}

// Pause suspends the server (SIGSTOP): it keeps its connections open but answers nothing, as a server that
// hangs. Commands to it block until the client's timeout. Resume continues it.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

// signal sends sig to the running server; it fails the test when the server is not running.
func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	proc := s.proc
	s.mu.Unlock()
	if proc == nil {
		s.t.Fatalf("redistest: %v to the server on %s: it is not running", sig, s.addr)
	}
	if err := proc.Signal(sig); err != nil {
		s.t.Fatalf("redistest: %v to the server on %s: %v", sig, s.addr, err)
	}
}

// Restart kills the server (if it is running) and starts a new, empty one on the same address, as a crash and
// a restart by a supervisor would. Existing clients reconnect on their next command.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	var err error
	for range startAttempts {
		// The port was ours a moment ago; only another process grabbing it in between makes this retry.
		if err = s.launch(); !errors.Is(err, errAddrInUse) {
			break
		}
		time.Sleep(50 * time.Millisecond) // give the other process the time to go away
	}
	if err != nil {
		s.t.Fatalf("redistest: restarting redis-server: %v", err)
	}
}

// Do sends one command to the server with a fresh connection and returns its reply; it fails the test on an
// error. It is for test setup (CONFIG SET, DEBUG ...), not for the code under test.
func (s *Server) Do(args ...any) any {
	s.t.Helper()
	c := redis.NewClient(s.Options())
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := c.Do(ctx, args...).Result()
	if err != nil {
		s.t.Fatalf("redistest: %v on %s: %v", args, s.addr, err)
	}
	return v
}
