package standing_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/standing"
)

func TestWilson(t *testing.T) {
	t.Parallel()
	// Published values of the Wilson score interval (Wilson 1927;
	// Newcombe 1998, and the 81 of 263 example of Wikipedia's "Binomial
	// proportion confidence interval").
	for _, tt := range []struct {
		name              string
		giveK, giveN      int64
		giveZ             float64
		wantLow, wantHigh float64
	}{
		{"none of ten", 0, 10, 1.96, 0, 0.2775},
		{"half of ten", 5, 10, 1.96, 0.2366, 0.7634},
		{"81 of 263", 81, 263, 1.96, 0.2553, 0.3662},
		{"10 of 100", 10, 100, 1.96, 0.0552, 0.1744},
		{"all of one", 1, 1, 1.645, 0.2698, 1},
		{"two of five", 2, 5, 1.645, 0.1427, 0.7275},
		{"none of thirty", 0, 30, 1.645, 0, 0.0827},
		{"three of 200", 3, 200, 1.645, 0.0060, 0.0369},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			low, high := standing.Wilson(tt.giveK, tt.giveN, tt.giveZ)
			require.InDelta(t, tt.wantLow, low, 0.0001)
			require.InDelta(t, tt.wantHigh, high, 0.0001)
		})
	}
}

func TestWilsonOddInput(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name              string
		giveK, giveN      int64
		giveZ             float64
		wantLow, wantHigh float64
	}{
		{"no trials", 3, 0, 1.96, 0, 1},
		{"negative trials", 0, -5, 1.96, 0, 1},
		{"negative successes read as none", -3, 10, 1.96, 0, 0.2775},
		{"more successes than trials read as all", 12, 10, 1.96, 0.7225, 1},
		{"zero z is the point estimate", 1, 4, 0, 0.25, 0.25},
		{"NaN z is the point estimate", 1, 4, math.NaN(), 0.25, 0.25},
		{"negative z is the point estimate", 1, 4, -1, 0.25, 0.25},
		{"infinite z says nothing", 1, 4, math.Inf(1), 0, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			low, high := standing.Wilson(tt.giveK, tt.giveN, tt.giveZ)
			require.InDelta(t, tt.wantLow, low, 0.0001)
			require.InDelta(t, tt.wantHigh, high, 0.0001)
		})
	}
}

func TestWilsonExtremes(t *testing.T) {
	t.Parallel()
	for _, give := range [][2]int64{
		{math.MaxInt64, math.MaxInt64}, {0, math.MaxInt64}, {1, math.MaxInt64},
		{math.MaxInt64 / 2, math.MaxInt64}, {math.MinInt64, math.MaxInt64}, {math.MaxInt64, math.MinInt64},
	} {
		low, high := standing.Wilson(give[0], give[1], standing.Z)
		require.False(t, math.IsNaN(low) || math.IsNaN(high), "%v", give)
		require.True(t, 0 <= low && low <= high && high <= 1, "%v: %v %v", give, low, high)
	}
}

func TestBounds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		giveK, giveN      int64
		wantLow, wantHigh int
	}{
		{0, 0, 0, 1000},
		{0, 30, 0, 83},
		{2, 5, 142, 728},
		{3, 200, 6, 37},
		{1, 1, 269, 1000},
	} {
		low, high := standing.Bounds(tt.giveK, tt.giveN)
		require.Equal(t, [2]int{tt.wantLow, tt.wantHigh}, [2]int{low, high}, "%d of %d", tt.giveK, tt.giveN)
	}
}

// TestBoundsMonotone: more orders with the same problems never raise a
// bound, one more problem in the same orders never lowers one.
func TestBoundsMonotone(t *testing.T) {
	t.Parallel()
	for n := int64(0); n <= 300; n++ {
		for k := int64(0); k <= n; k++ {
			low, high := standing.Bounds(k, n)
			moreLow, moreHigh := standing.Bounds(k, n+1)
			if moreLow > low || moreHigh > high {
				t.Fatalf("%d of %d: (%d, %d); of %d: (%d, %d)", k, n, low, high, n+1, moreLow, moreHigh)
			}
			if k < n {
				worseLow, worseHigh := standing.Bounds(k+1, n)
				if worseLow < low || worseHigh < high {
					t.Fatalf("%d of %d: (%d, %d); %d: (%d, %d)", k, n, low, high, k+1, worseLow, worseHigh)
				}
			}
		}
	}
}
