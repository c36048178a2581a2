package ratekit

import "net/http"

// NewClient returns an *http.Client that sends its requests through t, or through a new Transport with
// default settings over http.DefaultTransport when t is nil. Configure the Transport where you make it:
//
//	tr := &ratekit.Transport{MaxWait: time.Hour}
//	client := ratekit.NewClient(tr) // tr.Snapshot() shows what it learnt
func NewClient(t *Transport) *http.Client {
	if t == nil {
		t = &Transport{}
	}
	return &http.Client{Transport: t}
}
