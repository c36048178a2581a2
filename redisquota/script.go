package redisquota

import (
	"context"
	_ "embed"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ratekit/ratekit/internal/luaexact"
	"github.com/ratekit/ratekit/internal/redistag"
)

// reserveSource is the Lua script that decides one Reserve (see reserve.lua).
//
//go:embed reserve.lua
var reserveSource string

// reserveScript is the script, shared by every Limiter; go-redis keeps its SHA-1 for EVALSHA.
var reserveScript = redis.NewScript(luaexact.Source + "\n" + reserveSource)

// news is what a caller learned about a key, in the form the script takes: a pace as GCRA spans (interval 0:
// none) and a pause (zero: none).
type news struct {
	interval, burst time.Duration
	pausedUntil     time.Time
}

// merge returns n with later news applied: the later pause wins, and a pace in later replaces n's.
func (n news) merge(later news) news {
	if later.pausedUntil.After(n.pausedUntil) {
		n.pausedUntil = later.pausedUntil
	}
	if later.interval > 0 {
		n.interval, n.burst = later.interval, later.burst
	}
	return n
}

// verdict is the script's decision: how long to wait (and whether for a pause), and what it knows of the
// key's fleet: its members, its pace, and its debt (how far its TAT is ahead of now).
type verdict struct {
	wait            time.Duration
	paused          bool
	peers           int
	interval, burst time.Duration
	debt            time.Duration
}

// replyWidth is the number of integers the script returns.
const replyWidth = 8

// eval runs the script for one Reserve, within the Limiter's timeout.
func (l *Limiter) eval(ctx context.Context, key string, cost int64, n news, now time.Time) (verdict, error) {
	tag := l.tag(key)
	keys := []string{tag + "pace", tag + "members"}
	pauseSec, pauseNs := "", int64(0)
	if !n.pausedUntil.IsZero() {
		pauseSec, pauseNs = strconv.FormatInt(n.pausedUntil.Unix(), 10), int64(n.pausedUntil.Nanosecond())
	}
	args := []any{
		now.Unix(), now.Nanosecond(), cost,
		int64(n.interval), int64(n.burst),
		pauseSec, pauseNs,
		l.cfg.instanceID, l.cfg.peerWindow.Milliseconds(), l.cfg.margin.Milliseconds(),
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.timeout)
	defer cancel()
	reply, err := reserveScript.Run(ctx, l.client, keys, args...).Int64Slice()
	if err != nil {
		return verdict{}, fmt.Errorf("redisquota: reserve %q: %w", key, err)
	}
	if len(reply) != replyWidth {
		return verdict{}, fmt.Errorf("redisquota: reserve %q: the script returned %d integers, want %d", key, len(reply), replyWidth)
	}
	return verdict{
		wait:     seconds(reply[0], reply[1]),
		paused:   reply[2] == 1,
		peers:    int(reply[3]),
		interval: time.Duration(reply[4]),
		burst:    time.Duration(reply[5]),
		debt:     seconds(reply[6], reply[7]),
	}, nil
}

// seconds returns sec seconds plus ns as a Duration, saturated at the largest Duration as time.Time.Sub
// saturates.
func seconds(sec, ns int64) time.Duration {
	const maxSec = int64(math.MaxInt64 / time.Second)
	if sec > maxSec {
		return math.MaxInt64
	}
	d := time.Duration(sec) * time.Second
	if d > math.MaxInt64-time.Duration(ns) {
		return math.MaxInt64
	}
	return d + time.Duration(ns)
}

// tag returns the start of the names of key's Redis keys: the prefix and the hash tag, "<prefix>{<key>}:".
// Both of a key's Redis keys are in the hash slot of its tag, so one script may use them on a cluster.
func (l *Limiter) tag(key string) string {
	return l.cfg.prefix + "{" + redistag.Escape(key) + "}:"
}
