// Package interop runs ratekit against real, public server-side rate limiters: Go libraries in-process
// (go-chi/httprate, ulule/limiter, throttled, tollbooth, sethvargo/go-limiter, labstack/echo), Redis-backed
// ones against a real redis-server (go-redis/redis_rate, ulule/limiter's Redis store), nginx's limit_req and
// HAProxy's stick-table rate limiting as real processes, and Node's express-rate-limit and
// @fastify/rate-limit and Python's Flask-Limiter as child processes, each on a free port of 127.0.0.1.
//
// It lives in a module of its own (github.com/ratekit/ratekit/interop) so that a user of ratekit never
// downloads these libraries.
//
// A Peer is one library at one policy. Its Start builds a fresh limiter and returns a Target: an
// http.Handler served in memory (the in-process Go peers, whose time is time.Now and so virtual inside a
// testing/synctest bubble) or the URL of a process on loopback (real time). RunBatch sends a batch through a
// client and scores it against the peer's Ideal time; Record sends a Schedule and records every
// rate-limit header of every answer (a Trace), for the differential tests against ratekit's mock server.
//
// Processes the peers need: redis-server, nginx, haproxy, node (with `npm ci` run in peers/node), and a
// python3 that imports flask_limiter and waitress (Debian's python3-flask-limiter and python3-waitress). A
// peer whose binary is absent fails to start with a *MissingError; tests skip on it unless
// RATEKIT_REQUIRE_REDIS (for Redis) or RATEKIT_REQUIRE_INTEROP (for nginx, HAProxy, Node and Python) is
// set, as CI does.
package interop
