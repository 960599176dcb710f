package intelflow

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
)

func TestCheckQuery(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 15, 4, 5, 0, time.UTC)
	q, err := CheckQuery(Query{}, now)
	require.NoError(t, err)
	require.Equal(t, Query{From: time.Date(2025, 12, 8, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC),
		Status: StatusConfirmed, Limit: DefaultLimit}, q, "the last 365 days, today included")

	for _, tt := range []struct {
		name      string
		give      Query
		wantField string
	}{
		{"unknown status", Query{Status: "open"}, "status"},
		{"limit 0 is the default, -1 is not", Query{Limit: -1}, "limit"},
		{"limit over the most", Query{Limit: MaxLimit + 1}, "limit"},
		{"from after to", Query{From: now, To: now.Add(-time.Hour)}, "from"},
		{"from equal to to", Query{From: now, To: now}, "from"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := CheckQuery(tt.give, now)
			var verr *validation.Error
			require.ErrorAs(t, err, &verr)
			require.Equal(t, tt.wantField, verr.Field)
		})
	}
}

func TestAddAmountsNeverWraps(t *testing.T) {
	t.Parallel()
	got, err := addAmounts([]Amount{{"USD", 5}}, []Amount{{"EUR", 7}, {"USD", 3}})
	require.NoError(t, err)
	require.Equal(t, []Amount{{"EUR", 7}, {"USD", 8}}, got, "by currency, in order")
	_, err = addAmounts([]Amount{{"EUR", math.MaxInt64}}, []Amount{{"EUR", 1}})
	require.ErrorIs(t, err, money.ErrOverflow)
}
