package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ratekit/ratekit/mockserver"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// storeNames lists the values of -store.
func storeNames() []string { return []string{"memory", "redis"} }

// newStore builds the store named by -store. Every store is wrapped in a FailingStore, so that
// -store-failure-rate and the /_store switch can make it fail on demand. closeStore releases what the store
// holds (the Redis client); call it once the server has stopped.
func newStore(o *options) (store *mockserver.FailingStore, closeStore func(), err error) {
	var base mockserver.Store
	closeStore = func() {}
	switch o.store {
	case "memory":
		base = mockserver.NewMemoryStoreWithCapacity(o.maxStates)
	case "redis":
		client := redis.NewClient(&redis.Options{
			Addr: o.redis,
			// The store bounds every call with a context deadline (1 s); let it cut reads from a Redis that hangs.
			ContextTimeoutEnabled: true,
			// A down Redis should fail a decision fast (the handler then fails open or closed), not after
			// several dial attempts: one retry, one dial attempt each.
			MaxRetries:               1,
			DialerRetries:            1,
			DisableIdentity:          true,
			MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		})
		ctx, cancel := context.WithTimeout(context.Background(), redisCheckTimeout)
		err := client.Ping(ctx).Err()
		cancel()
		if err != nil {
			client.Close()
			return nil, nil, &flagError{flag: "-redis " + o.redis, msg: "cannot reach Redis (for -store redis): " + err.Error()}
		}
		if base, err = mockserver.NewRedisStore(client); err != nil {
			client.Close()
			return nil, nil, err
		}
		closeStore = func() { _ = client.Close() }
	default:
		return nil, nil, &flagError{flag: "-store", msg: fmt.Sprintf("unknown store %q (allowed: %s)", o.store, strings.Join(storeNames(), ", "))}
	}
	fs, err := mockserver.NewFailingStore(base, o.storeFailureRate, o.seed)
	if err != nil {
		closeStore()
		return nil, nil, &flagError{flag: "-store-failure-rate", msg: strings.TrimPrefix(err.Error(), "mockserver: NewFailingStore: ")}
	}
	return fs, closeStore, nil
}

// redisCheckTimeout bounds the PING with which -store redis checks that Redis answers before serving.
const redisCheckTimeout = 3 * time.Second

// storeSwitchPath is ratemock's own reserved path: POST /_store?down=true makes every store call fail (to see
// the server fail open or closed), ?down=false brings it back; GET reports the state.
const storeSwitchPath = "/_store"

// storeSwitch serves storeSwitchPath for fs.
func storeSwitch(fs *mockserver.FailingStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPost:
			down, err := strconv.ParseBool(r.URL.Query().Get("down"))
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_request",
					"message": "want ?down=true or ?down=false"})
				return
			}
			fs.SetDown(down)
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed", "message": "use GET or POST"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"down": fs.Down()})
	})
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
