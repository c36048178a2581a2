package mockserver

import (
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/ratekit/ratekit/internal/luaexact"
)

// The Redis store runs, for each decision, a script holding only the algorithms of that decision's rules: Redis
// runs a cached script's whole body on every EVALSHA, defining every function in it, so a script with all eight
// algorithms made a fixed-window decision pay for the other seven (about 5 µs of each call). The algorithms file
// is cut into its sections (one per state layout: token and leaky buckets share one, the queue and GCRA
// another); a section left out is replaced by an empty table of the same names, which no rule reaches.

// redisSection is one part of store_redis_algorithms.lua: the algorithms it defines and where it starts.
type redisSection struct {
	header string   // the comment line that starts it
	names  []string // the Lua tables it defines
	algs   []algorithmID
}

// redisSections are the sections of store_redis_algorithms.lua, in file order.
var redisSections = []redisSection{
	{"-- fixed-window:", []string{"fixed"}, []algorithmID{algFixedWindow}},
	{"-- sliding-window-counter:", []string{"counter"}, []algorithmID{algSlidingWindowCounter}},
	{"-- sliding-window-log:", []string{"slog"}, []algorithmID{algSlidingWindowLog}},
	{"-- token-bucket and leaky-bucket:", []string{"token", "leaky"}, []algorithmID{algTokenBucket, algLeakyBucket}},
	{"-- leaky-bucket-queue and gcra:", []string{"queue", "gcra"}, []algorithmID{algLeakyBucketQueue, algGCRA}},
	{"-- concurrency:", []string{"conc"}, []algorithmID{algConcurrency}},
}

// redisScripts builds and caches one script per set of sections. Safe for concurrent use.
type redisScripts struct {
	mu      sync.Mutex
	byMask  map[uint8]*redis.Script // guarded by mu
	bodies  []string                // the text of each section, by index in redisSections
	opening string                  // the file's text before its first section
}

// newRedisScripts cuts the algorithms file into its sections.
func newRedisScripts() *redisScripts {
	s := &redisScripts{byMask: make(map[uint8]*redis.Script), bodies: make([]string, len(redisSections))}
	text := redisScriptAlgorithms
	starts := make([]int, len(redisSections)+1)
	for i, sec := range redisSections {
		at := strings.Index(text, "\n"+sec.header)
		if at < 0 || (i > 0 && at < starts[i-1]) {
			panic("mockserver: store_redis_algorithms.lua has no section " + sec.header + " in its place")
		}
		starts[i] = at + 1
	}
	starts[len(redisSections)] = len(text)
	s.opening = text[:starts[0]]
	for i := range redisSections {
		s.bodies[i] = text[starts[i]:starts[i+1]]
	}
	return s
}

// sectionMask returns the set of sections that rules need.
func sectionMask(rules []compiledRule) uint8 {
	var mask uint8
	for i := range rules {
		for j, sec := range redisSections {
			for _, a := range sec.algs {
				if a == rules[i].alg {
					mask |= 1 << j
				}
			}
		}
	}
	return mask
}

// forRules returns the script for rules.
func (s *redisScripts) forRules(rules []compiledRule) *redis.Script {
	mask := sectionMask(rules)
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc, ok := s.byMask[mask]; ok {
		return sc
	}
	sc := redis.NewScript(s.source(mask))
	s.byMask[mask] = sc
	return sc
}

// source returns the script with the sections of mask.
func (s *redisScripts) source(mask uint8) string {
	var b strings.Builder
	b.WriteString(luaexact.Source + "\n" + redisScriptPrelude + "\n" + s.opening)
	for i, sec := range redisSections {
		if mask&(1<<i) != 0 {
			b.WriteString(s.bodies[i])
			continue
		}
		for _, name := range sec.names {
			b.WriteString("local " + name + " = {} -- not in this script: no rule of the call uses it\n")
		}
	}
	b.WriteString("\n" + redisScriptMain)
	return b.String()
}
