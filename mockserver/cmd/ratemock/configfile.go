package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/ratekit/ratekit/mockserver"
)

// fileConfig is the YAML config file (see example.yaml): tiers, routes and cost headers, and optionally the
// key, dialect, profile, Retry-After format and rendering (a flag given on the command line wins over the
// file).
type fileConfig struct {
	Key           string            `yaml:"key"`
	Dialect       string            `yaml:"dialect"`
	Profile       string            `yaml:"profile"`
	RetryAfter    string            `yaml:"retry_after"`
	Render        fileRender        `yaml:"render"`
	Tiers         []fileTier        `yaml:"tiers"`
	DefaultTier   string            `yaml:"default_tier"`
	AnonymousTier string            `yaml:"anonymous_tier"`
	Routes        []fileRoute       `yaml:"routes"`
	CostHeaders   map[string]string `yaml:"cost_headers"`
}

// fileTier is one entry of tiers.
type fileTier struct {
	Name  string     `yaml:"name"`
	Keys  []string   `yaml:"keys"`
	Rules []fileRule `yaml:"rules"`
}

// fileRule is one entry of a tier's rules.
type fileRule struct {
	Name      string   `yaml:"name"`
	Algorithm string   `yaml:"algorithm"`
	Limit     int64    `yaml:"limit"`
	Window    duration `yaml:"window"`
	Burst     int64    `yaml:"burst"`
	Dimension string   `yaml:"dimension"`

	Anchor        string      `yaml:"anchor"`
	AnchorOffset  anyDuration `yaml:"anchor_offset"`
	CountRejected bool        `yaml:"count_rejected"`
	RoundEstimate bool        `yaml:"round_estimate"`
}

// fileRender is the render section: how header values are written (mockserver.Rendering).
type fileRender struct {
	DelayRounding string      `yaml:"delay_rounding"`
	EpochRounding string      `yaml:"epoch_rounding"`
	Precision     string      `yaml:"precision"`
	Reset         string      `yaml:"reset"`
	ResetConstant anyDuration `yaml:"reset_constant"`
	ResetAs       string      `yaml:"reset_as"`
	Limit         string      `yaml:"limit"`
	LimitFormat   string      `yaml:"limit_format"`
}

// rendering converts the section.
func (r fileRender) rendering() mockserver.Rendering {
	return mockserver.Rendering{DelayRounding: r.DelayRounding, EpochRounding: r.EpochRounding, Precision: r.Precision,
		Reset: r.Reset, ResetConstant: time.Duration(r.ResetConstant), ResetAs: r.ResetAs, Limit: r.Limit, LimitFormat: r.LimitFormat}
}

// fileRoute is one entry of routes.
type fileRoute struct {
	Pattern string `yaml:"pattern"`
	Cost    int64  `yaml:"cost"`
}

// duration is a time.Duration written as Go writes durations: 90s, 1m, 24h.
type duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler. Its error is a *yaml.TypeError, so that decoding goes on and
// reports every bad value of the file at once.
func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return &yaml.TypeError{Errors: []string{
			fmt.Sprintf("line %d: window %q is not a duration (write 90s, 1m, 24h)", n.Line, n.Value)}}
	}
	*d = duration(v)
	return nil
}

// anyDuration is a time.Duration other than a window (an anchor offset, a constant reset), written as Go
// writes durations.
type anyDuration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler, as duration does.
func (d *anyDuration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return &yaml.TypeError{Errors: []string{
			fmt.Sprintf("line %d: %q is not a duration (write 250ms, 1s, -1s)", n.Line, n.Value)}}
	}
	*d = anyDuration(v)
	return nil
}

// loadConfigFile reads and decodes path. Unknown settings are errors, so that a typo does not pass silently.
func loadConfigFile(path string) (*fileConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &flagError{flag: "-config", msg: err.Error()}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var fc fileConfig
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return nil, &flagError{flag: "-config " + path, msg: explainYAML(err)}
	}
	return &fc, nil
}

// unknownField matches yaml's message for a setting the file's types do not have.
var unknownField = regexp.MustCompile(`field (\S+) not found in type main\.(\w+)`)

// notANumber matches yaml's message for a value that is not a whole number.
var notANumber = regexp.MustCompile("cannot unmarshal !!\\w+ `([^`]*)` into int64")

