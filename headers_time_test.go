package ratekit

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPlainIntEveryByte checks plainInt, whose words of eight digits are read at once, against
// strconv.ParseInt: every byte value at every position of lines of 1 to 19 digits.
func TestPlainIntEveryByte(t *testing.T) {
	const digits = "9876543210123456789"
	for n := 1; n <= len(digits); n++ {
		for s := range everyByteAt(digits[:n], n) {
			want, err := strconv.ParseInt(s, 10, 64)
			wantOK := err == nil && n <= 18 && s[0] != '+' && s[0] != '-'
			got, ok := plainInt(s)
			if !assert.Equal(t, wantOK, ok, "%q", s) || (ok && !assert.Equal(t, want, got, "%q", s)) {
				return
			}
		}
	}
}
