package ratekit

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ResetFormat says how to read a reset field whose header family does not define its unit, such as
// X-RateLimit-Reset or RateLimit-Reset: the same name means a delay in seconds on one server, Unix epoch
// seconds on GitHub and GitLab, epoch milliseconds on OpenRouter and a date on Mastodon.
type ResetFormat uint8

const (
	// ResetAuto classifies each value: a value with letters is a date (RFC 3339 with or without fraction or
	// seconds, HTTP-date, JavaScript Date.toString); a number of at most 40 days' worth of seconds is a delay
	// in seconds; a larger one, up to 1e11, is Unix epoch seconds; anything larger is Unix epoch
	// milliseconds. For today's dates this is the rule of thumb "1e9 and up is an epoch, 1e12 and up is in
	// milliseconds"; the bounds are drawn where the readings stop being plausible instead, so a server whose
	// clock is years off (read through its Date header) is still understood. It is the zero value.
	ResetAuto ResetFormat = iota
	// ResetDelaySeconds reads numbers as seconds from the response (decimals allowed).
	ResetDelaySeconds
	// ResetDelayMilliseconds reads numbers as milliseconds from the response. No rule can tell these from
	// delay seconds, so such servers must be pinned.
	ResetDelayMilliseconds
	// ResetEpochSeconds reads numbers as Unix time in seconds (decimals allowed, as Discord sends).
	ResetEpochSeconds
	// ResetEpochMilliseconds reads numbers as Unix time in milliseconds.
	ResetEpochMilliseconds
	// ResetDate reads values as dates only (RFC 3339, HTTP-date or JavaScript Date.toString); numbers are
	// ignored.
	ResetDate
)

var resetFormatNames = [...]string{"auto", "delay-seconds", "delay-milliseconds", "epoch-seconds", "epoch-milliseconds", "date"}

// String returns the format's name: auto, delay-seconds, delay-milliseconds, epoch-seconds,
// epoch-milliseconds or date.
func (f ResetFormat) String() string {
	if int(f) < len(resetFormatNames) {
		return resetFormatNames[f]
	}
	return "ResetFormat(" + itoa(int64(f)) + ")"
}

// ParseResetFormat returns the ResetFormat named s (as String prints it).
func ParseResetFormat(s string) (ResetFormat, error) {
	for i, name := range resetFormatNames {
		if s == name {
			return ResetFormat(i), nil
		}
	}
	return 0, &ConfigError{Field: "ResetFormat", Value: strconv.Quote(s), Allowed: resetFormatNames[:]}
}

// Bounds on what a server can plausibly mean. A reset further in the past than resetPastSlack, or any time
// further ahead than maxAhead, is suspect: a misread unit (milliseconds taken for seconds), a broken clock or
// garbage. Suspect values are dropped rather than trusted, so no header can produce an absurd wait.
const (
	maxAhead       = 40 * 24 * time.Hour
	resetPastSlack = time.Minute
)

// Thresholds of the numeric classification of ResetAuto: above maxAhead, a delay would be implausible;
// above epochMillisMin, epoch seconds would be after the year 5000.
const (
	epochMillisMin = 1e11
)

// clock converts the server's times into local ones. received is when the response arrived (with its
// monotonic reading); skew is the local clock minus the server's, learned from the Date header when an
// absolute time first needs it (most responses carry only delays).
type clock struct {
	received  time.Time
	date      []string // the Date field lines
	skew      time.Duration
	skewKnown bool
}

// serverNow is the server's clock at receipt, learned from the Date header. Date has a resolution of one
// second and is written before the response travels, so a receipt up to dateSlack after Date is no evidence
// of skew: the clocks are taken to agree. Beyond that, the server's clock is taken to read Date at receipt,
// the earliest it can, so absolute times convert to the latest local times they can mean and a wait never
// ends early. Without a Date header, the clocks are taken to agree.
func (c *clock) serverNow() time.Time {
	if !c.skewKnown {
		c.skewKnown = true
		for _, v := range c.date {
			if d, ok := parseHTTPDate(trimOWS(v)); ok {
				if gap := c.received.Sub(d); gap < 0 || gap >= dateSlack {
					c.skew = gap
				}
				break
			}
		}
	}
	return c.received.Add(-c.skew)
}

// maxClockSkew is the most a Date header may disagree with the local clock and be believed without
// question. A server's clock runs minutes off at worst; a Date hours or days off is more often a broken
// header (a cached response, local time labelled GMT) beside absolute times that are right, and believing
// it turned a reset a minute ahead into a wait of 936 hours. Beyond it, the skew is believed only where
// the time read on the local clock is implausible and read through Date is not: a server whose whole
// clock is off (a mock server in a synctest bubble's year 2000) writes its resets by that clock too.
const maxClockSkew = 15 * time.Minute

