// Package ratekit makes Go HTTP clients good citizens of rate-limited APIs.
//
// Servers say how much quota is left in many dialects: Retry-After in seconds or as a date, the IETF
// RateLimit and RateLimit-Policy fields and their older drafts, X-RateLimit-* with resets that mean a
// delay on one server and an epoch time on the next, and per-dimension headers for requests and tokens on AI
// APIs. ParseHeaders reads them all into one Observation, in local time:
//
//	obs := ratekit.ParseHeaders(resp.Header, time.Now())
//	for _, q := range obs.Quotas {
//		log.Printf("%s", q) // core/requests 4990/5000 reset 2026-11-23T18:30:00Z
//	}
//	time.Sleep(obs.Wait(time.Now())) // Retry-After, else the reset of an exhausted quota, else 0
//
// Garbage never panics and never produces a negative or absurd wait: malformed fields are ignored, and
// times more than a minute in the past or more than 40 days ahead are dropped as implausible. A server
// whose reset unit no rule can classify is pinned with a Parser.
package ratekit
