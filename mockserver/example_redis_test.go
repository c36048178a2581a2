package mockserver_test

import (
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/ratekit/ratekit/mockserver"
	"github.com/redis/go-redis/v9"
)

// Mock servers that share their quotas through Redis: every server built this way, in this process or another,
// decides against the same state. (Not run: it needs a Redis on localhost:6379. The store's tests run the same
// against a throwaway redis-server.)
func ExampleNewRedisStore() {
	client := redis.NewClient(&redis.Options{
		Addr:                  "localhost:6379",
		ContextTimeoutEnabled: true, // lets the store's per-call timeout cut a read from a Redis that hangs
	})
	defer client.Close()
	store, err := mockserver.NewRedisStore(client,
		mockserver.WithRedisKeyPrefix("mock-api:"),
		mockserver.WithRedisTimeout(250*time.Millisecond),
		mockserver.WithRedisLeaseTimeout(30*time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	h, err := mockserver.NewHandler(mockserver.Config{
		Store: store,
		Tiers: []mockserver.Tier{{Name: "default", Rules: []mockserver.Rule{
			{Name: "minute", Algorithm: mockserver.GCRA, Policy: mockserver.Policy{Limit: 60, Window: time.Minute, Burst: 10}},
		}}},
		FailureMode: mockserver.FailClosed, // Redis down: answer 503 rather than serve without limits
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	fmt.Println("serving on", srv.URL)
}

// Options out of range are errors that say what is allowed; NewRedisStore does not contact Redis.
func ExampleNewRedisStore_errors() {
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer client.Close()
	_, err := mockserver.NewRedisStore(client, mockserver.WithRedisKeyPrefix("{tenant}:"))
	fmt.Println(err)
	_, err = mockserver.NewRedisStore(client, mockserver.WithRedisLeaseTimeout(0))
	fmt.Println(err)
	// Output:
	// mockserver: NewRedisStore: key prefix "{tenant}:": want no '{' or '}' (the store adds the hash tag)
	// mockserver: NewRedisStore: lease timeout 0s: want at least 1µs
}
