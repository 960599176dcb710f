package validation_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
)

func TestCheckMaxAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give     int64
		giveCur  string
		wantErr  bool
		wantText string
	}{
		{give: 0, giveCur: "EUR"},
		{give: -1, giveCur: "EUR"}, // the sign is the caller's rule
		{give: 1_000_000_000_000, giveCur: "EUR"},
		{give: 1_000_000_000_001, giveCur: "EUR", wantErr: true,
			wantText: "amount: must be at most 10000000000.00 EUR (1000000000000 minor units), the largest amount the engine accepts"},
		{give: math.MaxInt64, giveCur: "JPY", wantErr: true,
			wantText: "amount: must be at most 1000000000000 JPY (1000000000000 minor units), the largest amount the engine accepts"},
		{give: math.MaxInt64, giveCur: "BHD", wantErr: true,
			wantText: "amount: must be at most 1000000000.000 BHD (1000000000000 minor units), the largest amount the engine accepts"},
	}
	for _, tt := range tests {
		err := validation.CheckMaxAmount("amount", tt.give, money.MustCurrency(tt.giveCur))
		if !tt.wantErr {
			require.Nil(t, err, "%d %s", tt.give, tt.giveCur)
			continue
		}
		require.NotNil(t, err, "%d %s", tt.give, tt.giveCur)
		require.Equal(t, "amount", err.Field)
		require.Equal(t, "amount_too_large", err.Code)
		require.Equal(t, tt.wantText, err.Error())
	}
}
