package interop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// HAProxyPeers are HAProxy's stick-table rate limiting at the per-second policies.
func HAProxyPeers() []Peer { return []Peer{HAProxy(PerSecond50), HAProxy(PerSecond10)} }

// HAProxy is HAProxy as a real process, configured as its documentation and blog show: a stick table per
// source address storing `http_req_rate(<window>)`, `http-request track-sc0 src`, and `http-request deny
// deny_status 429 if { sc_http_req_rate(0) gt <limit> }`, answering the 200s itself with `http-request
// return` (no backend). It sends no rate-limit header: a 429 is HAProxy's built-in error page. Its counter
// is a freq_ctr (see FreqCtrHAProxy), and since the request is tracked before the deny is evaluated, a
// refused request counts too.
func HAProxy(p Policy) Peer {
	return Peer{Library: "haproxy", Version: "Debian package", Policy: p, Algorithm: FreqCtrHAProxy,
		Start: func(ctx context.Context) (*Target, error) {
			bin, err := lookPath("haproxy", "apt-get install haproxy", RequireInteropEnv)
			if err != nil {
				return nil, err
			}
			tok := token()
			return startTarget(ctx, "haproxy", "haproxy", func(dir string, port int) (*exec.Cmd, string, error) {
				conf := filepath.Join(dir, "haproxy.cfg")
				if err := os.WriteFile(conf, []byte(haproxyConfig(port, p, tok)), 0o644); err != nil {
					return nil, "", err
				}
				// -db: in the foreground, not a daemon, so that stop kills the process that was started.
				return exec.Command(bin, "-db", "-f", conf), filepath.Join(dir, "haproxy.log"), nil
			}, httpReady(tok), "")
		}}
}

// haproxyConfig is a one-thread HAProxy on 127.0.0.1:port limiting each source address to p.Limit
// requests per p.Window, with its token at /__ready before the tracking (outside the limit).
func haproxyConfig(port int, p Policy, token string) string {
	r := strings.NewReplacer("PORT", fmt.Sprint(port), "PERIOD", fmt.Sprintf("%dms", p.Window.Milliseconds()),
		"LIMIT", fmt.Sprint(p.Limit), "TOKEN", token)
	return r.Replace(`global
	nbthread 1
defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend peer
	bind 127.0.0.1:PORT
	stick-table type ip size 100k expire 30s store http_req_rate(PERIOD)
	http-request return status 200 content-type text/plain string "TOKEN" if { path /__ready }
	http-request track-sc0 src
	http-request deny deny_status 429 if { sc_http_req_rate(0) gt LIMIT }
	http-request return status 200 content-type text/plain string "ok\n"
`)
}
