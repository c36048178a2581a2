package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// rejectionBody is the JSON body of a rule's ordinary rejection ("rate limit exceeded: ...; retry in N s"),
// encoded once when the Handler is built, with the places of the number of seconds left open: a rejection
// then writes its body without encoding JSON or formatting the message. The bytes equal what writeJSON writes
// for the same errorBody.
type rejectionBody struct {
	head, mid, tail []byte // head N mid [N tail]: the seconds appear once in the message, once in retry_after
	withRetryAfter  bool
}

// messagePlaceholder and retryPlaceholder stand for the seconds while the template is encoded.
const (
	messagePlaceholder = "\x00"
	retryPlaceholder   = 987_654_321_987_654
)

// newRejectionBody encodes the template of rule in tier; withRetryAfter adds the retry_after member (every
// dialect but none). nil when the template cannot be cut (a placeholder appears twice).
func newRejectionBody(tier string, rule Rule, withRetryAfter bool) *rejectionBody {
	body := errorBody{Error: errRateLimited, Message: rejectionMessage(tier, rule, messagePlaceholder)}
	sentinel := int64(retryPlaceholder)
	if withRetryAfter {
		body.RetryAfter = &sentinel
	}
	enc, err := json.Marshal(body)
	if err != nil {
		return nil
	}
	enc = append(enc, '\n')
	msg := []byte(`\u0000`)
	if bytes.Count(enc, msg) != 1 {
		return nil
	}
	head, rest, _ := bytes.Cut(enc, msg)
	t := &rejectionBody{head: head, mid: rest, withRetryAfter: withRetryAfter}
	if withRetryAfter {
		num := []byte(strconv.FormatInt(sentinel, 10))
		if bytes.Count(rest, num) != 1 {
			return nil
		}
		t.mid, t.tail, _ = bytes.Cut(rest, num)
	}
	return t
}

// rejectionMessage is the message of an ordinary rejection by rule of tier, retrying in secs seconds.
func rejectionMessage(tier string, rule Rule, secs string) string {
	return fmt.Sprintf("rate limit exceeded: rule %q of tier %q allows %d %s per %v; retry in %s s",
		rule.Name, tier, rule.Policy.Limit, rule.Dimension, rule.Policy.Window, secs)
}

// write writes the rejection with status, for a wait of secs seconds.
func (t *rejectionBody) write(w http.ResponseWriter, status int, secs int64) {
	var num [20]byte
	n := strconv.AppendInt(num[:0], secs, 10)
	size := len(t.head) + len(n) + len(t.mid)
	if t.withRetryAfter {
		size += len(n) + len(t.tail)
	}
	body := make([]byte, 0, size)
	body = append(append(append(body, t.head...), n...), t.mid...)
	if t.withRetryAfter {
		body = append(append(body, n...), t.tail...)
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// jsonContentType is the Content-Type of JSON responses, one slice shared by every response (see dateCache on
// why sharing is safe).
var jsonContentType = []string{"application/json"}

// rejectionBodies returns the templates of every rule of every tier: [tier][rule].
func rejectionBodies(p *plan) [][]*rejectionBody {
	out := make([][]*rejectionBody, len(p.tiers))
	for i := range p.tiers {
		t := &p.tiers[i]
		out[i] = make([]*rejectionBody, len(t.rules))
		for j, r := range t.rules {
			out[i][j] = newRejectionBody(t.name, r, p.dialectName != DialectNone)
		}
	}
	return out
}
