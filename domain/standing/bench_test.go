package standing_test

import (
	"testing"

	"github.com/claimsd/claimsd/domain/standing"
)

func BenchmarkCompute(b *testing.B) {
	give := both(standing.Counts{Orders: 40, Claims: 16, Counterfeit: 4, ContestsLost: 1})
	for b.Loop() {
		standing.Compute(give, now)
	}
}
