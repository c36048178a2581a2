package ratekit

import (
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestIsAnthropicPrefixEveryByte checks the word-at-a-time prefix test against foldHasPrefix for every
// byte value at every position of the prefix, and around it: the OR-0x20 trick must neither accept a
// byte that is no case of the letter (0x0d for the hyphen, '@' for '`') nor reject one that is.
func TestIsAnthropicPrefixEveryByte(t *testing.T) {
	for _, base := range []string{"anthropic-ratelimit", "ANTHROPIC-PRIORITY", "Anthropic-x"} {
		for name := range everyByteAt(base, len("anthropic-")+1) {
			if !assert.Equal(t, foldHasPrefix(name, "anthropic-"), isAnthropicPrefix(name), "%q", name) {
				return
			}
		}
	}
}

// TestIsDateEveryByte checks the word-at-a-time Date test against foldEqual for every byte value at every
// position, in names of four letters and around that length.
func TestIsDateEveryByte(t *testing.T) {
	for _, base := range []string{"Date", "date", "DATE", "dAtE", "Dates", "Dat"} {
		for name := range everyByteAt(base, len(base)) {
			if !assert.Equal(t, foldEqual(name, "date"), isDate(name), "%q", name) {
				return
			}
		}
	}
}

// everyByteAt yields base with the byte at each of its first n positions replaced by every byte value in
// turn: the inputs that tell a word-at-a-time test from the byte loop it replaces.
func everyByteAt(base string, n int) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := range n {
			b := []byte(base)
			for c := range 256 {
				b[i] = byte(c)
				if !yield(string(b)) {
					return
				}
			}
		}
	}
}
