package ratekit

import (
	"net/http"
	"net/url"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIsHostKey checks the test registry.getLast makes instead of building a request's key: it may hold
// only when KeyByHost(req) is the key's name (want false with the names equal: the request takes the
// slower path, which finds the key by name).
func TestIsHostKey(t *testing.T) {
	cases := []struct {
		name, name0, host0 string // the key's name and the host of its first request
		url                string // the request's
		want               bool
	}{
		{"same host", "https://api.test", "api.test", "https://api.test/v1", true},
		{"host spelled in capitals both times", "https://api.test", "API.test", "https://API.test/v1", true},
		{"host spelled otherwise than the first time", "https://api.test", "API.test", "https://api.test/v1", false},
		{"other scheme", "https://api.test", "api.test", "http://api.test/v1", false},
		{"other scheme, same length", "https://api.test", "api.test", "wss:x//api.test/v1", false},
		{"with a port", "https://api.test:8443", "api.test:8443", "https://api.test:8443/", true},
		{"other port", "https://api.test:8443", "api.test:8443", "https://api.test:8444/", false},
		{"a KeyFunc's name as long as the host's key", "https://abc.de", "xyz.de", "https://xyz.de/", false},
		{"a KeyFunc's name with no scheme", "xyz.de", "xyz.de", "https://xyz.de/", false},
		{"a KeyFunc's name shorter than the host", "de", "xyz.de", "https://xyz.de/", false},
		{"empty host", "https://", "", "https:///v1", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := url.Parse(c.url)
			require.NoError(t, err)
			req := &http.Request{URL: u}
			k := newKeyState(c.name0, c.host0, &settings{}, time.Time{})
			got := k.isHostKey(req)
			assert.Equal(t, c.want, got, "KeyByHost(req) = %q", KeyByHost(req))
			if got {
				assert.Equal(t, c.name0, KeyByHost(req), "isHostKey holds for a key that is not req's")
			}
		})
	}
}

// TestLastKey checks that the last key a Transport found by host is never a key it forgot, and never the
// key of another host, even when a KeyFunc named a key as another host's key would be named.
func TestLastKey(t *testing.T) {
	base := roundTrip(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})
	tr := &Transport{Base: base, KeyFunc: func(r *http.Request) string {
		if r.Header.Get("X-Alias") != "" {
			return "https://abc.de" // the name abc.de's requests have by host
		}
		return "" // KeyByHost
	}}
	send := func(rawURL string, alias bool) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, rawURL, nil)
		require.NoError(t, err)
		if alias {
			req.Header.Set("X-Alias", "1")
		}
		_, err = tr.RoundTrip(req)
		require.NoError(t, err)
	}
	send("https://xyz.de/", true)  // key https://abc.de, first sent to xyz.de
	send("https://abc.de/", false) // finds it by name: the last key
	send("https://xyz.de/", false) // its own key, not the last one
	assert.ElementsMatch(t, []string{"https://abc.de", "https://xyz.de"}, keyNames(tr))

	last := tr.keys.last.Load()
	require.NotNil(t, last)
	require.True(t, tr.Forget(last.name))
	assert.Nil(t, tr.keys.last.Load(), "a forgotten key is not the last key")
	send("https://"+last.host+"/", false)
	assert.NotSame(t, last, tr.keys.last.Load(), "the request after Forget finds a new key")
}

// TestLastKeyStillSweeps checks that requests that all find the last key still sweep idle keys when a
// sweep is due: a client that calls one host all day forgets the hosts it called once.
func TestLastKeyStillSweeps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &Transport{IdleTimeout: time.Minute, Base: roundTrip(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		})}
		send := func(rawURL string) {
			t.Helper()
			req, err := http.NewRequest(http.MethodGet, rawURL, nil)
			require.NoError(t, err)
			_, err = tr.RoundTrip(req)
			require.NoError(t, err)
		}
		send("https://once.test/")
		for range 120 { // two minutes of one request a second to the last key
			send("https://busy.test/")
			time.Sleep(time.Second)
		}
		assert.Equal(t, []string{"https://busy.test"}, keyNames(tr), "keys held after once.test was idle for 2 minutes")
	})
}

// roundTrip adapts a function to http.RoundTripper.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func keyNames(tr *Transport) []string {
	var names []string
	for _, k := range tr.keys.all() {
		names = append(names, k.name)
	}
	return names
}
