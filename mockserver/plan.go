package mockserver

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// plan is a validated Config in the form the request path uses: indexes instead of names, defaults filled in.
type plan struct {
	tiers             []tierPlan
	tierByKey         map[string]int // principal -> index in tiers
	defaultTier       int
	anonymousTier     int // -1: requests without a key get 401
	keys              keyer
	routes            routeTable
	dims              []dimension // dims[0] is "requests"
	dialect           dialect
	dialectName       string
	rejectStatus      int
	retryAfter        string // the Retry-After format
	render            rendering
	rejectBody        *plainBody // nil: the JSON error body
	reject            rejection  // a vendor profile's rejection; nil: none
	failClosed        bool
	faults            Faults
	metricsPath       string // "" when not served
	statsPath         string
	resetPath         string
	statsMaxKeys      int
	logLinesPerSecond int       // -1: no bound
	built             time.Time // when NewHandler was called
	microAnchors      bool      // the store is a RedisStore: AnchorStart offsets are truncated to the µs
}

// tierPlan is one tier with its rules named and their dimensions resolved.
type tierPlan struct {
	name           string
	rules          []Rule
	capacity       []int64 // the most units a request can cost in rules[i] and still pass
	dim            []int   // index in plan.dims of rules[i]'s dimension
	offsets        []int64 // rules[i]'s window anchor offset in [0, W); 0 for algorithms without windows
	hasConcurrency bool
	byRoute        []tierPlan // when a rule has Routes: the plan of each route (index route+1); nil otherwise
	scope          routeScope // in a route's plan: where its rules are in the tier's
}

// dimension is a unit that rules count, and the header that carries a request's cost in it ("" for none).
type dimension struct {
	name   string
	header string
	body   *BodyCost   // the body's estimate of the cost; nil for none
	openai openAINames // the openai dialect's headers for this dimension
}

// compile validates cfg and turns it into a plan, built at the instant built (AnchorStart windows align
// to it). Every error is a *ConfigError naming the field.
func compile(cfg Config, built time.Time) (*plan, error) {
	_, redisStore := cfg.Store.(*RedisStore)
	p := &plan{anonymousTier: -1, built: built, microAnchors: redisStore}
	var err error
	if cfg, err = applyProfile(cfg); err != nil {
		return nil, err
	}
	if p.keys, err = newKeyer(cfg); err != nil {
		return nil, err
	}
	if p.routes, err = newRouteTable(cfg.Routes); err != nil {
		return nil, err
	}
	if p.dims, err = compileDimensions(cfg.CostHeaders, cfg.BodyCosts); err != nil {
		return nil, err
	}
	if err = p.compileTiers(cfg); err != nil {
		return nil, err
	}
	if err = p.compileResponses(cfg); err != nil {
		return nil, err
	}
	p.rejectBody = profileBody(cfg)
	p.reject = vendorRejection(cfg)
	if err = validateFaults(cfg.Faults); err != nil {
		return nil, err
	}
	p.faults = cfg.Faults
	if p.faults.ErrorStatus == 0 {
		p.faults.ErrorStatus = defaultErrorStatus
	}
	return p, p.compilePaths(cfg)
}

// compileDimensions orders the dimensions: "requests" first, then the others by name.
func compileDimensions(headers map[string]string, bodies map[string]BodyCost) ([]dimension, error) {
	dims := []dimension{{name: DimensionRequests, header: headers[DimensionRequests], openai: newOpenAINames(DimensionRequests)}}
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	sort.Strings(names)
	dims, err := compileBodyCosts(dims, headers, bodies)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		field := "CostHeaders[" + strconv.Quote(name) + "]"
		if !validName(name) {
			return nil, badField(field, name, "dimension %q is not a name (letters, digits, '.', '_', '-')", name)
		}
		if !validHeaderName(headers[name]) {
			return nil, badField(field, headers[name], "%q is not an HTTP header name", headers[name])
		}
		if name != DimensionRequests {
			dims = append(dims, dimension{name: name, header: headers[name], openai: newOpenAINames(name)})
		}
	}
	sort.SliceStable(dims[1:], func(i, j int) bool { return dims[1+i].name < dims[1+j].name })
	return dims, nil
}

