package mockserver

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratekit/ratekit/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// redisStores returns a constructor of RedisStores on client for testStoreSuite: each store has a key prefix of
// its own, so that the stores of one server are independent. The suite's traces hold concurrency slots for
// minutes of virtual time without releasing them, as the memory store allows: leases last a day here.
func redisStores(client redis.UniversalClient) func(t *testing.T) Store {
	var n atomic.Int64
	return func(t *testing.T) Store {
		s, err := NewRedisStore(client, WithRedisKeyPrefix(fmt.Sprintf("suite%d:", n.Add(1))),
			WithRedisLeaseTimeout(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestRedisStoreSuite(t *testing.T) {
	testStoreSuite(t, redisStores(redistest.Start(t).Client()))
}
