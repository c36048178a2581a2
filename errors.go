package ratekit

import (
	"strconv"
	"strings"
)

// ConfigError reports a configuration value that ratekit cannot use: which field, what it was, and what is
// allowed instead.
type ConfigError struct {
	Field   string   // the field or option, e.g. "Transport.MaxRetries"
	Value   string   // the value given, as text
	Allowed []string // the allowed values, or a description of the allowed range
}

func (e *ConfigError) Error() string {
	return "ratekit: " + e.Field + ": " + strconv.Quote(e.Value) + " is not allowed; want " + strings.Join(e.Allowed, ", ")
}
