package mockserver

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vendorFixture is one file of testdata/vendors: the headers and bodies a vendor documents (or that were
// recorded from it), replayed as requests at fixed instants of a synctest bubble that starts at 2000-01-01
// 00:00:00 UTC, so that every epoch and RFC 3339 reset is a fixed value. Its format, line by line:
//
//	# a comment (the page the values follow)
//	profile: openai            the profile, and optionally
//	tier: free                 Config.DefaultTier
//	request: POST /v1/chat/completions +20s x3   method, path, instant, repeated 3 times (optional)
//	header: Authorization: Bearer sk-test        a request header (kept for the following requests)
//	body: {"max_tokens":100}                     the request's body (kept, until "body:" alone)
//	response: 429                                the status, then
//	Name: value                                  every response header but Date and Content-Length, in
//	                                             canonical form, sorted; Content-Type only on rejections
//	~                                            instead of headers: only the status is checked
//	| text                                       the rejection's body, line by line, joined by newlines (a
//	                                             last "|" alone ends it with one), checked byte for byte,
//	                                             with Content-Length equal to its length
type vendorFixture struct {
	profile, tier string
	exchanges     []vendorExchange
}

// vendorExchange is one request of a fixture and the response it must get.
type vendorExchange struct {
	method, path string
	at           time.Duration
	repeat       int
	header       http.Header
	body         string
	status       int
	headers      []string
	respBody     string // "" when not checked (a 200)
	bodyLines    int
	unchecked    bool // "~": only the status is checked
	line         int
}

// parseVendorFixture reads one fixture file.
func parseVendorFixture(t *testing.T, path string) vendorFixture {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var f vendorFixture
	header := http.Header{}
	body := ""
	var cur *vendorExchange
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		key, value, _ := strings.Cut(line, ": ")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case key == "profile":
			f.profile = value
		case key == "tier":
			f.tier = value
		case key == "header":
			name, v, ok := strings.Cut(value, ": ")
			require.True(t, ok, "%s:%d: header wants NAME: VALUE", path, n)
			header.Set(name, v)
		case key == "body" || line == "body:":
			body = value
		case key == "request":
			fields := strings.Fields(value)
			require.GreaterOrEqual(t, len(fields), 3, "%s:%d: request wants METHOD PATH +INSTANT", path, n)
			at, err := time.ParseDuration(strings.TrimPrefix(fields[2], "+"))
			require.NoError(t, err, "%s:%d", path, n)
			ex := vendorExchange{method: fields[0], path: fields[1], at: at, repeat: 1, header: header.Clone(), body: body, line: n}
			if len(fields) > 3 {
				ex.repeat, err = strconv.Atoi(strings.TrimPrefix(fields[3], "x"))
				require.NoError(t, err, "%s:%d", path, n)
			}
			f.exchanges = append(f.exchanges, ex)
			cur = &f.exchanges[len(f.exchanges)-1]
		case key == "response":
			require.NotNil(t, cur, "%s:%d: response before any request", path, n)
			cur.status, err = strconv.Atoi(value)
			require.NoError(t, err, "%s:%d", path, n)
		case line == "~":
			require.NotNil(t, cur, "%s:%d", path, n)
			cur.unchecked = true
		case strings.HasPrefix(line, "| ") || line == "|":
			require.NotNil(t, cur, "%s:%d", path, n)
			if cur.bodyLines++; cur.bodyLines > 1 {
				cur.respBody += "\n"
			}
			cur.respBody += strings.TrimPrefix(strings.TrimPrefix(line, "|"), " ")
		default:
			require.NotNil(t, cur, "%s:%d: header before any request", path, n)
			cur.headers = append(cur.headers, line)
		}
	}
	require.NoError(t, sc.Err())
	return f
}

// responseHeaders lists h as the fixtures write it: "Name: value", sorted, without Date and Content-Length
// (nor Content-Type, unless withType).
func responseHeaders(h http.Header, withType bool) []string {
	var out []string
	for name, values := range h {
		if name == "Date" || name == "Content-Length" || name == "Content-Type" && !withType {
			continue
		}
		for _, v := range values {
			out = append(out, name+": "+v)
		}
	}
	slices.Sort(out)
	return out
}

// TestVendorProfilesMatchTheirFixtures replays every fixture of testdata/vendors against a Handler of its
// profile and compares the status, every header and every rejection body byte for byte.
func TestVendorProfilesMatchTheirFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/vendors/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	covered := map[string]bool{}
	for _, file := range files {
		f := parseVendorFixture(t, file)
		covered[f.profile] = true
		t.Run(filepath.Base(file), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				h, err := NewHandler(Config{Profile: f.profile, DefaultTier: f.tier})
				require.NoError(t, err)
				for _, ex := range f.exchanges {
					time.Sleep(time.Until(start.Add(ex.at)))
					for i := range ex.repeat {
						req := httptest.NewRequest(ex.method, ex.path, strings.NewReader(ex.body))
						if ex.body == "" {
							req = httptest.NewRequest(ex.method, ex.path, nil)
						}
						for name, values := range ex.header {
							req.Header[name] = values
						}
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						where := fmt.Sprintf("%s:%d (request %d of %d)", file, ex.line, i+1, ex.repeat)
						require.Equal(t, ex.status, rec.Code, "%s: %s", where, rec.Body.String())
						rejected := rec.Code != http.StatusOK
						if !ex.unchecked {
							assert.Equal(t, ex.headers, responseHeaders(rec.Header(), rejected), where)
						}
						if rejected {
							assert.Equal(t, ex.respBody, rec.Body.String(), where)
							assert.Equal(t, strconv.Itoa(rec.Body.Len()), rec.Header().Get("Content-Length"), where)
						}
					}
				}
			})
		})
	}
	for _, name := range VendorProfiles() {
		assert.True(t, covered[name], "profile %s has no fixture in testdata/vendors", name)
	}
}