// explainYAML rewrites yaml's errors in the file's terms: no Go type names, the allowed settings instead.
func explainYAML(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	msg = unknownField.ReplaceAllStringFunc(msg, func(m string) string {
		sub := unknownField.FindStringSubmatch(m)
		var v any
		where := ""
		switch sub[2] {
		case "fileConfig":
			v = fileConfig{}
		case "fileTier":
			v, where = fileTier{}, " of a tier"
		case "fileRule":
			v, where = fileRule{}, " of a rule"
		case "fileRoute":
			v, where = fileRoute{}, " of a route"
		case "fileRender":
			v, where = fileRender{}, " of render"
		default:
			return m
		}
		return fmt.Sprintf("unknown setting %q%s (allowed: %s)", sub[1], where, strings.Join(yamlFields(v), ", "))
	})
	msg = notANumber.ReplaceAllString(msg, `"$1" is not a whole number`)
	lines := strings.Split(msg, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "; ")
}

// yamlFields lists the yaml names of a struct's fields.
func yamlFields(v any) []string {
	t := reflect.TypeOf(v)
	names := make([]string, t.NumField())
	for i := range names {
		names[i], _, _ = strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
	}
	return names
}

// sets reports whether the file sets the Config field (only the fields a flag can also set are asked about).
func (fc *fileConfig) sets(field string) bool {
	switch field {
	case "Dialect":
		return fc.Dialect != ""
	case "Key":
		return fc.Key != ""
	case "Profile":
		return fc.Profile != ""
	case "RetryAfter":
		return fc.RetryAfter != ""
	}
	return strings.HasPrefix(field, "Render") && fc.Render != fileRender{}
}

// apply copies the file's settings into cfg; a flag given on the command line wins over the file's key and
// dialect.
func (fc *fileConfig) apply(cfg *mockserver.Config, o *options) {
	if fc.Dialect != "" && !o.set["dialect"] {
		cfg.Dialect = fc.Dialect
	}
	if fc.Key != "" && !o.set["key"] {
		cfg.Key = fc.Key
	}
	if fc.Profile != "" && !o.set["profile"] {
		cfg.Profile = fc.Profile
	}
	if fc.RetryAfter != "" && !o.set["retry-after"] {
		cfg.RetryAfter = fc.RetryAfter
	}
	if fc.Render != (fileRender{}) {
		cfg.Render = o.overRender(fc.Render.rendering())
	}
	for _, t := range fc.Tiers {
		tier := mockserver.Tier{Name: t.Name, Keys: t.Keys}
		for _, r := range t.Rules {
			tier.Rules = append(tier.Rules, mockserver.Rule{Name: r.Name, Algorithm: r.Algorithm, Dimension: r.Dimension,
				Policy: mockserver.Policy{Limit: r.Limit, Window: time.Duration(r.Window), Burst: r.Burst},
				Anchor: r.Anchor, AnchorOffset: time.Duration(r.AnchorOffset), CountRejected: r.CountRejected, RoundEstimate: r.RoundEstimate})
		}
		cfg.Tiers = append(cfg.Tiers, tier)
	}
	cfg.DefaultTier = fc.DefaultTier
	cfg.AnonymousTier = fc.AnonymousTier
	for _, r := range fc.Routes {
		cfg.Routes = append(cfg.Routes, mockserver.Route{Pattern: r.Pattern, Cost: r.Cost})
	}
	if len(fc.CostHeaders) > 0 {
		cfg.CostHeaders = make(map[string]string, len(fc.CostHeaders)+1)
		for dim, h := range fc.CostHeaders {
			cfg.CostHeaders[dim] = h
		}
	}
}

// fileField names a Config field as the file writes it: Tiers[0].Rules[1].Policy -> tiers[0].rules[1],
// DefaultTier -> default_tier, CostHeaders["tokens"] -> cost_headers["tokens"].
func fileField(field string) string {
	var parts []string
	for _, seg := range strings.Split(field, ".") {
		if seg == "Policy" { // the file writes a rule's policy inline: limit, window, burst
			continue
		}
		name, index := seg, ""
		if i := strings.IndexByte(seg, '['); i >= 0 {
			name, index = seg[:i], seg[i:]
		}
		parts = append(parts, snakeCase(name)+index)
	}
	return strings.Join(parts, ".")
}

// snakeCase turns a Go field name into the file's spelling: DefaultTier -> default_tier.
func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
