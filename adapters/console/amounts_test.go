package console_test

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

var maxEUR = money.MaxAmount(money.MustCurrency("EUR"))

// approvedAndClosed files a claim of amount (above any instant limit),
// has an agent approve it, refunds it and charges its seller.
func (b *financeBundle) approvedAndClosed(t *testing.T, sellerShort string, amount int64) string {
	t.Helper()
	ctx := context.Background()
	rec := b.file(t, claimSpec{seller: sellerShort, amount: amount})
	require.Equal(t, claim.StatusInReview, rec.Claim.Status())
	id := rec.Claim.ID()
	_, err := b.svc.Override(ctx, agent, id, claimflow.OverrideRequest{Action: claimflow.ActionApprove,
		Note: "The photos match the listing's fakes.", Version: rec.Claim.Version()})
	require.NoError(t, err)
	refund := &claimflow.RefundStep{Store: b.st, Now: b.clock.Now,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(b.st.DB(), sandbox.Config{})}}
	require.NoError(t, refund.Run(ctx, id, 1, 10))
	require.NoError(t, (&claimflow.ChargeSellerStep{Store: b.st, Now: b.clock.Now}).Run(ctx, id, 1, 10))
	return id
}

// TestFinancePagesAddUpTheLargestAmounts: two claims at the largest
// amount the engine accepts and two ordinary ones, all refunded and
// charged today; the finance overview and the trial balance show the
// exact totals.
func TestFinancePagesAddUpTheLargestAmounts(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(9*time.Hour))
	b.approvedAndClosed(t, "sel_big", maxEUR)
	b.approvedAndClosed(t, "sel_big", maxEUR)
	b.closed(t, "sel_big", 1000, "EUR")
	b.closed(t, "sel_big", 2500, "EUR")
	const total = 2*1_000_000_000_000 + 1000 + 2500
	fin := b.signIn(t, "finance", "fin")

	r := b.do(t, http.MethodGet, "/console/finance?days=7", fin.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, r.Body, "<dt>Refunded to shoppers</dt><dd>20000000035.00 EUR</dd>")
	eur := chartBars(t, r.Body, "chart-money-eur")
	require.Equal(t, map[string]int64{"refunded": total, "recovered": 0}, eur[dayLabel(utcToday())])
	require.Contains(t, r.Body, `data-max="5000000000000"`, "the scale's top is a round number above the day's refunds")

	r = b.do(t, http.MethodGet, "/console/finance/trial-balance", fin.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, r.Body, `<h2 id="tb-EUR-h">EUR <span class="badge balanced">balanced</span></h2>`)
	require.Contains(t, r.Body, `<tfoot><tr><th scope="row">Total</th><td class="num nowrap">40000000070.00 EUR</td><td class="num nowrap">40000000070.00 EUR</td>`)
	require.Contains(t, r.Body, `<th scope="row" class="mono">seller_receivable:`+b.name("sel_big")+`</th><td class="num nowrap">20000000035.00 EUR</td>`)
}

// wrapped is a figure an int64 sum of positive amounts shows after
// wrapping past its maximum: a negative number of 19 digits (in minor
// units, or in EUR with its decimal point).
var wrapped = regexp.MustCompile(`-9\d{16}\.?\d\d`)

// TestFinancePagesNeverShowAWrappedTotal: on a database written before
// amounts were bounded, the pages that add such amounts up say a total is
// too large to show, and show no figure.
func TestFinancePagesNeverShowAWrappedTotal(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(9*time.Hour))
	id := b.closed(t, "sel_old", 1000, "EUR")
	b.closed(t, "sel_old", 1000, "EUR")
	fin := b.signIn(t, "finance", "fin") // before: finance lands on the overview
	for _, q := range []string{
		`ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_amount_max`,
		`UPDATE ledger_postings SET amount = CASE WHEN amount > 0 THEN 9223372036854775807 ELSE -9223372036854775807 END
		  WHERE transaction_id IN (SELECT id FROM ledger_transactions WHERE claim_id = '` + id + `')`,
	} {
		_, err := b.st.DB().Exec(q)
		require.NoError(t, err, q)
	}
	for _, path := range []string{"/console/finance?days=7", "/console/finance/trial-balance"} {
		r := b.do(t, http.MethodGet, path, fin.cookie, nil)
		require.Equal(t, http.StatusInternalServerError, r.Code, path)
		require.Contains(t, r.Body, "A total is too large to show", path)
		require.NotRegexp(t, wrapped, r.Body, path)
	}
}
