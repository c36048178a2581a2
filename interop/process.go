package interop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ratekit/ratekit/internal/redistest/freeport"
)

const (
	// startAttempts is how many free ports a start tries (another process can take a port between the
	// moment it was found free and the moment the server binds it).
	startAttempts = 5
	// readyTimeout bounds the wait for a new server to accept connections.
	readyTimeout = 15 * time.Second
)

// process is a server the suite started: killed and waited for by stop.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	log    string
}

// launch is one attempt to start a server on a port: the command line for it, its log file.
type launch func(port int) (cmd *exec.Cmd, logFile string, err error)

// readyCheck asks the server on addr whether it is up and is the process of that pid (not another program
// that took the port first): nil when it is.
type readyCheck func(ctx context.Context, addr string, pid int) error

// startServer finds a free port, starts the server on it and waits until ready says it is up. It retries on
// another port when the process exits before that (a port taken in between).
func startServer(ctx context.Context, what string, l launch, ready readyCheck) (p *process, addr string, err error) {
	var lastErr error
	for range startAttempts {
		port, err := freeport.Get()
		if err != nil {
			return nil, "", err
		}
		cmd, logFile, err := l(port)
		if err != nil {
			return nil, "", err
		}
		p, err := start(cmd, logFile)
		if err != nil {
			return nil, "", fmt.Errorf("interop: starting %s: %w", what, err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if lastErr = p.waitReady(ctx, addr, ready); lastErr == nil {
			return p, addr, nil
		}
		p.stop()
		lastErr = fmt.Errorf("interop: %s on %s: %w; its log ends with:\n%s", what, addr, lastErr, logTail(logFile))
	}
	return nil, "", lastErr
}

func start(cmd *exec.Cmd, logFile string) (*process, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child has its own descriptor
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group: stop kills its workers too
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, exited: make(chan struct{}), log: logFile}
	go func() {
		_ = cmd.Wait() // ends when the process does; stop waits for it
		close(p.exited)
	}()
	return p, nil
}

var errExited = errors.New("exited before accepting connections")

func (p *process) waitReady(ctx context.Context, addr string, ready readyCheck) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		err := ready(cctx, addr, p.cmd.Process.Pid)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return errExited
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond): // polling another process: nothing to select on
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not accepting connections within %v: %w", readyTimeout, err)
		}
	}
}

// stop kills the process group and waits for the process.
func (p *process) stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// httpReady is a readyCheck for an HTTP server that answers GET /__ready with want.
func httpReady(want string) readyCheck {
	return func(ctx context.Context, addr string, _ int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/__ready", nil)
		if err != nil {
			return err
		}
		resp, err := readyClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		if got := strings.TrimSpace(string(b)); got != want {
			return fmt.Errorf("GET /__ready answered %d %q, want %q: another server has the port", resp.StatusCode, got, want)
		}
		return nil
	}
}

// readyClient keeps no connections: each check is one fresh connection.
var readyClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// token is a random string that proves a server is the one this process configured.
func token() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tempDir makes a directory for a server's files, removed by the returned function.
func tempDir(name string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "ratekit-interop-"+name+"-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

// startTarget starts a peer's server (startServer's launch and ready) with a temporary directory of its own
// for its files (given to launch; removed when the target closes). The target's URL is the server's address
// and path.
func startTarget(ctx context.Context, what, name string, launch func(dir string, port int) (*exec.Cmd, string, error),
	ready readyCheck, path string) (*Target, error) {
	dir, rm, err := tempDir(name)
	if err != nil {
		return nil, err
	}
	t := &Target{}
	t.onClose(rm)
	proc, addr, err := startServer(ctx, what, func(port int) (*exec.Cmd, string, error) { return launch(dir, port) }, ready)
	if err != nil {
		t.Close()
		return nil, err
	}
	t.onClose(proc.stop)
	t.URL = "http://" + addr + path
	return t, nil
}

// startScript starts one of the suite's script servers, `bin src/script PORT cfg` run in src, which answers
// /__ready with its pid (peers/node's, peers/python's); its log goes to a temporary directory named after
// name.
func startScript(ctx context.Context, what, name, bin, src, script string, cfg []byte, path string) (*Target, error) {
	return startTarget(ctx, what, name, func(dir string, port int) (*exec.Cmd, string, error) {
		cmd := exec.Command(bin, filepath.Join(src, script), strconv.Itoa(port), string(cfg))
		cmd.Dir = src
		return cmd, filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, port)), nil
	}, pidReady, path)
}

// pidReady checks that the server on addr answers /__ready with pid: it is the process that was started.
func pidReady(ctx context.Context, addr string, pid int) error {
	return httpReady(strconv.Itoa(pid))(ctx, addr, pid)
}

// lookPath finds a program, or says it is missing.
func lookPath(name, hint, env string) (string, error) {
	bin, err := exec.LookPath(name)
	if err != nil {
		return "", &MissingError{What: name, Hint: hint, Env: env}
	}
	return bin, nil
}

func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

// sourceDir is the directory of this package's sources (where peers/ lives).
func sourceDir() string {
	wd, _ := os.Getwd()
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "peers", "node", "server.js")); err == nil {
			return dir
		}
		if _, err := os.Stat(filepath.Join(dir, "interop", "peers", "node", "server.js")); err == nil {
			return filepath.Join(dir, "interop")
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}
