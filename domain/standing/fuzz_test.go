package standing_test

import (
	"math"
	"testing"

	"github.com/claimsd/claimsd/domain/standing"
)

// FuzzCompute checks that Compute takes any input without panicking and
// returns a well-formed standing (see checkWellFormed).
func FuzzCompute(f *testing.F) {
	f.Add(int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), 0, false)
	f.Add(int64(30), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), int64(30), int64(0), 0, true)
	f.Add(int64(5), int64(2), int64(0), int64(0), int64(0), int64(0), int64(0), int64(5), int64(2), 0, false)
	f.Add(int64(40), int64(2), int64(2), int64(2), int64(0), int64(0), int64(0), int64(40), int64(2), 5, false)
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), math.MaxInt, true)
	f.Add(int64(math.MinInt64), int64(-1), int64(math.MinInt64), int64(-1), int64(math.MinInt64), int64(-1), int64(math.MinInt64), int64(-7), int64(math.MinInt64), math.MinInt, false)
	f.Fuzz(func(t *testing.T, orders, claims, counterfeit, confirmed, won, lost, released, yearOrders, yearClaims int64, risk int, verified bool) {
		recent := standing.Counts{
			Orders: orders, Claims: claims, Counterfeit: counterfeit, ConfirmedCounterfeits: confirmed,
			ContestsWon: won, ContestsLost: lost, Released: released,
		}
		year := recent
		year.Orders, year.Claims = yearOrders, yearClaims
		checkWellFormed(t, standing.Inputs{Recent: recent, Year: year, PlatformRiskScore: risk, Verified: verified})
	})
}
