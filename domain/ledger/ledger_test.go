package ledger_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
)

var eur, usd = money.MustCurrency("EUR"), money.MustCurrency("USD")

func TestTransfer(t *testing.T) {
	t.Parallel()
	tx, err := ledger.Transfer("k", ledger.KindRefund, ledger.ProviderCash("sandbox"), ledger.ClaimsClearing, money.Of(1999, eur))
	require.NoError(t, err)
	ps := tx.Postings()
	require.Len(t, ps, 2)
	require.Equal(t, ledger.ClaimsClearing, ps[0].Account)
	require.Equal(t, int64(1999), ps[0].Amount.Amount())
	require.Equal(t, int64(-1999), ps[1].Amount.Amount())

	for _, give := range []int64{0, -5} {
		_, err := ledger.Transfer("k", ledger.KindRefund, "a", "b", money.Of(give, eur))
		require.Error(t, err)
	}
}

func TestNewTransactionRefuses(t *testing.T) {
	t.Parallel()
	p := func(acct string, amt int64, cur money.Currency) ledger.Posting {
		return ledger.Posting{Account: ledger.Account(acct), Amount: money.Of(amt, cur)}
	}
	tests := []struct {
		name string
		give []ledger.Posting
	}{
		{name: "one leg", give: []ledger.Posting{p("a", 1, eur)}},
		{name: "unbalanced", give: []ledger.Posting{p("a", 100, eur), p("b", -99, eur)}},
		{name: "balanced across currencies only", give: []ledger.Posting{p("a", 100, eur), p("b", -100, usd)}},
		{name: "zero leg", give: []ledger.Posting{p("a", 0, eur), p("b", 0, eur)}},
		{name: "no account", give: []ledger.Posting{p("", 5, eur), p("b", -5, eur)}},
		{name: "overflow", give: []ledger.Posting{p("a", math.MaxInt64, eur), p("b", 1, eur), p("c", math.MinInt64, eur)}},
	}
	for _, tt := range tests {
		_, err := ledger.NewTransaction("key", ledger.KindRefund, tt.give...)
		require.Error(t, err, tt.name)
	}
	_, err := ledger.NewTransaction("", ledger.KindRefund, p("a", 1, eur), p("b", -1, eur))
	require.Error(t, err)
}

// TestRandomBalancedTransactions: any set of postings built to balance is
// accepted, and nudging one leg by one minor unit is refused.
func TestRandomBalancedTransactions(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var ps []ledger.Posting
		for _, cur := range []money.Currency{eur, usd} {
			n := 1 + r.IntN(4)
			var sum int64
			for j := range n {
				amt := 1 + r.Int64N(1_000_000)
				if j%2 == 1 {
					amt = -amt
				}
				sum += amt
				ps = append(ps, ledger.Posting{Account: ledger.Account("acct" + string(rune('a'+j))), Amount: money.Of(amt, cur)})
			}
			if sum == 0 {
				continue
			}
			ps = append(ps, ledger.Posting{Account: "balancer", Amount: money.Of(-sum, cur)})
		}
		if len(ps) < 2 {
			continue
		}
		_, err := ledger.NewTransaction("k", ledger.KindSellerCharge, ps...)
		require.NoError(t, err)
		i := r.IntN(len(ps))
		nudged, err := ps[i].Amount.Add(money.Of(1, ps[i].Amount.Currency()))
		require.NoError(t, err)
		if nudged.IsZero() {
			continue
		}
		ps[i].Amount = nudged
		_, err = ledger.NewTransaction("k", ledger.KindSellerCharge, ps...)
		require.ErrorIs(t, err, ledger.ErrUnbalanced)
	}
}
