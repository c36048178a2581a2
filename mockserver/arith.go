package mockserver

import (
	"math"
	"math/bits"
)

// Exact integer arithmetic for the bucket algorithms.
//
// The refill rate L / W and the emission interval W / L are rarely whole numbers of nanoseconds, so the bucket
// algorithms keep their state in units that make every step exact: token amounts in 1/W of a token (refilling
// for d ns adds exactly d * L of them) and times in 1/L of a nanosecond (one unit of cost adds exactly W of
// them). The products can exceed 64 bits (a day's window times a large burst), so they are computed in 128 bits
// with math/bits. A result that is a time is rounded up to the next whole nanosecond, so that "waiting
// RetryAfter makes the request pass" holds exactly.

// u128 is an unsigned 128-bit integer, hi * 2^64 + lo.
type u128 struct{ hi, lo uint64 }

// mul64 returns a * b without overflow.
func mul64(a, b uint64) u128 {
	hi, lo := bits.Mul64(a, b)
	return u128{hi, lo}
}

// add returns x + y. Callers keep the sums below 2^128 (every operand here is below 2^126).
func (x u128) add(y u128) u128 {
	lo, carry := bits.Add64(x.lo, y.lo, 0)
	hi, _ := bits.Add64(x.hi, y.hi, carry)
	return u128{hi, lo}
}

// add64 returns x + y.
func (x u128) add64(y uint64) u128 { return x.add(u128{0, y}) }

// sub returns x - y; it requires x >= y.
func (x u128) sub(y u128) u128 {
	lo, borrow := bits.Sub64(x.lo, y.lo, 0)
	hi, _ := bits.Sub64(x.hi, y.hi, borrow)
	return u128{hi, lo}
}

// less reports whether x < y.
func (x u128) less(y u128) bool {
	return x.hi < y.hi || (x.hi == y.hi && x.lo < y.lo)
}

// divmod returns x / d and x % d. When d is 0 or the quotient does not fit in 64 bits it returns
// math.MaxUint64 and false instead of panicking as bits.Div64 would.
func (x u128) divmod(d uint64) (q, r uint64, ok bool) {
	if d == 0 || x.hi >= d {
		return math.MaxUint64, 0, false
	}
	q, r = bits.Div64(x.hi, x.lo, d)
	return q, r, true
}

// floorDiv returns floor(x / d) as an int64, saturating at math.MaxInt64.
func (x u128) floorDiv(d uint64) int64 {
	q, _, _ := x.divmod(d)
	return saturate(q)
}

// ceilDiv returns ceil(x / d) as an int64, saturating at math.MaxInt64.
func (x u128) ceilDiv(d uint64) int64 {
	q, r, ok := x.divmod(d)
	if ok && r != 0 {
		q++
	}
	return saturate(q)
}

// saturate converts u to an int64, clamping it to math.MaxInt64.
func saturate(u uint64) int64 {
	if u > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(u)
}

// fracTime is ns + frac/L nanoseconds with 0 <= frac < L: a time (Unix ns) or a duration exact to 1/L ns, so
// that adding the emission interval W / L never rounds. L is the policy's limit; every operation takes it.
type fracTime struct{ ns, frac int64 }

// emissionTime returns units * W / L as an exact fracTime. The quotient saturates (it fits whenever units is at
// most the policy's burst, which Policy.Validate checks).
func emissionTime(units, window, limit int64) fracTime {
	q, r, _ := mul64(uint64(units), uint64(window)).divmod(uint64(limit))
	return fracTime{saturate(q), int64(r)}
}

// add returns a + b.
func (a fracTime) add(b fracTime, limit int64) fracTime {
	ns := a.ns + b.ns
	frac := uint64(a.frac) + uint64(b.frac)
	if frac >= uint64(limit) {
		frac -= uint64(limit)
		ns++
	}
	return fracTime{ns, int64(frac)}
}

// sub returns a - b.
func (a fracTime) sub(b fracTime, limit int64) fracTime {
	ns := a.ns - b.ns
	frac := a.frac - b.frac
	if frac < 0 {
		frac += limit
		ns--
	}
	return fracTime{ns, frac}
}

// after reports whether a is later than the whole nanosecond t.
func (a fracTime) after(t int64) bool { return a.ns > t || (a.ns == t && a.frac > 0) }

// greater reports whether a > b.
func (a fracTime) greater(b fracTime) bool {
	return a.ns > b.ns || (a.ns == b.ns && a.frac > b.frac)
}

// ceil rounds a up to a whole nanosecond.
func (a fracTime) ceil() int64 {
	if a.frac > 0 {
		return a.ns + 1
	}
	return a.ns
}

// units returns floor(a * L / W) for a duration a >= 0: how many units of cost fit in a. A negative a gives 0.
func (a fracTime) units(limit, window int64) int64 {
	if a.ns < 0 {
		return 0
	}
	return mul64(uint64(a.ns), uint64(limit)).add64(uint64(a.frac)).floorDiv(uint64(window))
}

// floorDiv returns a / b rounded toward negative infinity (b > 0), so that windows align to the Unix epoch
// for times before 1970 too.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// clamp returns v limited to [0, hi].
func clamp(v, hi int64) int64 {
	return min(max(v, 0), hi)
}
