package ratekit

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestIsAnthropicPrefixEveryByte checks the word-at-a-time prefix test against foldHasPrefix for every
// byte value at every position of the prefix, and around it: the OR-0x20 trick must neither accept a
// byte that is no case of the letter (0x0d for the hyphen, '@' for '`') nor reject one that is.
func TestIsAnthropicPrefixEveryByte(t *testing.T) {
	for _, base := range []string{"anthropic-ratelimit", "ANTHROPIC-PRIORITY", "Anthropic-x"} {
		for i := 0; i <= len("anthropic-"); i++ {
			b := []byte(base)
			for c := 0; c < 256; c++ {
				b[i] = byte(c)
				name := string(b)
				if !assert.Equal(t, foldHasPrefix(name, "anthropic-"), isAnthropicPrefix(name), "%q", name) {
					return
				}
			}
		}
	}
}

// TestIsDateEveryByte checks the word-at-a-time Date test against foldEqual for every byte value at every
// position, in names of four letters and around that length.
func TestIsDateEveryByte(t *testing.T) {
	for _, base := range []string{"Date", "date", "DATE", "dAtE", "Dates", "Dat"} {
		for i := range len(base) {
			b := []byte(base)
			for c := 0; c < 256; c++ {
				b[i] = byte(c)
				name := string(b)
				if !assert.Equal(t, foldEqual(name, "date"), isDate(name), "%q", name) {
					return
				}
			}
		}
	}
}
