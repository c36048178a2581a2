package mockserver_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

// Behind a load balancer and nginx (two proxies of yours, on 10.0.0.0/8), the client is the address nginx
// received the request from: the X-Forwarded-For entry written by your proxies, read from the right. What
// a client writes itself sits further left and is never read, so forging it gains nothing: here the same
// client at 203.0.113.7 claims to be someone new each time and is still limited to 1 request per hour.
func ExampleConfig_trustedProxies() {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	h, err := mockserver.NewHandler(mockserver.Config{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		RawKeys:        true, // to print the key in this example; hashed otherwise
		AdminToken:     "example-token",
		Tiers: []mockserver.Tier{{Name: "default", Rules: []mockserver.Rule{
			{Name: "hour", Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 1, Window: time.Hour}},
		}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	protected := h.Wrap(api)
	for _, forged := range []string{"1.1.1.1", "2.2.2.2", "3.3.3.3"} {
		r := httptest.NewRequest(http.MethodGet, "/v1/items", nil)
		r.RemoteAddr = "10.0.0.2:51234" // nginx
		// The client sent "X-Forwarded-For: forged"; the load balancer (10.0.0.1) appended the client's
		// address, nginx appended the load balancer's.
		r.Header.Set("X-Forwarded-For", forged+", 203.0.113.7, 10.0.0.1")
		w := httptest.NewRecorder()
		protected.ServeHTTP(w, r)
		fmt.Println(forged, w.Code)
	}
	r := httptest.NewRequest(http.MethodGet, "/_stats?key=203.0.113.7", nil)
	r.Header.Set("Authorization", "Bearer example-token")
	w := httptest.NewRecorder()
	protected.ServeHTTP(w, r)
	fmt.Println("stats for 203.0.113.7:", w.Code)
	// Output:
	// 1.1.1.1 200
	// 2.2.2.2 429
	// 3.3.3.3 429
	// stats for 203.0.113.7: 200
}
