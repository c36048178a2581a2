package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// The versions of Debian bookworm's python3-flask-limiter and python3-limits, the ones the tables print;
// TestVersions checks them against what the interpreter imports.
const (
	flaskLimiterVersion = "3.3.0"
	limitsVersion       = "2.8.0"
)

// FlaskStrategies are the strategies of limits (the library Flask-Limiter counts with) that the suite runs:
// a fixed window from the key's first request, and the moving window, a log of the accepted requests.
var FlaskStrategies = []string{"fixed-window", "moving-window"}

// PythonPeers are Flask-Limiter's in-memory storage in each of FlaskStrategies, at 50 and at 10 per 1 s.
func PythonPeers() []Peer {
	var ps []Peer
	for _, p := range []Policy{PerSecond50, PerSecond10} {
		for _, s := range FlaskStrategies {
			ps = append(ps, FlaskLimiter(p, s))
		}
	}
	return ps
}

// FlaskLimiter is Python's Flask-Limiter (with limits' MemoryStorage, keyed by the client's address) in a
// Flask app served by waitress, as a child process on loopback. strategy is one of FlaskStrategies:
// "fixed-window" counts every request, rejected too, in a window that starts at the key's first request;
// "moving-window" admits a request when fewer than Limit accepted ones are less than a Window old.
// Flask-Limiter sends no headers by default: the app turns them on (headers_enabled=True), as a user who
// wants clients to pace does.
func FlaskLimiter(p Policy, strategy string) Peer {
	alg := FixedWindowFirstRequest
	if strategy == "moving-window" {
		alg = SlidingLog
	}
	return Peer{Library: "flask-limiter", Variant: strategy, Version: flaskLimiterVersion + " (limits " + limitsVersion + ")", Policy: p, Algorithm: alg,
		Start: func(ctx context.Context) (*Target, error) {
			py, err := flaskPython()
			if err != nil {
				return nil, err
			}
			cfg, err := json.Marshal(map[string]any{"path": "/fl", "limit": p.Limit, "seconds": int(p.Window.Seconds()), "strategy": strategy})
			if err != nil {
				return nil, err
			}
			src := filepath.Join(sourceDir(), "peers", "python")
			return startScript(ctx, "python3 flask-limiter", "python", py.bin, src, "server.py", cfg, "/fl")
		}}
}

// pythonInstall is what a Debian machine needs for the Flask-Limiter peers.
const pythonInstall = "apt-get install python3-flask-limiter python3-waitress"

// flaskInterpreter is a python3 that imports Flask-Limiter and waitress, and the versions it imports.
type flaskInterpreter struct {
	bin                         string
	flaskLimiter, limitsVersion string
}

// flaskPython finds, once per process, the first python3 that imports flask_limiter, limits and waitress:
// the one on PATH, else Debian's /usr/bin/python3 (a pyenv or venv python3 first on PATH does not see
// Debian's dist-packages).
var flaskPython = sync.OnceValues(func() (flaskInterpreter, error) {
	var candidates []string
	if bin, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, bin)
	}
	candidates = append(candidates, "/usr/bin/python3")
	var errs []error
	for _, bin := range candidates {
		out, err := exec.Command(bin, "-c", "import flask_limiter, limits, waitress; print(flask_limiter.__version__, limits.__version__)").Output()
		if err != nil {
			var exit *exec.ExitError
			if errors.As(err, &exit) && len(exit.Stderr) > 0 { // the last line: "No module named 'flask_limiter'"
				lines := strings.Split(strings.TrimSpace(string(exit.Stderr)), "\n")
				err = errors.New(lines[len(lines)-1])
			}
			errs = append(errs, fmt.Errorf("%s: %w", bin, err))
			continue
		}
		if f := strings.Fields(string(out)); len(f) == 2 {
			return flaskInterpreter{bin: bin, flaskLimiter: f[0], limitsVersion: f[1]}, nil
		}
		errs = append(errs, fmt.Errorf("%s printed %q, want two versions", bin, out))
	}
	return flaskInterpreter{}, &MissingError{What: "python3 with flask_limiter and waitress",
		Hint: pythonInstall + "; " + errors.Join(errs...).Error(), Env: RequireInteropEnv}
})
