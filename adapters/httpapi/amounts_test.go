package httpapi_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
)

// bigClaim files a claim on an order of amount (above any instant limit,
// so it waits for a person), has agent ana approve it, refunds it and
// charges its seller; it returns the claim's id.
func (b *reconcileBundle) bigClaim(t *testing.T, sellerID string, amount int64) string {
	t.Helper()
	cl := b.fileClaim(t, sellerID, b.name(fmt.Sprintf("shp_%d", time.Now().UnixNano())), amount, "")
	require.Equal(t, "in_review", cl["status"])
	r := b.override(t, cl, "approve")
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	id := cl["id"].(string)
	refundOn(t, b.st, id, b.now)
	chargeOn(t, b.st, id, b.now)
	require.Equal(t, "closed", b.getClaim(t, id)["status"])
	return id
}

// TestLargestAmountsAddUpExactly is the walk with amounts the
// engine accepts: the order of 9223372036854775807 is refused, two orders
// at the maximum and two ordinary ones are claimed, refunded and charged,
// and every report that adds them up answers 200 with the exact totals.
func TestLargestAmountsAddUpExactly(t *testing.T) {
	t.Parallel()
	b := setupReconcile(t)
	sellerID := b.newSeller(t, "sel_big")

	orderID := b.name("ord_int64")
	r := b.do(t, http.MethodPut, "/v1/orders/"+orderID, b.token(t, "service", "platform"), map[string]any{
		"buyer_id": b.name("shp_big"), "seller_id": sellerID, "currency": "EUR", "amount": int64(math.MaxInt64),
		"items":   []map[string]any{{"sku": "sku_a", "name": "Thing", "quantity": 1, "unit_amount": int64(math.MaxInt64)}},
		"payment": map[string]any{"provider": "sandbox", "reference": "pay_int64"}, "paid_at": b.now.Add(-day).Format(time.RFC3339),
	})
	require.Equal(t, http.StatusUnprocessableEntity, r.Code, string(r.Body))
	require.Equal(t, "amount", r.errorOf(t)["field"])
	require.Equal(t, "amount_too_large", r.errorOf(t)["code"])
	var n int
	require.NoError(t, b.st.DB().QueryRow(`SELECT count(*) FROM orders WHERE id = $1`, orderID).Scan(&n))
	require.Zero(t, n)

	big := []string{b.bigClaim(t, sellerID, maxAmount), b.bigClaim(t, sellerID, maxAmount)}
	b.closedClaim(t, sellerID, 1000)
	b.closedClaim(t, sellerID, 2500)
	const total = 2*1_000_000_000_000 + 1000 + 2500
	require.Equal(t, int64(total), 2*maxAmount+3500)

	fin := b.finance(t)
	today := b.now.Format("2006-01-02")
	period := "from=" + today + "&to=" + today

	// The trial balance: every amount is posted twice each side (the
	// refund, then the charge to the seller).
	r = b.do(t, http.MethodGet, "/v1/finance/ledger/trial-balance", fin, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	tb := r.json(t)
	require.Equal(t, []any{map[string]any{"currency": "EUR", "debits": float64(2 * total), "credits": float64(2 * total), "balanced": true}}, tb["totals"])
	balances := map[string]float64{}
	for _, a := range tb["accounts"].([]any) {
		m := a.(map[string]any)
		balances[m["account"].(string)] = m["balance"].(float64)
	}
	require.Equal(t, map[string]float64{"provider_cash:sandbox": -total, "claims_clearing": 0, "seller_receivable:" + sellerID: total}, balances)

	// Chargeback totals.
	r = b.do(t, http.MethodGet, "/v1/finance/chargebacks?"+period, fin, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Equal(t, []any{map[string]any{"currency": "EUR", "count": float64(4),
		"charged": float64(total), "released": float64(0), "standing": float64(total)}}, r.json(t)["totals"])
	r = b.do(t, http.MethodGet, "/v1/finance/chargebacks?"+period+"&format=csv", fin, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	recs := readCSV(t, r.Body)
	last := recs[len(recs)-1]
	require.Equal(t, "total_standing", last[0])
	require.Equal(t, "20000000035.00", last[column(t, recs[0], "amount")])
	require.Equal(t, "2000000003500", last[column(t, recs[0], "amount_minor")])

	// What the seller owes, their statement, and a recovery of one minor
	// unit.
	require.Equal(t, float64(total), b.owed(t, sellerID))
	r = b.do(t, http.MethodGet, "/v1/sellers/"+sellerID+"/statement?"+period, fin, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Equal(t, []any{map[string]any{"currency": "EUR", "opening": float64(0), "charges": float64(total),
		"reversals": float64(0), "recoveries": float64(0), "adjustments": float64(0), "closing": float64(total)}}, r.json(t)["totals"])
	r = b.recover(t, sellerID, 1, "bank-one-"+b.id, "")
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": float64(total - 1)}}, r.json(t)["owed"])
	r = b.recover(t, sellerID, maxAmount, "bank-max-"+b.id, "")
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": float64(total - 1 - maxAmount)}}, r.json(t)["owed"])

	// An agent's view of a maximal claim.
	r = b.do(t, http.MethodGet, "/v1/claims/"+big[0]+"/detail", b.token(t, "agent", "ana"), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	sl := r.json(t)["seller"].(map[string]any)
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": float64(total - 1 - maxAmount)}}, sl["owed"])
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": float64(total - maxAmount)}}, sl["history"].(map[string]any)["refunded_90d"])

	// The reconciliation: all four match, and each side adds up exactly.
	run := b.reconcile(t)
	require.Equal(t, float64(4), run["matched"])
	require.Empty(t, run["exceptions"])
	require.Equal(t, []any{map[string]any{"currency": "EUR", "claims": float64(total), "provider": float64(total), "ledger": float64(total)}}, run["totals"])
}

// wrapped finds a figure an int64 sum of positive amounts would show after
// wrapping past its maximum: a negative number of 19 digits.
var wrapped = regexp.MustCompile(`-9\d{18}`)

// TestTotalsBeyondInt64AreNeverShown: on a database written before
// amounts were bounded, where a seller was charged 9223372036854775807
// and more, every answer that needs a total that int64 cannot hold says
// so (500 total_out_of_range) and shows no figure; the refused recovery
// changes nothing.
func TestTotalsBeyondInt64AreNeverShown(t *testing.T) {
	t.Parallel()
	st := pgtest.Store(t, "httpapi_legacy")
	b := &reconcileBundle{testBundle: setupOn(t, st), st: st}
	sellerID := b.newSeller(t, "sel_legacy")
	ids := []string{b.closedClaim(t, sellerID, 1000), b.closedClaim(t, sellerID, 1000)}

	// What the engine stored before the bound: the first claim's amount
	// everywhere it is written, as an order of the largest int64 left it.
	for _, q := range []string{
		`ALTER TABLE orders DROP CONSTRAINT orders_amount_max`,
		`ALTER TABLE claims DROP CONSTRAINT claims_amount_max`,
		`ALTER TABLE sandbox_refunds DROP CONSTRAINT sandbox_refunds_amount_max`,
		`ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_amount_max`,
	} {
		_, err := st.DB().Exec(q)
		require.NoError(t, err, q)
	}
	for _, q := range []string{
		`UPDATE orders SET amount = 9223372036854775807 WHERE id = (SELECT order_id FROM claims WHERE id = $1)`,
		`UPDATE claims SET amount = 9223372036854775807 WHERE id = $1`,
		`UPDATE sandbox_refunds SET amount = 9223372036854775807 WHERE claim_id = $1`,
		`UPDATE ledger_postings SET amount = CASE WHEN amount > 0 THEN 9223372036854775807 ELSE -9223372036854775807 END
		  WHERE transaction_id IN (SELECT id FROM ledger_transactions WHERE claim_id = $1)`,
	} {
		b.exec(t, q, ids[0])
	}

	fin := b.finance(t)
	today := b.now.Format("2006-01-02")
	period := "from=" + today + "&to=" + today
	for _, c := range []struct {
		name, method, path, token string
		body                      any
		headers                   []string
	}{
		{name: "trial balance", method: http.MethodGet, path: "/v1/finance/ledger/trial-balance", token: fin},
		{name: "chargebacks", method: http.MethodGet, path: "/v1/finance/chargebacks?" + period, token: fin},
		{name: "chargebacks as CSV", method: http.MethodGet, path: "/v1/finance/chargebacks?format=csv&" + period, token: fin},
		{name: "seller balance", method: http.MethodGet, path: "/v1/sellers/" + sellerID + "/balance", token: fin},
		{name: "statement", method: http.MethodGet, path: "/v1/sellers/" + sellerID + "/statement?" + period, token: fin},
		{name: "claim detail", method: http.MethodGet, path: "/v1/claims/" + ids[1] + "/detail", token: b.token(t, "agent", "ana")},
		{name: "recovery of one minor unit", method: http.MethodPost, path: "/v1/finance/recoveries", token: fin,
			body:    map[string]any{"seller_id": sellerID, "amount": 1, "currency": "EUR", "method": "payment_received", "reference": "r1"},
			headers: []string{"Idempotency-Key", "legacy-" + b.id}},
	} {
		r := b.do(t, c.method, c.path, c.token, c.body, c.headers...)
		require.Equal(t, http.StatusInternalServerError, r.Code, "%s: %s", c.name, r.Body)
		require.Equal(t, "total_out_of_range", r.errorOf(t)["code"], c.name)
		require.NotRegexp(t, wrapped, string(r.Body), c.name)
	}
	var n int
	require.NoError(t, st.DB().QueryRow(`SELECT count(*) FROM seller_recoveries`).Scan(&n))
	require.Zero(t, n, "the refused recovery recorded nothing")

	// A reconciliation run fails with the reason rather than completing
	// with wrapped totals.
	r := b.do(t, http.MethodPost, "/v1/finance/reconciliations", fin, map[string]any{
		"from": b.now.Add(-time.Hour).Format(time.RFC3339), "to": b.now.Add(time.Hour).Format(time.RFC3339)})
	require.Equal(t, http.StatusAccepted, r.Code, string(r.Body))
	id := r.json(t)["id"].(string)
	require.NoError(t, b.fin.RunReconciliation(context.Background(), id, false))
	r = b.do(t, http.MethodGet, "/v1/finance/reconciliations/"+id, fin, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	run := r.json(t)
	require.Equal(t, "failed", run["status"], string(r.Body))
	require.Contains(t, run["error"], "amount overflows")
	require.NotRegexp(t, wrapped, string(r.Body))
}
