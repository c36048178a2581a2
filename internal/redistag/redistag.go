// Package redistag writes the hash tag of Redis key names, shared by mockserver's Redis store and
// redisquota: both name a client's keys "<prefix>{<tag>}:..." so that one script may use them on a cluster.
package redistag

import "strings"

// escaper writes "%" and "}" so that neither can end or forge a tag.
var escaper = strings.NewReplacer("%", "%25", "}", "%7D")

// Escape writes key so that it can stand between the braces of a hash tag: "%" as "%25", "}" as "%7D" (so
// the tag ends where the caller put its brace), and the empty key (an empty tag would hash the whole name)
// as "%", which no other key becomes.
func Escape(key string) string {
	if key == "" {
		return "%"
	}
	if !strings.ContainsAny(key, "%}") {
		return key
	}
	return escaper.Replace(key)
}