// compileTiers names the rules, checks them with NewLimiter, and indexes the tiers' keys.
func (p *plan) compileTiers(cfg Config) error {
	tiers := cfg.Tiers
	if len(tiers) == 0 {
		tiers = defaultTiers()
	}
	p.tierByKey = make(map[string]int)
	byName := make(map[string]int, len(tiers))
	for i, t := range tiers {
		field := fmt.Sprintf("Tiers[%d]", i)
		if !validName(t.Name) {
			return badField(field+".Name", t.Name, "tier name %q is not a name (letters, digits, '.', '_', '-')", t.Name)
		}
		if _, dup := byName[t.Name]; dup {
			return badField(field+".Name", t.Name, "tier name %q is used twice", t.Name)
		}
		byName[t.Name] = i
		tp, err := p.compileTier(field, t)
		if err != nil {
			return err
		}
		if err := p.scopeRoutes(field, &tp); err != nil {
			return err
		}
		for j, k := range t.Keys {
			if k == "" {
				return badField(fmt.Sprintf("%s.Keys[%d]", field, j), k, "empty key")
			}
			if other, dup := p.tierByKey[k]; dup {
				return badField(fmt.Sprintf("%s.Keys[%d]", field, j), k,
					"key %q is already in tier %q", k, tiers[other].Name)
			}
			p.tierByKey[k] = i
		}
		p.tiers = append(p.tiers, tp)
	}
	names := make([]string, len(tiers))
	for i, t := range tiers {
		names[i] = t.Name
	}
	if cfg.DefaultTier != "" {
		i, ok := byName[cfg.DefaultTier]
		if !ok {
			return badValue("DefaultTier", cfg.DefaultTier, "tier", names)
		}
		p.defaultTier = i
	}
	if cfg.AnonymousTier != "" {
		i, ok := byName[cfg.AnonymousTier]
		if !ok {
			return badValue("AnonymousTier", cfg.AnonymousTier, "tier", names)
		}
		p.anonymousTier = i
	}
	return nil
}

// compileTier checks one tier's rules.
func (p *plan) compileTier(field string, t Tier) (tierPlan, error) {
	tp := tierPlan{name: t.Name}
	if len(t.Rules) == 0 {
		return tp, badField(field+".Rules", "", "tier %q has no rules", t.Name)
	}
	dimNames := make([]string, len(p.dims))
	for i, d := range p.dims {
		dimNames[i] = d.name
	}
	for j, r := range t.Rules {
		rf := fmt.Sprintf("%s.Rules[%d]", field, j)
		if !slices.Contains(Algorithms(), r.Algorithm) {
			return tp, badValue(rf+".Algorithm", r.Algorithm, "algorithm", Algorithms())
		}
		if err := r.Policy.Validate(r.Algorithm); err != nil {
			field := rf + ".Policy"
			switch {
			case r.Policy.Limit > maxStructuredInteger:
				field += ".Limit"
			case r.Policy.Burst > maxStructuredInteger:
				field += ".Burst"
			}
			return tp, &ConfigError{Field: field, Value: fmt.Sprintf("%+v", r.Policy),
				Reason: strings.TrimPrefix(err.Error(), "mockserver: "), Err: err}
		}
		if err := validateWindowOptions(rf, r); err != nil {
			return tp, err
		}
		if r.Anchor == AnchorStart {
			// Windows through the instant the Handler is built, as httprate aligns to its limiter's creation.
			if r.Policy.Window <= 0 {
				return tp, badField(rf+".Window", r.Policy.Window.String(), "anchor %q wants a window > 0", r.Anchor)
			}
			r.Anchor, r.AnchorOffset = AnchorEpoch, time.Duration((p.built.UnixNano()+int64(r.AnchorOffset))%int64(r.Policy.Window))
			if p.microAnchors {
				r.AnchorOffset = r.AnchorOffset.Truncate(time.Microsecond) // the Redis store counts whole µs
			}
		}
		if r.Dimension == "" {
			r.Dimension = DimensionRequests
		}
		dim := slices.IndexFunc(p.dims, func(d dimension) bool { return d.name == r.Dimension })
		if dim < 0 {
			return tp, &ConfigError{Field: rf + ".Dimension", Value: r.Dimension,
				Reason: fmt.Sprintf("dimension %q has no entry in Config.CostHeaders", r.Dimension), Allowed: dimNames}
		}
		if r.Name == "" {
			r.Name = defaultRuleName(r)
		}
		if !validName(r.Name) {
			return tp, badField(rf+".Name", r.Name, "rule name %q is not a name (letters, digits, '.', '_', '-')", r.Name)
		}
		if slices.ContainsFunc(tp.rules, func(o Rule) bool { return o.Name == r.Name }) {
			return tp, badField(rf+".Name", r.Name, "rule name %q is used twice in tier %q: name the rules", r.Name, t.Name)
		}
		tp.rules = append(tp.rules, r)
		tp.capacity = append(tp.capacity, r.Policy.Capacity(r.Algorithm))
		tp.dim = append(tp.dim, dim)
		c, err := compileRule(r)
		if err != nil { // validated above; the check keeps a rule that cannot compile out of the plan
			return tp, &ConfigError{Field: rf, Value: r.Name, Reason: err.Error(), Err: err}
		}
		tp.offsets = append(tp.offsets, c.offset)
		tp.hasConcurrency = tp.hasConcurrency || r.Algorithm == Concurrency
	}
	return tp, nil
}

