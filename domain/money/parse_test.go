package money_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/money"
)

func TestParseMajor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give    string
		giveCur string
		want    int64
		wantOK  bool
	}{
		{"150", "EUR", 15000, true},
		{"150.5", "EUR", 15050, true},
		{" 150.50 ", "EUR", 15050, true},
		{"0.01", "EUR", 1, true},
		{"150", "JPY", 150, true},
		{"1.234", "BHD", 1234, true},
		{"999999999999999.99", "EUR", 99999999999999999, true},
		{"150.", "EUR", 0, false},
		{".5", "EUR", 0, false},
		{"150.505", "EUR", 0, false},
		{"150.5", "JPY", 0, false},
		{"-1", "EUR", 0, false},
		{"+1", "EUR", 0, false},
		{"1e3", "EUR", 0, false},
		{"1,50", "EUR", 0, false},
		{"1000000000000000", "EUR", 0, false},
		{"", "EUR", 0, false},
	}
	for _, tt := range tests {
		got, ok := money.ParseMajor(tt.give, money.MustCurrency(tt.giveCur))
		require.Equal(t, tt.wantOK, ok, "%q %s", tt.give, tt.giveCur)
		require.Equal(t, tt.want, got, "%q %s", tt.give, tt.giveCur)
	}
	require.Equal(t, "150", money.Example(money.MustCurrency("JPY")))
	require.Equal(t, "150.00", money.Example(money.MustCurrency("EUR")))
	require.Equal(t, "150.000", money.Example(money.MustCurrency("KWD")))
}
