package httpapi_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// reconcileBundle is a router on a database of the test's own: a
// reconciliation reads every claim of its period.
type reconcileBundle struct {
	*testBundle
	st *pgstore.Store
}

func setupReconcile(t *testing.T) *reconcileBundle {
	t.Helper()
	st := pgtest.Store(t, "httpapi_reconcile")
	return &reconcileBundle{testBundle: setupOn(t, st), st: st}
}

// closedClaim files a claim, refunds it through the sandbox and charges
// its seller; it returns the claim's id.
func (b *reconcileBundle) closedClaim(t *testing.T, sellerID string, amount int64) string {
	t.Helper()
	cl := b.fileClaim(t, sellerID, b.name(fmt.Sprintf("shp_%d", time.Now().UnixNano())), amount, "")
	id := cl["id"].(string)
	refundOn(t, b.st, id, b.now)
	chargeOn(t, b.st, id, b.now)
	return id
}

func (b *reconcileBundle) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	res, err := b.st.DB().Exec(q, args...)
	require.NoError(t, err, q)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.Positive(t, n, "%s changed nothing", q)
}

// reconcile asks for a run of the hour around the test's start, works it
// as the job would, and returns it.
func (b *reconcileBundle) reconcile(t *testing.T) map[string]any {
	t.Helper()
	r := b.do(t, http.MethodPost, "/v1/finance/reconciliations", b.finance(t), map[string]any{
		"from": b.now.Add(-time.Hour).Format(time.RFC3339), "to": b.now.Add(time.Hour).Format(time.RFC3339)})
	require.Equal(t, http.StatusAccepted, r.Code, string(r.Body))
	run := r.json(t)
	require.Equal(t, "queued", run["status"])
	require.Equal(t, "/v1/finance/reconciliations/"+run["id"].(string), r.Header.Get("Location"))
	var jobs int
	require.NoError(t, b.st.DB().QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'finance_reconcile' AND args->>'run_id' = $1`,
		run["id"]).Scan(&jobs))
	require.Equal(t, 1, jobs, "the run's job is queued with it")
	require.NoError(t, b.fin.RunReconciliation(context.Background(), run["id"].(string), false))
	r = b.do(t, http.MethodGet, "/v1/finance/reconciliations/"+run["id"].(string), b.finance(t), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	got := r.json(t)
	require.Equal(t, "completed", got["status"], string(r.Body))
	return got
}

// exceptionsOf maps each exception's kind to the claims it names.
func exceptionsOf(run map[string]any) map[string][]string {
	out := map[string][]string{}
	for _, e := range run["exceptions"].([]any) {
		m := e.(map[string]any)
		who, _ := m["claim_id"].(string)
		out[m["kind"].(string)] = append(out[m["kind"].(string)], who)
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// TestReconciliationFindsWhatWasPlanted: claims refunded through the
// sandbox reconcile clean; then one disagreement of each kind is planted
// in the provider's records and the ledger, and the run finds each of them
// and nothing else.
func TestReconciliationFindsWhatWasPlanted(t *testing.T) {
	t.Parallel()
	b := setupReconcile(t)
	sellerID := b.newSeller(t, "sel_rec")
	ids := make([]string, 7)
	for i := range ids {
		ids[i] = b.closedClaim(t, sellerID, int64(500+i))
	}

	clean := b.reconcile(t)
	require.Equal(t, float64(len(ids)), clean["matched"])
	require.Empty(t, clean["exceptions"])
	require.Equal(t, map[string]any{}, clean["exception_counts"])
	require.Equal(t, []any{map[string]any{"currency": "EUR", "claims": float64(3521), "provider": float64(3521), "ledger": float64(3521)}}, clean["totals"])
	require.Equal(t, float64(len(ids)), clean["provider_refunds"])
	require.Equal(t, []any{"sandbox"}, clean["providers"])

	// Delete a sandbox refund.
	b.exec(t, `DELETE FROM sandbox_refunds WHERE claim_id = $1`, ids[0])
	// Change a ledger amount (both legs, so the books still balance).
	b.exec(t, `UPDATE ledger_postings SET amount = amount - sign(amount) * 100
		WHERE transaction_id = (SELECT id FROM ledger_transactions WHERE claim_id = $1 AND kind = 'refund')`, ids[1])
	// Lose the ledger's refund transaction.
	b.exec(t, `DELETE FROM ledger_postings WHERE transaction_id = (SELECT id FROM ledger_transactions WHERE claim_id = $1 AND kind = 'refund')`, ids[2])
	b.exec(t, `DELETE FROM ledger_transactions WHERE claim_id = $1 AND kind = 'refund'`, ids[2])
	// The provider says the refund failed.
	b.exec(t, `UPDATE sandbox_refunds SET status = 'failed' WHERE claim_id = $1`, ids[3])
	// The provider refunded another currency.
	b.exec(t, `UPDATE sandbox_refunds SET currency = 'USD' WHERE claim_id = $1`, ids[4])
	// The provider refunded the claim twice.
	b.exec(t, `INSERT INTO sandbox_refunds (id, idempotency_key, payment_reference, claim_id, amount, currency, status, created_at)
		SELECT 're_sbx_twice', idempotency_key || '/again', payment_reference, claim_id, amount, currency, status, created_at
		  FROM sandbox_refunds WHERE claim_id = $1`, ids[5])
	// A provider refund with no claim.
	b.exec(t, `INSERT INTO sandbox_refunds (id, idempotency_key, payment_reference, claim_id, amount, currency, status, created_at)
		VALUES ('re_sbx_ghost', 'ghost', 'pay_ghost', 'clm_ghost', 777, 'EUR', 'succeeded', $1)`, b.now)

	b.clock.Set(b.now.Add(time.Second)) // runs sort by when they were asked for
	run := b.reconcile(t)
	require.Equal(t, map[string][]string{
		"missing_at_provider": {ids[0]},
		"amount_mismatch":     {ids[1]},
		"missing_in_ledger":   {ids[2]},
		"status_mismatch":     {ids[3]},
		"currency_mismatch":   {ids[4]},
		"duplicate_refund":    {ids[5]},
		"missing_claim":       {"clm_ghost"},
	}, exceptionsOf(run))
	require.Equal(t, float64(1), run["matched"], "only the untouched claim matches")
	require.Equal(t, float64(7), run["open_exceptions"])
	for _, e := range run["exceptions"].([]any) {
		m := e.(map[string]any)
		require.NotEmpty(t, m["detail"])
		require.Nil(t, m["resolution"])
		if m["kind"] == "missing_claim" {
			require.Equal(t, "re_sbx_ghost", m["refund_id"])
			require.Nil(t, m["claim"])
			require.Nil(t, m["ledger"])
			require.Equal(t, float64(777), m["at_provider"].(map[string]any)["amount"])
		}
		if m["kind"] == "amount_mismatch" {
			require.Equal(t, float64(401), m["ledger"].(map[string]any)["amount"])
			require.Equal(t, float64(501), m["claim"].(map[string]any)["amount"])
		}
	}

	// The items, page by page, and only the open exceptions.
	var seqs []float64
	path := "/v1/finance/reconciliations/" + run["id"].(string) + "/items?limit=3"
	for path != "" {
		r := b.do(t, http.MethodGet, path, b.finance(t), nil)
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		page := r.json(t)
		for _, it := range page["data"].([]any) {
			seqs = append(seqs, it.(map[string]any)["seq"].(float64))
		}
		path = ""
		if next, _ := page["next_cursor"].(string); next != "" {
			path = "/v1/finance/reconciliations/" + run["id"].(string) + "/items?limit=3&cursor=" + next
		}
	}
	require.Equal(t, []float64{1, 2, 3, 4, 5, 6, 7, 8}, seqs)
	// A cursor past what an item's seq can be (a 32-bit integer) is no
	// cursor of this API's; the largest one is the end.
	for _, tc := range []struct {
		give     string
		wantCode int
	}{
		{give: base64.RawURLEncoding.EncodeToString([]byte("2147483648")), wantCode: http.StatusBadRequest},
		{give: base64.RawURLEncoding.EncodeToString([]byte("9223372036854775808")), wantCode: http.StatusBadRequest},
		{give: base64.RawURLEncoding.EncodeToString([]byte("-1")), wantCode: http.StatusBadRequest},
		{give: base64.RawURLEncoding.EncodeToString([]byte("2147483647")), wantCode: http.StatusOK},
	} {
		r := b.do(t, http.MethodGet, "/v1/finance/reconciliations/"+run["id"].(string)+"/items?cursor="+tc.give, b.finance(t), nil)
		require.Equal(t, tc.wantCode, r.Code, "%s: %s", tc.give, r.Body)
		if tc.wantCode == http.StatusOK {
			require.Empty(t, r.json(t)["data"])
			continue
		}
		require.Equal(t, "invalid_cursor", r.errorOf(t)["code"])
		require.Equal(t, "cursor", r.errorOf(t)["field"])
	}

	// Finance resolves one, with a note; it cannot be resolved twice.
	first := run["exceptions"].([]any)[0].(map[string]any)
	resolve := func(seq any, note string) response {
		return b.do(t, http.MethodPost, fmt.Sprintf("/v1/finance/reconciliations/%s/exceptions/%v/resolution", run["id"], seq),
			b.finance(t), map[string]any{"note": note})
	}
	for _, seq := range []string{"2147483648", "9223372036854775808", "2147483647"} {
		r := resolve(seq, "Out of range.")
		require.Equal(t, http.StatusNotFound, r.Code, "%s: %s", seq, r.Body)
		require.Equal(t, "exception_not_found", r.errorOf(t)["code"], seq)
	}
	r := resolve(first["seq"], "Refund re-sent by hand; see ticket FIN-12.")
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	res := r.json(t)["resolution"].(map[string]any)
	require.Equal(t, "finance:fin", res["by"])
	require.Equal(t, "Refund re-sent by hand; see ticket FIN-12.", res["note"])
	r = resolve(first["seq"], "again")
	require.Equal(t, http.StatusConflict, r.Code, string(r.Body))
	require.Equal(t, "already_resolved", r.errorOf(t)["code"])
	r = b.do(t, http.MethodGet, "/v1/finance/reconciliations/"+run["id"].(string), b.finance(t), nil)
	require.Equal(t, float64(6), r.json(t)["open_exceptions"])
	r = b.do(t, http.MethodGet, "/v1/finance/reconciliations/"+run["id"].(string)+"/items?kind=exception&open=true", b.finance(t), nil)
	require.Len(t, r.json(t)["data"], 6)

	// A matched item has nothing to resolve.
	var matchedSeq any
	r = b.do(t, http.MethodGet, "/v1/finance/reconciliations/"+run["id"].(string)+"/items?kind=matched", b.finance(t), nil)
	matchedSeq = r.json(t)["data"].([]any)[0].(map[string]any)["seq"]
	r = resolve(matchedSeq, "nothing")
	require.Equal(t, http.StatusConflict, r.Code, string(r.Body))
	require.Equal(t, "not_an_exception", r.errorOf(t)["code"])

	// The run's items as CSV, exceptions with their resolution.
	r = b.do(t, http.MethodGet, "/v1/finance/reconciliations/"+run["id"].(string)+"/items?kind=exception&format=csv", b.finance(t), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	recs := readCSV(t, r.Body)
	require.Len(t, recs, 8)
	require.Equal(t, "finance:fin", recs[1][column(t, recs[0], "resolved_by")])

	// Runs are listed newest first.
	r = b.do(t, http.MethodGet, "/v1/finance/reconciliations", b.finance(t), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	list := r.json(t)["data"].([]any)
	require.Len(t, list, 2)
	require.Equal(t, run["id"], list[0].(map[string]any)["id"])
	require.Equal(t, clean["id"], list[1].(map[string]any)["id"])

	// Working a finished run again changes nothing, nor does a late second
	// attempt that finishes after it: the resolution stays.
	require.NoError(t, b.fin.RunReconciliation(context.Background(), run["id"].(string), false))
	require.NoError(t, b.st.FinishRun(context.Background(), financeflow.Run{ID: run["id"].(string), Status: financeflow.RunCompleted,
		FinishedAt: b.now}, nil))
	r = b.do(t, http.MethodGet, "/v1/finance/reconciliations/"+run["id"].(string), b.finance(t), nil)
	require.Equal(t, float64(6), r.json(t)["open_exceptions"])
	require.Len(t, r.json(t)["exceptions"], 7)
	require.NotNil(t, r.json(t)["exceptions"].([]any)[0].(map[string]any)["resolution"])
}

func TestReconciliationBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name       string
		give       any
		wantStatus int
		wantField  string
	}{
		{name: "no from", give: map[string]any{"to": "2026-11-02"}, wantStatus: 422, wantField: "from"},
		{name: "no to", give: map[string]any{"from": "2026-11-01"}, wantStatus: 422, wantField: "to"},
		{name: "bad date", give: map[string]any{"from": "2026-11-31", "to": "2026-12-01"}, wantStatus: 422, wantField: "from"},
		{name: "backwards", give: map[string]any{"from": "2026-11-02", "to": "2026-11-01"}, wantStatus: 422, wantField: "to"},
		{name: "too long", give: map[string]any{"from": "2026-01-01", "to": "2026-03-01"}, wantStatus: 422, wantField: "to"},
		{name: "in the future", give: map[string]any{"from": b.now.AddDate(0, 0, 2).Format("2006-01-02"), "to": b.now.AddDate(0, 0, 3).Format("2006-01-02")}, wantStatus: 422, wantField: "from"},
		{name: "unknown field", give: map[string]any{"from": "2026-11-01", "to": "2026-11-01", "provider": "stripe"}, wantStatus: 400, wantField: "provider"},
		{name: "from as a number", give: map[string]any{"from": 20261101, "to": "2026-11-01"}, wantStatus: 400, wantField: "from"},
		{name: "from year 1", give: map[string]any{"from": "0001-01-01", "to": "0001-01-02"}, wantStatus: 422, wantField: "from"},
		{name: "from before the epoch", give: map[string]any{"from": "1969-12-31T23:00:00Z", "to": "1970-01-02"}, wantStatus: 422, wantField: "from"},
		{name: "to the last day there is", give: map[string]any{"from": "9999-12-30", "to": "9999-12-31"}, wantStatus: 422, wantField: "to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := b.do(t, http.MethodPost, "/v1/finance/reconciliations", b.finance(t), tt.give)
			require.Equal(t, tt.wantStatus, r.Code, string(r.Body))
			require.Equal(t, tt.wantField, r.errorOf(t)["field"], string(r.Body))
		})
	}

	missing := []struct {
		name, method, path string
		body               any
	}{
		{name: "unknown run", method: http.MethodGet, path: "/v1/finance/reconciliations/rcn_nope"},
		{name: "malformed run id", method: http.MethodGet, path: "/v1/finance/reconciliations/" + url.PathEscape("a b")},
		{name: "items of unknown run", method: http.MethodGet, path: "/v1/finance/reconciliations/rcn_nope/items"},
		{name: "items of unknown run as csv", method: http.MethodGet, path: "/v1/finance/reconciliations/rcn_nope/items?format=csv"},
		{name: "resolve unknown run", method: http.MethodPost, path: "/v1/finance/reconciliations/rcn_nope/exceptions/1/resolution", body: map[string]any{"note": "x"}},
		{name: "resolve seq zero", method: http.MethodPost, path: "/v1/finance/reconciliations/rcn_nope/exceptions/0/resolution", body: map[string]any{"note": "x"}},
		{name: "resolve seq not a number", method: http.MethodPost, path: "/v1/finance/reconciliations/rcn_nope/exceptions/x/resolution", body: map[string]any{"note": "x"}},
		{name: "resolve seq past 32 bits", method: http.MethodPost, path: "/v1/finance/reconciliations/rcn_nope/exceptions/2147483648/resolution", body: map[string]any{"note": "x"}},
	}
	for _, tt := range missing {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := b.do(t, tt.method, tt.path, b.finance(t), tt.body)
			require.Equal(t, http.StatusNotFound, r.Code, string(r.Body))
			require.True(t, strings.HasSuffix(r.errorOf(t)["code"].(string), "_not_found"), string(r.Body))
		})
	}

	r := b.do(t, http.MethodPost, "/v1/finance/reconciliations/rcn_nope/exceptions/1/resolution", b.finance(t), map[string]any{"note": " "})
	require.Equal(t, http.StatusUnprocessableEntity, r.Code, string(r.Body))
	require.Equal(t, "note", r.errorOf(t)["field"])
	r = b.do(t, http.MethodGet, "/v1/finance/reconciliations/rcn_nope/items?kind=weird", b.finance(t), nil)
	require.Equal(t, http.StatusBadRequest, r.Code, string(r.Body))
	require.Equal(t, "kind", r.errorOf(t)["field"])

	for _, role := range []string{"shopper", "seller", "agent"} {
		r := b.do(t, http.MethodPost, "/v1/finance/reconciliations", b.token(t, role, "x"), map[string]any{"from": "2026-11-01", "to": "2026-11-01"})
		require.Equal(t, http.StatusForbidden, r.Code, role)
	}
	r = b.do(t, http.MethodPost, "/v1/finance/reconciliations/rcn_nope/exceptions/1/resolution", b.token(t, "admin", "root"), map[string]any{"note": "x"})
	require.Equal(t, http.StatusForbidden, r.Code, "resolving is finance's call")
}