// defaultRuleName names a rule after its window and dimension: "minute", "tokens-day", "10s".
func defaultRuleName(r Rule) string {
	if r.Algorithm == Concurrency {
		return "concurrency"
	}
	var name string
	switch r.Policy.Window {
	case time.Second:
		name = "second"
	case time.Minute:
		name = "minute"
	case time.Hour:
		name = "hour"
	case 24 * time.Hour:
		name = "day"
	default:
		name = r.Policy.Window.String()
	}
	if r.Dimension != DimensionRequests {
		name = r.Dimension + "-" + name
	}
	return name
}

// compileResponses checks how responses are written: dialect, status, Retry-After, failure mode.
func (p *plan) compileResponses(cfg Config) error {
	p.dialectName = cfg.Dialect
	if p.dialectName == "" {
		p.dialectName = DialectIETF
	}
	d, ok := dialectNamed(p.dialectName)
	if !ok {
		return badValue("Dialect", cfg.Dialect, "dialect", Dialects())
	}
	p.dialect = d
	switch cfg.RejectStatus {
	case 0:
		p.rejectStatus = 429
	case 429, 403, 503:
		p.rejectStatus = cfg.RejectStatus
	default:
		return &ConfigError{Field: "RejectStatus", Value: strconv.Itoa(cfg.RejectStatus),
			Reason: fmt.Sprintf("status %d is not a rejection status", cfg.RejectStatus), Allowed: []string{"429", "403", "503"}}
	}
	switch {
	case cfg.RetryAfter == "":
		p.retryAfter = RetryAfterSeconds
	case slices.Contains(RetryAfterFormats(), cfg.RetryAfter):
		p.retryAfter = cfg.RetryAfter
	default:
		return badValue("RetryAfter", cfg.RetryAfter, "Retry-After format", RetryAfterFormats())
	}
	var err error
	if p.render, err = compileRendering(cfg.Render); err != nil {
		return err
	}
	switch cfg.FailureMode {
	case "", FailOpen:
	case FailClosed:
		p.failClosed = true
	default:
		return badValue("FailureMode", cfg.FailureMode, "failure mode", []string{FailOpen, FailClosed})
	}
	return nil
}

// compilePaths fills in the reserved paths and checks that they are paths and distinct.
func (p *plan) compilePaths(cfg Config) error {
	var err error
	if p.metricsPath, err = reservedPath("MetricsPath", cfg.MetricsPath, defaultMetricsPath); err != nil {
		return err
	}
	if p.statsPath, err = reservedPath("StatsPath", cfg.StatsPath, defaultStatsPath); err != nil {
		return err
	}
	if p.resetPath, err = reservedPath("ResetPath", cfg.ResetPath, defaultResetPath); err != nil {
		return err
	}
	if p.statsPath != "" && (p.statsPath == p.metricsPath) {
		return badField("StatsPath", cfg.StatsPath, "%q is already MetricsPath", p.statsPath)
	}
	if p.resetPath != "" && (p.resetPath == p.metricsPath || p.resetPath == p.statsPath) {
		return badField("ResetPath", cfg.ResetPath, "%q is already used by MetricsPath or StatsPath", p.resetPath)
	}
	if cfg.StatsMaxKeys < 0 {
		return badField("StatsMaxKeys", strconv.Itoa(cfg.StatsMaxKeys), "%d is negative (0 means %d)", cfg.StatsMaxKeys, defaultStatsMaxKeys)
	}
	switch {
	case cfg.LogLinesPerSecond < -1:
		return badField("LogLinesPerSecond", strconv.Itoa(cfg.LogLinesPerSecond), "%d is below -1 (0 means %d, -1 no bound)", cfg.LogLinesPerSecond, defaultLogLinesPerSecond)
	case cfg.LogLinesPerSecond == 0:
		p.logLinesPerSecond = defaultLogLinesPerSecond
	default:
		p.logLinesPerSecond = cfg.LogLinesPerSecond
	}
	p.statsMaxKeys = cfg.StatsMaxKeys
	if p.statsMaxKeys == 0 {
		p.statsMaxKeys = defaultStatsMaxKeys
	}
	return nil
}

