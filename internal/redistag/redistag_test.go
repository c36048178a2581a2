package redistag

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEscape(t *testing.T) {
	tests := []struct{ key, want string }{
		{"", "%"},
		{"sk_live_1", "sk_live_1"},
		{"%", "%25"},
		{"a}b", "a%7Db"},
		{"%7D", "%257D"}, // an escaped brace stays apart from a brace
		{"{x}", "{x%7D"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Escape(tt.key), "key %q", tt.key)
	}
	seen := map[string]string{}
	for _, key := range []string{"", "%", "%25", "}", "%7D", "a"} {
		got := Escape(key)
		if other, dup := seen[got]; dup {
			t.Errorf("keys %q and %q escape alike, to %q", other, key, got)
		}
		seen[got] = key
	}
}
