package seller_test

import (
	"strings"
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

func TestSignals(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	s, err := seller.New(seller.Params{ID: "sel_1", Name: "A", RiskScore: 1})
	require.NoError(t, err)
	_, given := s.Signals()
	require.False(t, given, "no seller_signals: keep what is held")

	s, err = seller.New(seller.Params{ID: "sel_1", Name: "A", RiskScore: 1, Signals: &seller.Signals{}})
	require.NoError(t, err)
	list, given := s.Signals()
	require.True(t, given, "an empty set clears")
	require.Empty(t, list)

	s, err = seller.New(seller.Params{ID: "sel_1", Name: "A", RiskScore: 1,
		Signals: &seller.Signals{PaymentAccount: str("9f86d081884c7d65"), Registration: str("9f86d081884c7d65")}})
	require.NoError(t, err)
	list, _ = s.Signals()
	require.Equal(t, []string{"registration", "payment_account"}, []string{list[0].Kind, list[1].Kind})
	require.NotEqual(t, list[0].Digest(), list[1].Digest(), "the same value under two kinds is two signals")
	require.Len(t, list[0].Digest(), 32)

	for _, tt := range []struct {
		give      seller.Signals
		wantField string
		wantCode  string
	}{
		{seller.Signals{Warehouse: str("12 Long Road, Leeds")}, "seller_signals.warehouse", "raw_personal_data"},
		{seller.Signals{PaymentAccount: str("4111 1111 1111 1111")}, "seller_signals.payment_account", "raw_personal_data"},
		{seller.Signals{Registration: str("")}, "seller_signals.registration", "too_short"},
		{seller.Signals{Registration: str(strings.Repeat("a", 129))}, "seller_signals.registration", "too_long"},
	} {
		_, err := seller.New(seller.Params{ID: "sel_1", Name: "A", RiskScore: 1, Signals: &tt.give})
		var verr *validation.Error
		require.ErrorAs(t, err, &verr)
		require.Equal(t, tt.wantField, verr.Field)
		require.Equal(t, tt.wantCode, verr.Code)
	}
}
