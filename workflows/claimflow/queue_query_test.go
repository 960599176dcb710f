package claimflow_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

func TestQueueQueryParses(t *testing.T) {
	t.Parallel()
	cursor := claimflow.QueueCursor{Deadline: now, ID: "clm_1"}
	f, errs := claimflow.QueueQuery{Reason: "damaged", SellerID: "sel_1", Currency: "EUR", MinAmount: "100", MaxAmount: "2500",
		Limit: "20", Cursor: cursor.String()}.Parse()
	require.Empty(t, errs)
	require.Equal(t, claim.ReasonDamaged, *f.Reason)
	require.Equal(t, "sel_1", f.SellerID)
	require.Equal(t, money.MustCurrency("EUR"), f.Currency)
	require.Equal(t, int64(100), *f.MinAmount)
	require.Equal(t, int64(2500), *f.MaxAmount)
	require.Equal(t, 20, f.Limit)
	require.Equal(t, cursor, *f.After)

	// As typed into a form: major units, any case.
	f, errs = claimflow.QueueQuery{Currency: "eur", MinAmount: "1.00", MaxAmount: "25", Typed: true}.Parse()
	require.Empty(t, errs)
	require.Equal(t, int64(100), *f.MinAmount)
	require.Equal(t, int64(2500), *f.MaxAmount)
	require.Equal(t, claimflow.DefaultPageSize, f.Limit)
}

func TestQueueQueryRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give claimflow.QueueQuery
		want map[string]string // field: code
	}{
		{"reason", claimflow.QueueQuery{Reason: "lost"}, map[string]string{"reason": "invalid_reason"}},
		{"seller", claimflow.QueueQuery{SellerID: "a b"}, map[string]string{"seller_id": "invalid_id"}},
		{"currency", claimflow.QueueQuery{Currency: "XXX"}, map[string]string{"currency": "invalid_currency"}},
		{"lower-case currency from the API", claimflow.QueueQuery{Currency: "eur"}, map[string]string{"currency": "invalid_currency"}},
		{"amount without currency", claimflow.QueueQuery{MinAmount: "1", MaxAmount: "2"}, map[string]string{"currency": "currency_required"}},
		{"negative amount", claimflow.QueueQuery{Currency: "EUR", MinAmount: "-1"}, map[string]string{"min_amount": "invalid_amount"}},
		{"major units to the API", claimflow.QueueQuery{Currency: "EUR", MaxAmount: "1.50"}, map[string]string{"max_amount": "invalid_amount"}},
		{"too many decimals typed", claimflow.QueueQuery{Currency: "EUR", MaxAmount: "1.505", Typed: true}, map[string]string{"max_amount": "invalid_amount"}},
		{"above the maximum", claimflow.QueueQuery{Currency: "EUR", MaxAmount: "9223372036854775807"}, map[string]string{"max_amount": "amount_too_large"}},
		{"min above max", claimflow.QueueQuery{Currency: "EUR", MinAmount: "5", MaxAmount: "4"}, map[string]string{"min_amount": "invalid_range"}},
		{"limit", claimflow.QueueQuery{Limit: "201"}, map[string]string{"limit": "invalid_limit"}},
		{"limit zero", claimflow.QueueQuery{Limit: "0"}, map[string]string{"limit": "invalid_limit"}},
		{"cursor", claimflow.QueueQuery{Cursor: "not*ours"}, map[string]string{"cursor": "invalid_cursor"}},
		{"everything at once", claimflow.QueueQuery{Reason: "x", Currency: "x", Limit: "x", Cursor: "x"},
			map[string]string{"reason": "invalid_reason", "currency": "invalid_currency", "limit": "invalid_limit", "cursor": "invalid_cursor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, errs := tt.give.Parse()
			got := map[string]string{}
			for _, e := range errs {
				got[e.Field] = e.Code
			}
			require.Equal(t, tt.want, got)
		})
	}
}
