package finance_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
)

func TestPercent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		part, whole int64
		want        int64
		wantOK      bool
	}{
		{part: 0, whole: 1, want: 0, wantOK: true},
		{part: 1, whole: 1, want: 100, wantOK: true},
		{part: 1, whole: 3, want: 33, wantOK: true},
		{part: 2, whole: 3, want: 67, wantOK: true},
		{part: 1, whole: 8, want: 13, wantOK: true},  // 12.5 rounds up
		{part: 1, whole: 200, want: 1, wantOK: true}, // 0.5 rounds up
		{part: 1, whole: 201, want: 0, wantOK: true},
		{part: 199, whole: 200, want: 100, wantOK: true}, // 99.5
		{part: math.MaxInt64 / 2, whole: math.MaxInt64, want: 50, wantOK: true},
		{part: math.MaxInt64 - 1, whole: math.MaxInt64, want: 100, wantOK: true},
		{part: 1, whole: math.MaxInt64, want: 0, wantOK: true},
		{part: 0, whole: 0, wantOK: false},
		{part: 1, whole: -1, wantOK: false},
		{part: 2, whole: 1, wantOK: false},
		{part: -1, whole: 1, wantOK: false},
	} {
		got, ok := finance.Percent(tt.part, tt.whole)
		require.Equal(t, tt.wantOK, ok, "%d of %d", tt.part, tt.whole)
		require.Equal(t, tt.want, got, "%d of %d", tt.part, tt.whole)
	}
}

func TestTrialBalanceTotals(t *testing.T) {
	t.Parallel()
	eur, jpy, bhd := money.MustCurrency("EUR"), money.MustCurrency("JPY"), money.MustCurrency("BHD")
	top := money.MaxAmount(eur)

	t.Run("per currency, in currency order", func(t *testing.T) {
		t.Parallel()
		tb := finance.NewTrialBalance()
		require.NoError(t, tb.Add(jpy, 500, 0))
		require.NoError(t, tb.Add(eur, 1999, 0))
		require.NoError(t, tb.Add(eur, 0, 1999))
		require.NoError(t, tb.Add(bhd, 1, 0))
		require.NoError(t, tb.Add(jpy, 0, 400))
		require.NoError(t, tb.Add(eur, top, top))
		got := tb.Totals()
		require.Equal(t, []finance.TrialTotals{
			{Currency: bhd, Debits: 1, Credits: 0},
			{Currency: eur, Debits: top + 1999, Credits: top + 1999},
			{Currency: jpy, Debits: 500, Credits: 400},
		}, got)
		require.False(t, got[0].Balanced())
		require.True(t, got[1].Balanced())
		require.False(t, got[2].Balanced())
	})

	t.Run("nothing posted", func(t *testing.T) {
		t.Parallel()
		require.Empty(t, finance.NewTrialBalance().Totals())
	})

	t.Run("a total beyond int64 is refused, not wrapped", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			name            string
			debits, credits int64
		}{
			{"debits", 1, 0},
			{"credits", 0, 1},
		} {
			tb := finance.NewTrialBalance()
			require.NoError(t, tb.Add(eur, math.MaxInt64, math.MaxInt64))
			err := tb.Add(eur, tt.debits, tt.credits)
			require.ErrorIs(t, err, money.ErrOverflow, tt.name)
			require.ErrorContains(t, err, tt.name+" in EUR")
			require.Equal(t, []finance.TrialTotals{{Currency: eur, Debits: math.MaxInt64, Credits: math.MaxInt64}}, tb.Totals(),
				"unchanged after the refusal")
		}
	})
}
