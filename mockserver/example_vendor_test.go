package mockserver_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/ratekit/ratekit/mockserver"
)

// A Handler that limits and answers like GitHub's REST API, on the plan of a token: core and search are
// separate quotas, and x-ratelimit-resource says which one a response tells of.
func ExampleVendorProfiles() {
	h, err := mockserver.NewHandler(mockserver.Config{Profile: mockserver.ProfileGitHub, DefaultTier: "token"})
	if err != nil {
		panic(err)
	}
	for _, path := range []string{"/repos/octocat/hello-world", "/search/issues?q=bug"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer ghp_example")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("X-Ratelimit-Resource"), rec.Header().Get("X-Ratelimit-Limit"),
			rec.Header().Get("X-Ratelimit-Remaining"))
	}
	fmt.Println(mockserver.VendorProfiles())
	// Output:
	// 200 core 5000 4999
	// 200 search 30 29
	// [github openai anthropic stripe shopify discord]
}
