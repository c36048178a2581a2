package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ratekit/ratekit/mockserver"
)

// storeNames lists the values of -store.
func storeNames() []string { return []string{"memory", "redis"} }

// newStore builds the store named by -store. Every store is wrapped in a FailingStore, so that
// -store-failure-rate and the /_store switch can make it fail on demand.
func newStore(o *options) (*mockserver.FailingStore, error) {
	var base mockserver.Store
	switch o.store {
	case "memory":
		base = mockserver.NewMemoryStore()
	case "redis":
		// The Redis store lands with its own issue. Wire it in here: build it from o.redis (the -redis
		// address), check the connection, and return it like the memory store.
		return nil, &flagError{flag: "-store redis", msg: fmt.Sprintf("the Redis store is not built yet (-redis %s is not used); use -store memory", o.redis)}
	default:
		return nil, &flagError{flag: "-store", msg: fmt.Sprintf("unknown store %q (allowed: %s)", o.store, strings.Join(storeNames(), ", "))}
	}
	fs, err := mockserver.NewFailingStore(base, o.storeFailureRate, o.seed)
	if err != nil {
		return nil, &flagError{flag: "-store-failure-rate", msg: strings.TrimPrefix(err.Error(), "mockserver: NewFailingStore: ")}
	}
	return fs, nil
}

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
