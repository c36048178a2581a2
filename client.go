package ratekit

import (
	"net/http"
)

// NewClient returns an *http.Client whose Transport is a new *Transport with default settings over
// http.DefaultTransport. Set fields on the Transport (before the first request) to change them:
//
//	client := ratekit.NewClient()
//	client.Transport.(*ratekit.Transport).MaxWait = time.Hour
func NewClient() *http.Client {
	return &http.Client{Transport: &Transport{}}
}
