package redisquota_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/redisquota"
	"github.com/redis/go-redis/v9"
)

// Every process of the fleet builds its client the same way: the Transports share each API key's pace
// through Redis. (This example needs a Redis at REDIS_ADDR, so it is compiled, not run.)
func Example() {
	rdb := redis.NewClient(&redis.Options{
		Addr:                  os.Getenv("REDIS_ADDR"),
		ContextTimeoutEnabled: true, // lets the Limiter's 50 ms timeout cut a Redis that hangs
	})
	defer rdb.Close()
	limiter, err := redisquota.New(rdb,
		redisquota.WithKeyPrefix("billing-sync:"),
		redisquota.WithOnFallback(func(err error) { log.Printf("pacing alone: %v", err) }),
		redisquota.WithOnRecover(func() { log.Print("pacing with the fleet again") }),
	)
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: &ratekit.Transport{Limiter: limiter, KeyFunc: ratekit.KeyByAPIKey}}
	resp, err := client.Get("https://api.example.com/v1/items")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
}

// Without Redis, a Limiter paces this process at its share of the fleet's pace: here the fleet may send 10
// requests a second in bursts of 2, and this process, which never learned how many peers it has, takes
// the fallback share, half: 5 a second, one at a time.
func Example_fallback() {
	unreachable := redis.NewClient(&redis.Options{
		ContextTimeoutEnabled: true,
		Dialer: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("no Redis in this example")
		},
		MaxRetries:    -1,
		DialerRetries: 1,
	})
	defer unreachable.Close()
	limiter, err := redisquota.New(unreachable,
		redisquota.WithFallbackShare(0.5),
		redisquota.WithOnFallback(func(err error) { fmt.Println("fallback:", err) }),
	)
	if err != nil {
		log.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	learned := &ratekit.Pace{Rate: 10, Burst: 2} // what this process's Transport learned from the server
	for range 3 {
		wait, err := limiter.Reserve(context.Background(), "https://api.example.com", 1, learned, now)
		fmt.Println("wait", wait, err)
		learned = nil
	}
	fmt.Println("degraded:", limiter.Degraded())
	// Output:
	// fallback: redisquota: reserve "https://api.example.com": no Redis in this example
	// wait 0s <nil>
	// wait 200ms <nil>
	// wait 200ms <nil>
	// degraded: true
}

// Settings out of range are errors that name the setting and what is allowed.
func ExampleNew_errors() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()
	_, err := redisquota.New(rdb, redisquota.WithFallbackShare(4))
	fmt.Println(err)
	blocking := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer blocking.Close()
	_, err = redisquota.New(blocking)
	fmt.Println(err)
	// Output:
	// redisquota: New: fallback share 4: want more than 0 and at most 1 (1/4 for a fleet of 4)
	// redisquota: New: the client's ContextTimeoutEnabled is false: want true (redis.Options{ContextTimeoutEnabled: true}), so that the per-call timeout cuts a Redis that hangs; without it every request would wait for the client's ReadTimeout
}
