package ratekit

// WaitReason says why a request waits before it is sent, or why a key is paused. Its String is the text
// that WaitEvent, RateLimitError and KeySnapshot show.
type WaitReason uint8

// The reasons a request waits. A pause (KeySnapshot.PauseReason) is one of WaitServerPause,
// WaitRejectionBackoff and WaitAdaptive.
const (
	// WaitNone: no wait.
	WaitNone WaitReason = iota
	// WaitServerPause: the server asked for the wait (Retry-After, or the reset of an exhausted quota in a
	// rejection).
	WaitServerPause
	// WaitRejectionBackoff: the server refused a request without saying when to come back; the key backs
	// off (Transport.Backoff, per key).
	WaitRejectionBackoff
	// WaitErrorBackoff: a retry after a 5xx answer or a network error backs off (Transport.Backoff, per
	// request).
	WaitErrorBackoff
	// WaitQuota: pacing to a quota the server reported (WaitEvent.Quota names it).
	WaitQuota
	// WaitLocalLimit: pacing to the user's ceiling, Transport.Limit and Burst.
	WaitLocalLimit
	// WaitAdaptive: pacing to the rate learnt from a server that sends no rate-limit headers.
	WaitAdaptive
	// WaitProbe: the key's first request (or the first after a pause or a window's turn) is in flight; the
	// others wait for its answer.
	WaitProbe
	// WaitInFlight: a quota of requests in flight is full; the wait ends when one is answered.
	WaitInFlight
	// WaitFleet: the pace the fleet shares through Transport.Limiter.
	WaitFleet
)

var waitReasonText = [...]string{
	WaitNone:             "no wait",
	WaitServerPause:      "paused by the server",
	WaitRejectionBackoff: "backoff after a rejection",
	WaitErrorBackoff:     "backoff after an error",
	WaitQuota:            "pacing to a quota",
	WaitLocalLimit:       "pacing (Transport.Limit)",
	WaitAdaptive:         "adaptive pacing",
	WaitProbe:            "waiting for the probe",
	WaitInFlight:         "waiting for a request in flight to finish",
	WaitFleet:            "the fleet's shared pace",
}

// String is the reason as text: "paused by the server", "pacing to a quota", ...
func (r WaitReason) String() string {
	if int(r) < len(waitReasonText) {
		return waitReasonText[r]
	}
	return "unknown reason"
}
