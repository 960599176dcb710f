package money_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/money"
)

func eur(t *testing.T, a int64) money.Money {
	t.Helper()
	m, err := money.New(a, "EUR")
	require.NoError(t, err)
	return m
}

func TestParseCurrency(t *testing.T) {
	t.Parallel()
	for _, give := range []string{"EUR", "USD", "JPY", "BHD"} {
		c, err := money.ParseCurrency(give)
		require.NoError(t, err)
		require.Equal(t, give, c.String())
	}
	for _, give := range []string{"", "eur", "XXX", "EURO", "€"} {
		_, err := money.ParseCurrency(give)
		require.ErrorIs(t, err, money.ErrUnknownCurrency, give)
	}
}

func TestAddSub(t *testing.T) {
	t.Parallel()
	sum, err := eur(t, 1999).Add(eur(t, 1))
	require.NoError(t, err)
	require.Equal(t, int64(2000), sum.Amount())

	diff, err := eur(t, 100).Sub(eur(t, 250))
	require.NoError(t, err)
	require.Equal(t, int64(-150), diff.Amount())

	usd, err := money.New(1, "USD")
	require.NoError(t, err)
	_, err = eur(t, 1).Add(usd)
	require.ErrorIs(t, err, money.ErrCurrencyMismatch)

	_, err = eur(t, math.MaxInt64).Add(eur(t, 1))
	require.ErrorIs(t, err, money.ErrOverflow)
	_, err = eur(t, math.MinInt64).Sub(eur(t, 1))
	require.ErrorIs(t, err, money.ErrOverflow)
	_, err = eur(t, 0).Sub(eur(t, math.MinInt64))
	require.ErrorIs(t, err, money.ErrOverflow)
}

func TestMulInt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give     int64
		giveN    int64
		want     int64
		overflow bool
	}{
		{give: 1250, giveN: 3, want: 3750},
		{give: 0, giveN: math.MaxInt64, want: 0},
		{give: -7, giveN: 2, want: -14},
		{give: math.MaxInt64, giveN: 2, overflow: true},
		{give: math.MinInt64, giveN: -1, overflow: true},
		{give: -1, giveN: math.MinInt64, overflow: true},
	}
	for _, tt := range tests {
		got, err := eur(t, tt.give).MulInt(tt.giveN)
		if tt.overflow {
			require.ErrorIs(t, err, money.ErrOverflow)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.want, got.Amount())
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	jpy, err := money.New(-5, "JPY")
	require.NoError(t, err)
	bhd, err := money.New(1005, "BHD")
	require.NoError(t, err)
	tests := []struct {
		give money.Money
		want string
	}{
		{give: eur(t, 1234), want: "12.34 EUR"},
		{give: eur(t, 5), want: "0.05 EUR"},
		{give: eur(t, -1999), want: "-19.99 EUR"},
		{give: eur(t, math.MinInt64), want: "-92233720368547758.08 EUR"},
		{give: jpy, want: "-5 JPY"},
		{give: bhd, want: "1.005 BHD"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.give.String())
	}
}

func TestDecimal(t *testing.T) {
	t.Parallel()
	of := func(amount int64, code string) money.Money { return money.Of(amount, money.MustCurrency(code)) }
	for _, tt := range []struct {
		give money.Money
		want string
	}{
		{give: of(1999, "EUR"), want: "19.99"},
		{give: of(0, "EUR"), want: "0.00"},
		{give: of(5, "EUR"), want: "0.05"},
		{give: of(-5, "EUR"), want: "-0.05"},
		{give: of(-1999, "EUR"), want: "-19.99"},
		{give: of(money.MaxAmount(money.MustCurrency("EUR")), "EUR"), want: "10000000000.00"},
		{give: of(-money.MaxAmount(money.MustCurrency("EUR")), "EUR"), want: "-10000000000.00"},
		{give: of(math.MaxInt64, "EUR"), want: "92233720368547758.07"},
		{give: of(math.MinInt64, "EUR"), want: "-92233720368547758.08"},
		{give: of(1999, "JPY"), want: "1999"},
		{give: of(0, "JPY"), want: "0"},
		{give: of(-5, "JPY"), want: "-5"},
		{give: of(money.MaxAmount(money.MustCurrency("JPY")), "JPY"), want: "1000000000000"},
		{give: of(math.MinInt64, "JPY"), want: "-9223372036854775808"},
		{give: of(1, "BHD"), want: "0.001"},
		{give: of(-1005, "BHD"), want: "-1.005"},
		{give: of(1000, "KWD"), want: "1.000"},
		{give: of(money.MaxAmount(money.MustCurrency("BHD")), "BHD"), want: "1000000000.000"},
		{give: of(math.MinInt64, "BHD"), want: "-9223372036854775.808"},
	} {
		require.Equal(t, tt.want, tt.give.Decimal(), "%d %s", tt.give.Amount(), tt.give.Currency())
		require.Equal(t, tt.want+" "+tt.give.Currency().String(), tt.give.String())
	}
}

func TestCmp(t *testing.T) {
	t.Parallel()
	c, err := eur(t, 1).Cmp(eur(t, 2))
	require.NoError(t, err)
	require.Equal(t, -1, c)
	c, err = eur(t, 2).Cmp(eur(t, 2))
	require.NoError(t, err)
	require.Equal(t, 0, c)
	c, err = eur(t, 3).Cmp(eur(t, 2))
	require.NoError(t, err)
	require.Equal(t, 1, c)
}
