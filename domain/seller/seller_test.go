package seller_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/domain/validation"
)

func TestNew(t *testing.T) {
	t.Parallel()
	s, err := seller.New(seller.Params{ID: "sel_1", Name: "Acme", RiskScore: 100, StripeAccount: "acct_1Ab"})
	require.NoError(t, err)
	require.Equal(t, 100, s.RiskScore())
	require.Equal(t, "acct_1Ab", s.StripeAccount())

	tests := []struct {
		name      string
		give      seller.Params
		wantField string
		wantCode  string
	}{
		{name: "no id", give: seller.Params{Name: "A"}, wantField: "id", wantCode: "required"},
		{name: "no name", give: seller.Params{ID: "s"}, wantField: "name", wantCode: "required"},
		{name: "risk below 0", give: seller.Params{ID: "s", Name: "A", RiskScore: -1}, wantField: "risk_score", wantCode: "out_of_range"},
		{name: "risk above 100", give: seller.Params{ID: "s", Name: "A", RiskScore: 101}, wantField: "risk_score", wantCode: "out_of_range"},
		{name: "not a connect account", give: seller.Params{ID: "s", Name: "A", StripeAccount: "cus_1"}, wantField: "stripe_account", wantCode: "invalid_stripe_account"},
	}
	for _, tt := range tests {
		_, err := seller.New(tt.give)
		var ve *validation.Error
		require.ErrorAs(t, err, &ve, tt.name)
		require.Equal(t, tt.wantField, ve.Field, tt.name)
		require.Equal(t, tt.wantCode, ve.Code, tt.name)
	}
}
