package standing

import "math"

// Z is the normal quantile the standing's bounds use: 1.645, one-sided
// 95 %. Each rule reads one side only (credit reads the upper bound,
// penalty the lower), so a rule is wrong about a seller at most one time
// in twenty, in the seller's favour or against, never both.
const Z = 1.645

// Wilson returns the Wilson score interval of k successes in n trials at
// normal quantile z: for z = 1.96, k = 5, n = 10 it is about (0.2366,
// 0.7634); for k = 0, n = 10 about (0, 0.2775).
//
// It never panics and takes any input: n ≤ 0 says nothing, (0, 1); k is
// clamped to [0, n]; a z that is negative or NaN reads as 0 (the interval
// shrinks to k/n) and an infinite z gives (0, 1). Both bounds are in
// [0, 1], exactly 0 for k = 0 and exactly 1 for k = n.
func Wilson(k, n int64, z float64) (low, high float64) {
	if n <= 0 || math.IsInf(z, 0) {
		return 0, 1
	}
	k = max(0, min(k, n))
	if !(z > 0) {
		z = 0
	}
	// Every product is converted before it is added: an explicit
	// conversion keeps the compiler from fusing a multiply and an add,
	// which some architectures round differently, so the bounds (and the
	// per-mille figures read from them) are the same on every machine.
	nf, kf := float64(n), float64(k)
	p := kf / nf
	z2 := float64(z * z)
	den := 1 + z2/nf
	center := (p + z2/float64(2*nf)) / den
	spread := float64(p*(1-p))/nf + z2/float64(float64(4*nf)*nf)
	half := float64(z/den) * math.Sqrt(spread)
	low, high = max(0, center-half), min(1, center+half)
	if k == 0 {
		low = 0
	}
	if k == n {
		high = 1
	}
	return low, high
}

// Bounds returns the Wilson interval at Z of k problems in n orders in
// per-mille (0–1000), the low bound rounded down and the high one up so
// that rounding never narrows it: Bounds(0, 30) is (0, 83), Bounds(2, 5)
// is (142, 728). Its input rules are Wilson's.
func Bounds(k, n int64) (low, high int) {
	l, h := Wilson(k, n, Z)
	return int(math.Floor(l * 1000)), int(math.Ceil(h * 1000))
}
