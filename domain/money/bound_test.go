package money_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
)

func TestMaxAmount(t *testing.T) {
	t.Parallel()
	cs := money.Currencies()
	require.Len(t, cs, 50)
	for _, c := range cs {
		require.Equal(t, int64(1_000_000_000_000), money.MaxAmount(c), c.String())
		require.Equal(t, money.Of(money.MaxAmount(c), c), money.Max(c))
	}
	tests := []struct {
		give string
		want string
	}{
		{give: "EUR", want: "10000000000.00 EUR"},
		{give: "JPY", want: "1000000000000 JPY"},
		{give: "BHD", want: "1000000000.000 BHD"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, money.Max(money.MustCurrency(tt.give)).String())
	}
}

// TestMaxAmountLeavesRoom holds the bound to what its documentation
// promises about the sums the engine makes.
func TestMaxAmountLeavesRoom(t *testing.T) {
	t.Parallel()
	for _, c := range money.Currencies() {
		biggest := money.Max(c)

		// Nine million maximal amounts fit in one int64 sum; one more
		// than math.MaxInt64 / max does not.
		fit := math.MaxInt64 / biggest.Amount()
		require.Equal(t, int64(9_223_372), fit, c.String())
		_, err := biggest.MulInt(fit)
		require.NoError(t, err, c.String())
		_, err = biggest.MulInt(fit + 1)
		require.ErrorIs(t, err, money.ErrOverflow, c.String())

		// An order's lines cannot overflow: neither one line's product nor
		// the sum of the most lines an order has.
		_, err = biggest.MulInt(order.MaxQuantity)
		require.NoError(t, err, c.String())
		_, err = biggest.MulInt(order.MaxItems)
		require.NoError(t, err, c.String())

		// Exact in a float64, as JSON readers in browsers hold numbers.
		require.Less(t, biggest.Amount(), int64(1)<<53, c.String())
	}
}

func TestAddMinor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give     [2]int64
		want     int64
		overflow bool
	}{
		{give: [2]int64{1999, 1}, want: 2000},
		{give: [2]int64{-5, 3}, want: -2},
		{give: [2]int64{math.MaxInt64, 0}, want: math.MaxInt64},
		{give: [2]int64{math.MaxInt64 - 1, 1}, want: math.MaxInt64},
		{give: [2]int64{math.MinInt64, math.MaxInt64}, want: -1},
		{give: [2]int64{math.MaxInt64, 1}, overflow: true},
		{give: [2]int64{math.MaxInt64, math.MaxInt64}, overflow: true},
		{give: [2]int64{math.MinInt64, -1}, overflow: true},
		// The wrap the unchecked + gives: 2^63-1 + 8997 reads as a small
		// negative number.
		{give: [2]int64{math.MaxInt64, 8997}, overflow: true},
	}
	for _, tt := range tests {
		got, err := money.AddMinor(tt.give[0], tt.give[1])
		if tt.overflow {
			require.ErrorIs(t, err, money.ErrOverflow, "%v", tt.give)
			continue
		}
		require.NoError(t, err, "%v", tt.give)
		require.Equal(t, tt.want, got, "%v", tt.give)
	}
}
