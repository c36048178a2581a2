package interop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// NginxPeers are nginx's limit_req at the per-second policies: burst=B nodelay, at 50/s the queueing
// variant without nodelay, and at 10/s nodelay with nginx's default limit_req_status, a bare 503.
func NginxPeers() []Peer {
	return []Peer{Nginx(PerSecond50, true), Nginx(PerSecond10, true), Nginx(PerSecond50, false),
		NginxStatus(PerSecond10, true, 503)}
}

// Nginx is nginx's limit_req module as a real process: `limit_req_zone $binary_remote_addr rate=Rr/s`,
// `limit_req burst=B [nodelay]`, `limit_req_status 429`, serving a static file (limit_req runs in the
// preaccess phase, after `return`, so the location must serve content). It sends no rate-limit header.
func Nginx(p Policy, nodelay bool) Peer { return NginxStatus(p, nodelay, 429) }

// NginxStatus is Nginx refusing with the given limit_req_status; 503 is nginx's default, and its variant
// name says so ("nodelay-503").
func NginxStatus(p Policy, nodelay bool, status int) Peer {
	variant, alg := "nodelay", LeakyBucketNginx
	if !nodelay {
		variant, alg = "delay", LeakyQueueNginx
	}
	if status != 429 {
		variant += fmt.Sprintf("-%d", status)
	}
	return Peer{Library: "nginx", Variant: variant, Version: "Debian package", Policy: p, Algorithm: alg,
		Start: func(ctx context.Context) (*Target, error) {
			bin, err := lookPath("nginx", "apt-get install nginx", RequireInteropEnv)
			if err != nil {
				return nil, err
			}
			tok := token()
			return startTarget(ctx, "nginx", "nginx", func(dir string, port int) (*exec.Cmd, string, error) {
				www := filepath.Join(dir, "www")
				if err := os.MkdirAll(www, 0o755); err != nil {
					return nil, "", err
				}
				if err := os.WriteFile(filepath.Join(www, "items"), []byte("ok\n"), 0o644); err != nil {
					return nil, "", err
				}
				conf := filepath.Join(dir, "nginx.conf")
				if err := os.WriteFile(conf, []byte(nginxConfig(dir, port, p, nodelay, status, tok)), 0o644); err != nil {
					return nil, "", err
				}
				log := filepath.Join(dir, "error.log")
				return exec.Command(bin, "-p", dir, "-c", conf, "-e", log, "-g", "daemon off;"), filepath.Join(dir, "stderr.log"), nil
			}, httpReady(tok), "")
		}}
}

// nginxConfig is a one-worker nginx serving dir/www on 127.0.0.1:port behind limit_req refusing with
// status, and its token at /__ready outside the limit.
func nginxConfig(dir string, port int, p Policy, nodelay bool, status int, token string) string {
	rate := fmt.Sprintf("%dr/s", p.Limit)
	if p.Window == 60e9 {
		rate = fmt.Sprintf("%dr/m", p.Limit)
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the worker reads a temporary directory only its owner may enter
	}
	nd := ""
	if nodelay {
		nd = " nodelay"
	}
	r := strings.NewReplacer("DIR", dir, "PORT", fmt.Sprint(port), "RATE", rate, "BURST", fmt.Sprint(p.Burst), "NODELAY", nd, "USER", user, "TOKEN", token, "STATUS", fmt.Sprint(status))
	return r.Replace(`USER
worker_processes 1;
pid DIR/nginx.pid;
error_log DIR/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path DIR/tmp-body;
	proxy_temp_path DIR/tmp-proxy;
	fastcgi_temp_path DIR/tmp-fastcgi;
	uwsgi_temp_path DIR/tmp-uwsgi;
	scgi_temp_path DIR/tmp-scgi;
	keepalive_requests 100000;
	limit_req_zone $binary_remote_addr zone=peer:1m rate=RATE;
	limit_req_status STATUS;
	server {
		listen 127.0.0.1:PORT;
		root DIR/www;
		location / {
			limit_req zone=peer burst=BURSTNODELAY;
		}
		location = /__ready {
			return 200 "TOKEN";
		}
	}
}
`)
}
