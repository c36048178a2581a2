package mockserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
)

// maxRawKeyLength is the longest key kept as is under Config.RawKeys; a longer one is hashed, so that the
// memory of a state does not grow with the size of a client's header.
const maxRawKeyLength = 256

// defaultKeyHashSecret keys the hash of a Config without KeyHashSecret. It is public: it keeps keys out of
// sight of those who read Redis, logs or /_stats, not from someone who has the code and a guess.
var defaultKeyHashSecret = []byte("github.com/ratekit/ratekit/mockserver key names v1")

// keyIDPrefix starts every hashed key name; keyIDLength is the length of a whole name.
const (
	keyIDPrefix = "k_"
	keyIDBytes  = 12 // 96 bits of HMAC-SHA256: no two of a store's keys collide in practice
	keyIDLength = len(keyIDPrefix) + 2*keyIDBytes
)

// keyNamer turns a request's key into the name that statistics, logs, metrics and the store see: a keyed
// hash (Config.KeyHashSecret), or the key itself under Config.RawKeys when it is short. Safe for concurrent
// use.
type keyNamer struct {
	raw  bool
	macs sync.Pool // of hash.Hash: an HMAC-SHA256 keyed with the secret
}

// newKeyNamer builds the namer of a Config's RawKeys and KeyHashSecret.
func newKeyNamer(raw bool, secret []byte) *keyNamer {
	if len(secret) == 0 {
		secret = defaultKeyHashSecret
	}
	secret = append([]byte(nil), secret...) // the caller may reuse its slice
	n := &keyNamer{raw: raw}
	n.macs.New = func() any { return &keyMAC{mac: hmac.New(sha256.New, secret)} }
	return n
}

// keyMAC is a pooled HMAC with the buffers of one hash: nothing but the name is allocated per request.
type keyMAC struct {
	mac hash.Hash
	in  []byte
	sum [sha256.Size]byte
}

// name returns the name of key.
func (n *keyNamer) name(key string) string {
	if n.raw && len(key) <= maxRawKeyLength {
		return key
	}
	return n.hash(key)
}

// hash returns "k_" and the first 12 bytes of the key's HMAC in hexadecimal.
func (n *keyNamer) hash(key string) string {
	m := n.macs.Get().(*keyMAC)
	m.mac.Reset()
	m.in = append(m.in[:0], key...) // hash.Hash has no WriteString; a []byte(key) would escape
	m.mac.Write(m.in)
	if cap(m.in) > maxRawKeyLength*4 {
		m.in = nil // do not keep a huge key's buffer in the pool
	}
	m.mac.Sum(m.sum[:0])
	var out [keyIDLength]byte
	copy(out[:], keyIDPrefix)
	hex.Encode(out[len(keyIDPrefix):], m.sum[:keyIDBytes])
	n.macs.Put(m)
	return string(out[:])
}

// isKeyName reports whether s has the form of a hashed key name.
func isKeyName(s string) bool {
	if len(s) != keyIDLength || s[:len(keyIDPrefix)] != keyIDPrefix {
		return false
	}
	for _, c := range []byte(s[len(keyIDPrefix):]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
