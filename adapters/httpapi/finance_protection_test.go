package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// TestFinanceSeesWhatThePlatformCarries: a claim against a creditable
// seller is refunded and charged to platform_protection; finance reads it
// as advanced and open until the charge is confirmed. On a database of its
// own, since the figures are the whole ledger's.
func TestFinanceSeesWhatThePlatformCarries(t *testing.T) {
	t.Parallel()
	st := pgtest.Store(t, "protection")
	b := setupOn(t, st)
	fin := b.token(t, "finance", "fin")
	get := func() map[string]any {
		t.Helper()
		r := b.do(t, http.MethodGet, "/v1/finance/protection", fin, nil)
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		return r.json(t)
	}
	empty := get()
	require.Empty(t, empty["advanced"])
	require.Equal(t, float64(0), empty["open_charges"])

	seller := b.newSeller(t, "sel_loom")
	cl := b.fileClaim(t, seller, b.name("shp_erin"), instantAmount, "")
	id := cl["id"].(string)
	refundOn(t, st, id, b.now)
	// The seller read creditable when the claim was decided.
	_, err := st.DB().Exec(`UPDATE claims SET decision_facts = jsonb_set(decision_facts, '{seller_standing}', '"creditable"') WHERE id = $1`, id)
	require.NoError(t, err)
	charge := &claimflow.ChargeSellerStep{Store: st, Now: b.clock.Now, Policy: policyfile.Default()}
	require.NoError(t, charge.Run(context.Background(), id, 1, 10))

	got := get()
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": float64(instantAmount)}}, got["advanced"])
	require.Equal(t, float64(1), got["open_charges"])
	r := b.do(t, http.MethodGet, "/v1/sellers/"+seller+"/balance", fin, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Empty(t, r.json(t)["owed"], "the protected seller owes nothing yet")
	chargeOf := func() map[string]any {
		t.Helper()
		r := b.do(t, http.MethodGet, "/v1/claims/"+id, b.token(t, "seller", seller), nil)
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		return r.json(t)["chargeback"].(map[string]any)
	}
	cb := chargeOf()
	require.Equal(t, true, cb["protected"])
	require.Equal(t, false, cb["on_seller"], "the seller reads that they are not charged yet")

	// Once the window passes uncontested the seller is charged and the
	// platform carries nothing.
	b.clock.Set(b.now.Add(policyfile.Default().ContestWindowOrDefault()))
	deadline := &claimflow.DeadlineStep{Store: st, Policy: policyfile.Default(), Now: b.clock.Now}
	_, err = deadline.RunContest(context.Background(), id)
	require.NoError(t, err)
	fin = b.token(t, "finance", "fin") // minted by the clock that moved on
	got = get()
	cb = chargeOf()
	require.Equal(t, "final", cb["status"])
	require.Equal(t, true, cb["on_seller"], "confirmed: now on the seller")
	require.Empty(t, got["advanced"])
	require.Equal(t, float64(0), got["open_charges"])

	for _, c := range []struct {
		token string
		want  int
	}{{"", 401}, {b.token(t, "agent", "ana"), 403}, {b.token(t, "seller", seller), 403}, {b.token(t, "admin", "root"), 200}} {
		r := b.do(t, http.MethodGet, "/v1/finance/protection", c.token, nil)
		require.Equal(t, c.want, r.Code, string(r.Body))
	}
}