// dateSlack is how long after its Date header a response may arrive without suggesting that the clocks
// disagree: the second Date rounds away, and a second of transit.
const dateSlack = 2 * time.Second

// parseHTTPDate reads an HTTP-date. IMF-fixdate, the form every current server sends, is read by hand
// (BenchmarkHTTPDate: about 50 ns against 125 ns for http.ParseTime or time.Parse, which it short-cuts; the
// Date header of every response with an absolute reset goes through it); the obsolete forms go through
// http.ParseTime. IMF-fixdate with the zone written "UTC" is read too: it is what Go's time.RFC1123 layout
// writes of a UTC time, which servers format their resets and Retry-After with (sethvargo/go-limiter's
// httplimit), and http.ParseTime refuses it, which left such a server's every reset unread.
func parseHTTPDate(v string) (time.Time, bool) {
	// "Mon, 23 Nov 2026 18:00:00 GMT"
	if len(v) == 29 && v[3] == ',' && v[4] == ' ' && v[7] == ' ' && v[11] == ' ' && v[16] == ' ' &&
		v[19] == ':' && v[22] == ':' && v[25] == ' ' && (v[26:] == "GMT" || v[26:] == "UTC") {
		day, ok1 := digits(v[5:7])
		year, ok2 := digits(v[12:16])
		hour, ok3 := digits(v[17:19])
		minute, ok4 := digits(v[20:22])
		second, ok5 := digits(v[23:25])
		month := monthIndex(v[8:11])
		if ok1 && ok2 && ok3 && ok4 && ok5 && month > 0 && day >= 1 && day <= daysIn(month, year) && hour < 24 && minute < 60 && second < 60 &&
			strings.Contains("MonTueWedThuFriSatSun", v[:3]) {
			secs := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+second)
			return time.Unix(secs, 0).UTC(), true
		}
	}
	t, err := http.ParseTime(v)
	return t, err == nil
}

// daysFromCivil is the number of days from 1970-01-01 to year-month-day in the proleptic Gregorian
// calendar (Howard Hinnant's algorithm): a date without time.Date's normalisation and its cost.
func daysFromCivil(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	m := int64(month)
	mp := (m + 9) % 12 // March is 0
	doy := (153*mp+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// daysIn is the number of days in month of year.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func monthIndex(s string) int {
	const months = "JanFebMarAprMayJunJulAugSepOctNovDec"
	for i := 0; i < 12; i++ {
		if months[3*i:3*i+3] == s {
			return i + 1
		}
	}
	return 0
}

// afterSeconds returns received + secs, for delays the server gave in seconds (possibly fractional).
// It reports false for a negative, NaN or implausibly long delay.
func (c *clock) afterSeconds(secs float64) (time.Time, bool) {
	if !(secs >= 0) || secs > maxAhead.Seconds() {
		return time.Time{}, false
	}
	return c.received.Add(time.Duration(math.Round(secs * float64(time.Second)))), true
}

// local converts an absolute server time to local time: received + (t - Date), unless Date is further off
// than maxClockSkew and t is plausible on the local clock as it stands (see maxClockSkew). Without a Date
// header the server's clock is taken to agree with ours. The result keeps received's monotonic reading.
func (c *clock) local(t time.Time) time.Time {
	skewed := c.received.Add(t.Sub(c.serverNow()))
	if c.skew.Abs() <= maxClockSkew {
		return skewed
	}
	if d := t.Sub(c.received); plausibleAhead(d) {
		return c.received.Add(d)
	}
	return skewed
}

// plausibleReset checks a reset time: one up to resetPastSlack in the past is clamped to received (servers
// round down, and Anthropic's can be a second before Date); one further in the past or beyond maxAhead is
// suspect.
func (c *clock) plausibleReset(t time.Time) (time.Time, bool) {
	d := t.Sub(c.received)
	switch {
	case !plausibleAhead(d):
		return time.Time{}, false
	case d < 0:
		return c.received, true
	}
	return t, true
}

// plausibleAhead reports whether a server can mean a time d after the response: at most resetPastSlack
// before it, at most maxAhead after.
func plausibleAhead(d time.Duration) bool { return d >= -resetPastSlack && d <= maxAhead }

// epoch converts Unix seconds (possibly fractional) on the server's clock into local time.
func (c *clock) epoch(secs float64) (time.Time, bool) {
	if !(secs >= 0) || secs > 1e11 {
		return time.Time{}, false
	}
	whole, frac := math.Modf(secs)
	return c.local(time.Unix(int64(whole), int64(math.Round(frac*1e9)))), true
}

// reset reads one reset value in the given format and returns the local time of the reset.
func (c *clock) reset(v string, format ResetFormat) (time.Time, bool) {
	v = trimOWS(v)
	if v == "" {
		return time.Time{}, false
	}
	n, isNumber := number(v)
	if format == ResetAuto {
		switch {
		case !isNumber:
			format = ResetDate
		case n >= epochMillisMin:
			format = ResetEpochMilliseconds
		case n > maxAhead.Seconds():
			format = ResetEpochSeconds
		default:
			format = ResetDelaySeconds
		}
	}
	var t time.Time
	var ok bool
	switch format {
	case ResetDelaySeconds:
		if isNumber {
			t, ok = c.afterSeconds(n)
		}
	case ResetDelayMilliseconds:
		if isNumber {
			t, ok = c.afterSeconds(n / 1000)
		}
	case ResetEpochSeconds:
		if isNumber {
			t, ok = c.epoch(n)
		}
	case ResetEpochMilliseconds:
		if isNumber {
			t, ok = c.epoch(n / 1000)
		}
	case ResetDate:
		var d time.Time
		if d, ok = parseDate(v); ok {
			t = c.local(d)
		}
	}
	if !ok {
		return time.Time{}, false
	}
	return c.plausibleReset(t)
}

// dateLayouts are the date forms seen in reset fields, beyond HTTP-date: RFC 3339 with any fraction
// (Mastodon sends microseconds, Anthropic whole seconds), without seconds (Jira: 2026-03-26T16:00Z), and
// JavaScript's Date.toString once its "(zone name)" suffix is cut.
var dateLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"Mon Jan 02 2006 15:04:05 GMT-0700",
}

