package mockserver

// slidingLog is the sliding-window-log algorithm's state for one key: the time and cost of every allowed request
// still in the window, oldest first. Requests at the same ns share one entry. Its memory grows with L: it is the
// exact but expensive algorithm.
//
// Arithmetic (int64 ns):
//
//	t      = max(now, newest entry)      (time never runs backwards for a key, so the log stays sorted)
//	live   = the entries with time > t - W (entries with time <= t - W have expired)
//	sum    = the sum of the live costs
//	allow iff c <= L - sum; then append (t, c)
//	Remaining  = L - sum (after the decision)
//	Reset      = newest + W when the log has live entries (when the last one expires), else t
//	RetryAfter = for a rejection with c <= L: the time of the k-th live entry + W - now, for the smallest k
//	             whose k oldest live entries free enough room (sum - their costs + c <= L); 0 when c > L
//
// Memory per key is capped: a log holds at most slidingLogMaxEntries (1000) entries, 16 KB. When a request
// finds the log full, it joins the newest entry, which moves to the request's instant: the requests of that
// entry then all expire W after the last of them. The log stays exact while a key has at most 1000 distinct
// instants in a window (a limit up to 1000, or bursts sharing instants); beyond that it errs only towards
// rejecting: never more than L units in any window, but a client may wait longer than the exact log says.
//
// A Lua port keeps a sorted set scored by time (ZREMRANGEBYSCORE -inf, t - W; then the sum; then ZADD).
type slidingLog struct {
	entries []logEntry // the live entries are entries[head:]; entries[:head] have expired and are dropped lazily
	head    int
	sum     int64 // the sum of the costs in entries[head:]
}

// logEntry is one instant at which requests were allowed.
type logEntry struct {
	at, cost int64
}

// slidingLogMaxEntries caps the entries of one key's log (the Redis store's script has the same cap).
const slidingLogMaxEntries = 1000

// logShrinkCap is the capacity above which a mostly empty log gives its memory back.
const logShrinkCap = 64

// live returns the index of the first entry that is still live at t, and the sum of the costs of the entries
// before it (already expired but not yet dropped).
func (l *slidingLog) live(r *compiledRule, t int64) (first int, expired int64) {
	cutoff := t - r.window
	first = l.head
	for first < len(l.entries) && l.entries[first].at <= cutoff {
		expired += l.entries[first].cost
		first++
	}
	return first, expired
}

// at returns the time from which the log decides: max(now, newest entry).
func (l *slidingLog) at(now int64) int64 {
	if l == nil || l.head == len(l.entries) {
		return now
	}
	return max(now, l.entries[len(l.entries)-1].at)
}

// decide decides a request of cost units at now (cost 0: a view) without changing the log. A nil log is empty.
func (l *slidingLog) decide(r *compiledRule, cost, now int64) verdict {
	t := l.at(now)
	var (
		first int
		sum   int64
	)
	if l != nil {
		var expired int64
		first, expired = l.live(r, t)
		sum = l.sum - expired
	}
	var v verdict
	switch {
	case cost <= r.limit-sum:
		sum += cost
		v.allowed = true
	case cost <= r.limit:
		need := sum + cost - r.limit // units that must expire first
		for i := first; i < len(l.entries); i++ {
			need -= l.entries[i].cost
			if need <= 0 {
				v.retryAfter = l.entries[i].at + r.window - now
				break
			}
		}
	}
	v.remaining = clamp(r.limit-sum, r.limit)
	switch {
	case v.allowed && cost > 0:
		v.reset = t + r.window
	case l != nil && first < len(l.entries):
		v.reset = l.entries[len(l.entries)-1].at + r.window
	default:
		v.reset = t
	}
	return v
}

// commit records an allowed request of cost units at now, first dropping the entries that have expired.
func (l *slidingLog) commit(r *compiledRule, cost, now int64) {
	t := l.at(now)
	first, expired := l.live(r, t)
	l.head = first
	l.sum -= expired
	if cost <= 0 {
		return
	}
	l.sum += cost
	liveCount := len(l.entries) - l.head
	if n := len(l.entries); n > l.head && (l.entries[n-1].at == t || liveCount >= slidingLogMaxEntries) {
		// The same instant, or the log is full: the newest entry takes the request and moves to t. Its
		// earlier requests now expire at t + W, later than they would: conservative, never over the limit.
		l.entries[n-1].at = t
		l.entries[n-1].cost += cost
		return
	}
	switch {
	case cap(l.entries) > logShrinkCap && liveCount < cap(l.entries)/4:
		l.entries = append(make([]logEntry, 0, 2*liveCount+1), l.entries[l.head:]...)
		l.head = 0
	case len(l.entries) == cap(l.entries) && l.head > 0:
		n := copy(l.entries, l.entries[l.head:])
		l.entries = l.entries[:n]
		l.head = 0
	}
	l.entries = append(l.entries, logEntry{at: t, cost: cost})
}