// reservedPath applies the "" (default) and "-" (off) conventions of the reserved paths.
func reservedPath(field, path, def string) (string, error) {
	switch {
	case path == "":
		return def, nil
	case path == disabledPath:
		return "", nil
	case path[0] != '/':
		return "", badField(field, path, "%q is not a path: it must start with '/' (or be \"-\" to turn it off)", path)
	}
	return path, nil
}

// validateFaults checks the fault rates, status and forms.
func validateFaults(f Faults) error {
	rate := func(field string, v float64) error {
		if !(v >= 0 && v <= 1) { // also rejects NaN
			return badField("Faults."+field, strconv.FormatFloat(v, 'g', -1, 64), "%v is not a fraction between 0 and 1", v)
		}
		return nil
	}
	if err := rate("ErrorRate", f.ErrorRate); err != nil {
		return err
	}
	if err := rate("DropRate", f.DropRate); err != nil {
		return err
	}
	if f.ErrorStatus != 0 && (f.ErrorStatus < 500 || f.ErrorStatus > 599) {
		return badField("Faults.ErrorStatus", strconv.Itoa(f.ErrorStatus), "%d is not a 5xx status (500 to 599)", f.ErrorStatus)
	}
	if f.Latency < 0 {
		return badField("Faults.Latency", f.Latency.String(), "%v is negative", f.Latency)
	}
	if f.LatencyJitter < 0 {
		return badField("Faults.LatencyJitter", f.LatencyJitter.String(), "%v is negative", f.LatencyJitter)
	}
	if f.ResetAs != "" && !slices.Contains(resetForms, f.ResetAs) {
		return badValue("Faults.ResetAs", f.ResetAs, "reset form", resetForms)
	}
	return nil
}

// validateWindowOptions checks a rule's Anchor, AnchorOffset, CountRejected and RoundEstimate, naming the field.
func validateWindowOptions(rf string, r Rule) error {
	alg := parseAlgorithm(r.Algorithm)
	windowed := alg == algFixedWindow || alg == algSlidingWindowCounter
	switch {
	case r.Anchor != "" && !slices.Contains(Anchors(), r.Anchor):
		return badValue(rf+".Anchor", r.Anchor, "anchor", Anchors())
	case r.Anchor != "" && !windowed:
		return badField(rf+".Anchor", r.Anchor, "%s has no windows: anchors apply to %s and %s", r.Algorithm, FixedWindow, SlidingWindowCounter)
	case r.Anchor == AnchorFirstRequest && alg != algFixedWindow:
		return badField(rf+".Anchor", r.Anchor, "anchor %q applies to %s only", r.Anchor, FixedWindow)
	case r.AnchorOffset != 0 && !windowed:
		return badField(rf+".AnchorOffset", r.AnchorOffset.String(), "%s has no windows: offsets apply to %s and %s", r.Algorithm, FixedWindow, SlidingWindowCounter)
	case r.AnchorOffset != 0 && r.Anchor == AnchorFirstRequest:
		return badField(rf+".AnchorOffset", r.AnchorOffset.String(), "want 0 with anchor %q", r.Anchor)
	case r.CountRejected && !windowed:
		return badField(rf+".CountRejected", "true", "applies to %s and %s, not %s", FixedWindow, SlidingWindowCounter, r.Algorithm)
	case r.RoundEstimate && alg != algSlidingWindowCounter:
		return badField(rf+".RoundEstimate", "true", "applies to %s, not %s", SlidingWindowCounter, r.Algorithm)
	}
	return nil
}
