package mockserver

import (
	"fmt"
	"strings"
)

// ConfigError reports a Config field that NewHandler cannot accept, with the allowed values when they can be
// listed: `mockserver: Config.Dialect: unknown dialect "x" (allowed: ietf, ietf-legacy, ...)`.
type ConfigError struct {
	// Field is the path of the field in Config: "Dialect", "Tiers[1].Rules[0].Policy".
	Field string
	// Value is the rejected value as written in the Config ("" when it was empty).
	Value string
	// Reason says what is wrong, in a phrase that includes the value.
	Reason string
	// Allowed lists the accepted values, when they can be listed.
	Allowed []string
	// Err is the underlying error, if any (for example the one NewLimiter returned for a bad Policy).
	Err error
}

// Error implements error.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("mockserver: Config.")
	b.WriteString(e.Field)
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if len(e.Allowed) > 0 {
		b.WriteString(" (allowed: ")
		b.WriteString(strings.Join(e.Allowed, ", "))
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *ConfigError) Unwrap() error { return e.Err }

// badValue is a ConfigError for a value outside a fixed set.
func badValue(field, value, what string, allowed []string) *ConfigError {
	return &ConfigError{Field: field, Value: value, Reason: fmt.Sprintf("unknown %s %q", what, value), Allowed: allowed}
}

// badField is a ConfigError with a free-form reason.
func badField(field, value, format string, args ...any) *ConfigError {
	return &ConfigError{Field: field, Value: value, Reason: fmt.Sprintf(format, args...)}
}

// validHeaderName reports whether s is an HTTP field name (an RFC 9110 token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validName reports whether s is usable as a tier or rule name: non-empty, letters, digits, '.', '_', '-'.
// Such names need no escaping in any header dialect, metrics label or log line.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