// parseDate reads a date in any form a rate-limit header uses.
func parseDate(v string) (time.Time, bool) {
	if i := strings.IndexByte(v, '('); i > 0 {
		v = trimOWS(v[:i])
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return parseHTTPDate(v)
}

// parseDecimal reads a non-negative decimal number: digits, optionally a dot and more digits. Signs,
// exponents, hex, "NaN", "Inf", underscores and empty parts are rejected, so no header can smuggle a value
// strconv.ParseFloat would accept but no server sends.
func parseDecimal(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	var whole float64
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		whole = whole*10 + float64(s[i]-'0')
	}
	intDigits := i
	if i == len(s) {
		return whole, intDigits > 0
	}
	if s[i] != '.' {
		return 0, false
	}
	i++
	frac, scale := 0.0, 1.0
	start := i
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if scale < 1e18 { // further digits cannot change a float64
			frac = frac*10 + float64(s[i]-'0')
			scale *= 10
		}
	}
	if i != len(s) || (intDigits == 0 && i == start) {
		return 0, false
	}
	return whole + frac/scale, true
}

// plainInt reads a line of at most 18 decimal digits without surrounding space, the form nearly every count
// and epoch takes: the fast path before parseDecimal and the merged-value forms.
func plainInt(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	i := 0
	for ; len(s)-i >= 8; i += 8 { // epochs and large counts: eight digits at a time
		d, ok := eightDigits(load8(s, i))
		if !ok {
			return 0, false
		}
		n = n*1e8 + int64(d)
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// eightDigits reads a word of eight ASCII digits, the first in the lowest byte (load8), as a number. It
// reports false if a byte is no digit: a digit's high nibble is 3, and stays 3 when 6 is added (no byte
// carries into the next: at most 0x3f + 6). The digits are then combined in pairs, fours and eights by
// multiplying in place (no lane overflows: 99, 9999, 99999999).
func eightDigits(w uint64) (uint64, bool) {
	const ones, highNibbles = 0x0101010101010101, 0xf0f0f0f0f0f0f0f0
	if w&highNibbles != 0x30*ones || (w+6*ones)&highNibbles != 0x30*ones {
		return 0, false
	}
	w -= 0x30 * ones
	w = (w*10 + w>>8) & 0x00ff00ff00ff00ff
	w = (w*100 + w>>16) & 0x0000ffff0000ffff
	return (w*10000 + w>>32) & 0xffffffff, true
}

// number reads a trimmed value as a number: digits, a decimal, or numbers merged by a proxy ("10, 20": the
// largest, so a merged reset is the latest).
func number(v string) (float64, bool) {
	if n, ok := plainInt(v); ok {
		return float64(n), true
	}
	return maxNumber([]string{v})
}

// parseCount reads a count of units (a limit, remaining or used value): a non-negative decimal, floored,
// because Reddit sends "999.0". It reports false for anything else, including the -1 sentinel of Azure,
// which means "unknown".
func parseCount(s string) (int64, bool) {
	f, ok := parseDecimal(trimOWS(s))
	if !ok || f >= 1<<62 {
		return 0, false
	}
	return int64(f), true
}

// trimOWS removes optional whitespace (SP and HTAB) around a field value.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
