package httpapi_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// finance drives the finance routes for TestOpenAPIConformance, success
// and error cases of each, through cf. A seller of its own is charged for
// two refunded claims, one charge is waived and the seller pays some of
// the rest back; a reconciliation run covers a quiet minute years ago, in
// which two more of the seller's claims were refunded, one of them for
// another amount than the sandbox now records.
func (cf *conformance) finance(t *testing.T) {
	b := cf.b
	ctx := context.Background()
	financeTok, adminTok, agentTok := b.token(t, "finance", "fin"), b.token(t, "admin", "root"), b.token(t, "agent", "ana")
	expired, err := httpapiMint("finance", "fin", -time.Minute)
	require.NoError(t, err)
	big := strings.Repeat("x", 9<<10) // over the 8 KiB limit setup sets
	date := func(at time.Time) string { return at.UTC().Format("2006-01-02") }
	instant := func(at time.Time) string { return at.UTC().Format(time.RFC3339) }
	today := date(b.now)
	key := func(s string) []string { return []string{"Idempotency-Key", s + "-" + b.id} }
	requireCSV := func(r response) {
		t.Helper()
		require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv"), r.Header.Get("Content-Type"))
		require.True(t, strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment; filename="), r.Header.Get("Content-Disposition"))
	}

	sellerID := b.newSeller(t, "sel_fin")
	sellerTok, otherSellerTok := b.token(t, "seller", sellerID), b.token(t, "seller", b.name("sel_fin_other"))
	charged := b.claimIn(t, "closed", sellerID)
	waived := b.claimIn(t, "closed", sellerID)
	r := b.override(t, waived, "waive_chargeback")
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))

	// Recoveries: 400 of the 1000 the seller owes comes back.
	recoveries := "/v1/finance/recoveries"
	recovery := map[string]any{"seller_id": sellerID, "amount": 400, "currency": "EUR", "method": "payout_netting",
		"reference": "po_" + b.id, "note": "Withheld from the weekly payout."}
	with := func(field string, v any) map[string]any {
		m := maps.Clone(recovery)
		if v == nil {
			delete(m, field)
		} else {
			m[field] = v
		}
		return m
	}
	r = cf.run(t, apiCall{name: "recovery", method: http.MethodPost, path: recoveries, token: financeTok, body: recovery,
		headers: key("recovery"), want: 201})
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": float64(600)}}, r.json(t)["owed"])
	r = cf.run(t, apiCall{name: "recovery replayed", method: http.MethodPost, path: recoveries, token: financeTok, body: recovery,
		headers: key("recovery"), want: 201})
	require.Equal(t, "true", r.Header.Get("Idempotency-Replayed"))
	for _, c := range []apiCall{
		{name: "recovery: no key", token: financeTok, body: recovery, want: 400, rejected: true},
		{name: "recovery: malformed JSON", token: financeTok, body: `{"seller_id":`, headers: key("recovery-bad"), want: 400, rejected: true},
		{name: "recovery: unknown field", token: financeTok, body: with("fee", 1), headers: key("recovery-bad"), want: 400, rejected: true},
		{name: "recovery: key too long", token: financeTok, body: recovery, headers: []string{"Idempotency-Key", strings.Repeat("k", 300)}, want: 400, rejected: true},
		{name: "recovery: no token", body: recovery, headers: key("recovery-bad"), want: 401, rejected: true},
		{name: "recovery: expired token", token: expired, body: recovery, headers: key("recovery-bad"), want: 401},
		{name: "recovery: admin", token: adminTok, body: recovery, headers: key("recovery-bad"), want: 403},
		{name: "recovery: unknown seller", token: financeTok, body: with("seller_id", b.name("sel_nope")), headers: key("recovery-nope"), want: 404},
		{name: "recovery: key reused with another body", token: financeTok, body: with("amount", 300), headers: key("recovery"), want: 409},
		{name: "recovery: too large", token: financeTok, body: with("note", big), headers: key("recovery-bad"), want: 413, rejected: true},
		{name: "recovery: text/plain", token: financeTok, body: recovery, headers: append(key("recovery-bad"), "Content-Type", "text/plain"), want: 415, rejected: true},
		{name: "recovery: no amount", token: financeTok, body: with("amount", nil), headers: key("recovery-bad"), want: 422, rejected: true},
		{name: "recovery: zero amount", token: financeTok, body: with("amount", 0), headers: key("recovery-bad"), want: 422, rejected: true},
		{name: "recovery: amount above the maximum", token: financeTok, body: with("amount", int64(1_000_000_000_001)), headers: key("recovery-bad"), want: 422, rejected: true},
		{name: "recovery: unknown method", token: financeTok, body: with("method", "cash"), headers: key("recovery-bad"), want: 422, rejected: true},
		{name: "recovery: unknown currency", token: financeTok, body: with("currency", "XXX"), headers: key("recovery-bad"), want: 422},
	} {
		c.method, c.path = http.MethodPost, recoveries
		cf.run(t, c)
	}
	r = cf.run(t, apiCall{name: "recovery: more than owed", method: http.MethodPost, path: recoveries, token: financeTok,
		body: with("amount", 100000), headers: key("recovery-over"), want: 409})
	require.Equal(t, "over_recovery", r.errorOf(t)["code"])
	r = cf.run(t, apiCall{name: "recovery: reference recorded before", method: http.MethodPost, path: recoveries, token: financeTok,
		body: with("amount", 100), headers: key("recovery-again"), want: 409})
	require.Equal(t, "duplicate_recovery", r.errorOf(t)["code"])

	// The seller's statement: charged twice, one charge waived, 400 back.
	statementPath := "/v1/sellers/" + sellerID + "/statement"
	r = cf.run(t, apiCall{name: "statement", method: http.MethodGet, path: statementPath + "?from=" + today + "&to=" + today,
		token: financeTok, want: 200})
	require.Len(t, r.json(t)["entries"], 4)
	require.Equal(t, []any{map[string]any{"currency": "EUR", "opening": float64(0), "charges": float64(2000), "reversals": float64(-1000),
		"recoveries": float64(-400), "adjustments": float64(0), "closing": float64(600)}}, r.json(t)["totals"])
	r = cf.run(t, apiCall{name: "statement as its seller, after the period's entries", method: http.MethodGet, token: sellerTok, want: 200,
		path: statementPath + "?from=" + instant(b.now.Add(time.Second)) + "&to=" + instant(b.now.Add(time.Hour)) + "&format=json"})
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": float64(600)}}, r.json(t)["opening"])
	require.Empty(t, r.json(t)["entries"])
	r = cf.run(t, apiCall{name: "statement as CSV", method: http.MethodGet, path: statementPath + "?from=" + today + "&to=" + today + "&format=csv",
		token: adminTok, want: 200})
	requireCSV(r)
	r = cf.run(t, apiCall{name: "statement as its seller, Accept: text/csv", method: http.MethodGet, token: sellerTok, want: 200,
		path: statementPath + "?from=" + today + "&to=" + today, headers: []string{"Accept", "text/csv"}})
	requireCSV(r)
	for _, c := range []apiCall{
		{name: "statement: no token", path: statementPath + "?from=" + today + "&to=" + today, want: 401, rejected: true},
		{name: "statement: agent", path: statementPath + "?from=" + today + "&to=" + today, token: agentTok, want: 403},
		{name: "statement: another seller's", path: statementPath + "?from=" + today + "&to=" + today, token: otherSellerTok, want: 404},
		{name: "statement: unknown seller", path: "/v1/sellers/" + b.name("sel_nope") + "/statement?from=" + today + "&to=" + today, token: financeTok, want: 404},
		{name: "statement: no period", path: statementPath, token: financeTok, want: 400, rejected: true},
		{name: "statement: bad date", path: statementPath + "?from=monday&to=" + today, token: financeTok, want: 400, rejected: true},
		{name: "statement: to before from", path: statementPath + "?from=" + today + "&to=" + date(b.now.AddDate(0, 0, -1)), token: financeTok, want: 400},
		{name: "statement: unknown format", path: statementPath + "?from=" + today + "&to=" + today + "&format=xlsx", token: financeTok, want: 400, rejected: true},
	} {
		c.method = http.MethodGet
		cf.run(t, c)
	}

	// Chargebacks of the day: the seller's two, one of them waived.
	chargebacks := "/v1/finance/chargebacks?from=" + today + "&to=" + today
	r = cf.run(t, apiCall{name: "chargebacks of a seller", method: http.MethodGet, path: chargebacks + "&seller_id=" + sellerID, token: financeTok, want: 200})
	require.Len(t, r.json(t)["chargebacks"], 2)
	require.Equal(t, []any{map[string]any{"currency": "EUR", "count": float64(2), "charged": float64(2000), "released": float64(1000),
		"standing": float64(1000)}}, r.json(t)["totals"])
	cf.run(t, apiCall{name: "chargebacks, waived, every seller", method: http.MethodGet, path: chargebacks + "&status=waived", token: adminTok, want: 200})
	r = cf.run(t, apiCall{name: "chargebacks as CSV", method: http.MethodGet, path: chargebacks + "&seller_id=" + sellerID + "&status=open&format=csv",
		token: financeTok, want: 200})
	requireCSV(r)
	r = cf.run(t, apiCall{name: "chargebacks, Accept: text/csv", method: http.MethodGet, path: chargebacks + "&seller_id=" + sellerID,
		token: financeTok, headers: []string{"Accept", "text/csv"}, want: 200})
	requireCSV(r)
	for _, c := range []apiCall{
		{name: "chargebacks: no token", path: chargebacks, want: 401, rejected: true},
		{name: "chargebacks: seller", path: chargebacks, token: sellerTok, want: 403},
		{name: "chargebacks: unknown seller", path: chargebacks + "&seller_id=" + b.name("sel_nope"), token: financeTok, want: 404},
		{name: "chargebacks: no to", path: "/v1/finance/chargebacks?from=" + today, token: financeTok, want: 400, rejected: true},
		{name: "chargebacks: to before from", path: "/v1/finance/chargebacks?from=" + today + "&to=" + date(b.now.AddDate(0, 0, -2)), token: financeTok, want: 400},
		{name: "chargebacks: bad seller id", path: chargebacks + "&seller_id=a%20b", token: financeTok, want: 400, rejected: true},
		{name: "chargebacks: unknown status", path: chargebacks + "&status=lost", token: financeTok, want: 400, rejected: true},
		{name: "chargebacks: unknown format", path: chargebacks + "&format=xml", token: financeTok, want: 400, rejected: true},
	} {
		c.method = http.MethodGet
		cf.run(t, c)
	}

	// Reconciliation of a minute years ago, which no other test's clock
	// visits, so the run holds this test's two claims only: both refunded
	// then, and the sandbox's record of the second edited to another
	// amount.
	n, err := strconv.ParseUint(b.id[:4], 16, 64)
	require.NoError(t, err)
	past := b.now.AddDate(-3, 0, 0).Add(-time.Duration(n) * time.Minute)
	var runClaims []string
	for range 2 {
		cl := b.fileClaim(t, sellerID, b.name(fmt.Sprintf("shp_rcn_%d", time.Now().UnixNano())), instantAmount, "")
		require.Equal(t, "approved", cl["status"])
		runRefund(t, cl["id"].(string), past)
		runClaims = append(runClaims, cl["id"].(string))
	}
	_, err = store.DB().ExecContext(ctx, `UPDATE sandbox_refunds SET amount = amount + 1 WHERE claim_id = $1`, runClaims[1])
	require.NoError(t, err)

	runs := "/v1/finance/reconciliations"
	cf.run(t, apiCall{name: "reconciliation of a day", method: http.MethodPost, path: runs, token: adminTok, want: 202,
		body: map[string]any{"from": date(past), "to": date(past)}})
	r = cf.run(t, apiCall{name: "reconciliation", method: http.MethodPost, path: runs, token: financeTok, want: 202,
		body: map[string]any{"from": instant(past.Add(-time.Minute)), "to": instant(past.Add(time.Minute))}})
	runID := r.json(t)["id"].(string)
	runPath := runs + "/" + runID
	require.Equal(t, runPath, r.Header.Get("Location"))
	require.Equal(t, "queued", r.json(t)["status"])
	period := map[string]any{"from": date(past), "to": date(past)}
	for _, c := range []apiCall{
		{name: "reconciliation: malformed JSON", token: financeTok, body: `{"from":`, want: 400, rejected: true},
		{name: "reconciliation: unknown field", token: financeTok, body: map[string]any{"from": date(past), "to": date(past), "provider": "stripe"}, want: 400, rejected: true},
		{name: "reconciliation: no token", body: period, want: 401, rejected: true},
		{name: "reconciliation: agent", token: agentTok, body: period, want: 403},
		{name: "reconciliation: too large", token: financeTok, body: map[string]any{"from": big, "to": date(past)}, want: 413, rejected: true},
		{name: "reconciliation: text/plain", token: financeTok, body: period, headers: []string{"Content-Type", "text/plain"}, want: 415, rejected: true},
		{name: "reconciliation: no to", token: financeTok, body: map[string]any{"from": date(past)}, want: 422, rejected: true},
		{name: "reconciliation: bad date", token: financeTok, body: map[string]any{"from": "monday", "to": date(past)}, want: 422, rejected: true},
		{name: "reconciliation: to before from", token: financeTok, body: map[string]any{"from": date(past), "to": date(past.AddDate(0, 0, -1))}, want: 422},
	} {
		c.method, c.path = http.MethodPost, runs
		cf.run(t, c)
	}
	r = cf.run(t, apiCall{name: "reconciliation: over 31 days", method: http.MethodPost, path: runs, token: financeTok, want: 422,
		body: map[string]any{"from": date(b.now.AddDate(0, 0, -60)), "to": date(b.now.AddDate(0, 0, -1))}})
	require.Equal(t, "period_too_long", r.errorOf(t)["code"])
	r = cf.run(t, apiCall{name: "reconciliation: in the future", method: http.MethodPost, path: runs, token: financeTok, want: 422,
		body: map[string]any{"from": date(b.now.AddDate(0, 0, 2)), "to": date(b.now.AddDate(0, 0, 3))}})
	require.Equal(t, "period_in_future", r.errorOf(t)["code"])
	// With an Idempotency-Key a retry answers the run queued first; the key
	// with another period is refused.
	once := map[string]any{"from": date(past), "to": date(past)}
	first := cf.run(t, apiCall{name: "reconciliation: with a key", method: http.MethodPost, path: runs, token: financeTok, want: 202,
		body: once, headers: key("run-once")})
	again := cf.run(t, apiCall{name: "reconciliation: replayed", method: http.MethodPost, path: runs, token: financeTok, want: 202,
		body: once, headers: key("run-once")})
	require.Equal(t, first.json(t)["id"], again.json(t)["id"])
	require.Equal(t, "true", again.Header.Get("Idempotency-Replayed"))
	r = cf.run(t, apiCall{name: "reconciliation: key reused", method: http.MethodPost, path: runs, token: financeTok, want: 409,
		body: map[string]any{"from": date(past.AddDate(0, 0, -1)), "to": date(past)}, headers: key("run-once")})
	require.Equal(t, "idempotency_key_reused", r.errorOf(t)["code"])

	// The run, queued, then worked as the job would.
	r = cf.run(t, apiCall{name: "reconciliation, queued", method: http.MethodGet, path: runPath, token: adminTok, want: 200})
	require.Equal(t, "queued", r.json(t)["status"])
	r = cf.run(t, apiCall{name: "items: run not completed", method: http.MethodGet, path: runPath + "/items", token: financeTok, want: 409})
	require.Equal(t, "run_not_completed", r.errorOf(t)["code"])
	require.NoError(t, b.fin.RunReconciliation(ctx, runID, false))
	r = cf.run(t, apiCall{name: "reconciliation, completed", method: http.MethodGet, path: runPath, token: financeTok, want: 200})
	require.Equal(t, "completed", r.json(t)["status"])
	require.Equal(t, map[string]any{"amount_mismatch": float64(1)}, r.json(t)["exception_counts"])
	require.Len(t, r.json(t)["exceptions"], 1)
	for _, c := range []apiCall{
		{name: "reconciliation: no token", want: 401, rejected: true},
		{name: "reconciliation: seller", token: sellerTok, want: 403},
		{name: "reconciliation: unknown", path: runs + "/rcn_nope", token: financeTok, want: 404},
	} {
		c.method = http.MethodGet
		if c.path == "" {
			c.path = runPath
		}
		cf.run(t, c)
	}

	// The runs, newest first, a page at a time.
	r = cf.run(t, apiCall{name: "reconciliations, first page", method: http.MethodGet, path: runs + "?limit=1", token: financeTok, want: 200})
	require.Len(t, r.json(t)["data"], 1)
	cursor, ok := r.json(t)["next_cursor"].(string)
	require.True(t, ok, "a first page of two runs must have a next_cursor: %s", r.Body)
	cf.run(t, apiCall{name: "reconciliations, next page", method: http.MethodGet, path: runs + "?limit=1&cursor=" + cursor, token: adminTok, want: 200})
	for _, c := range []apiCall{
		{name: "reconciliations: limit 0", path: runs + "?limit=0", token: financeTok, want: 400, rejected: true},
		{name: "reconciliations: forged cursor", path: runs + "?cursor=not*base64", token: financeTok, want: 400},
		{name: "reconciliations: no token", path: runs, want: 401, rejected: true},
		{name: "reconciliations: agent", path: runs, token: agentTok, want: 403},
	} {
		c.method = http.MethodGet
		cf.run(t, c)
	}

	// Its items: the first claim matched, the second's amounts disagree.
	itemsPath := runPath + "/items"
	r = cf.run(t, apiCall{name: "items", method: http.MethodGet, path: itemsPath, token: financeTok, want: 200})
	require.Nil(t, r.json(t)["next_cursor"])
	seqOf := map[string]string{}
	for _, it := range r.json(t)["data"].([]any) {
		it := it.(map[string]any)
		seqOf[it["kind"].(string)] = strconv.Itoa(int(it["seq"].(float64)))
	}
	require.Len(t, seqOf, 2, "%s", r.Body)
	exceptionSeq, matchedSeq := seqOf["amount_mismatch"], seqOf["matched"]
	r = cf.run(t, apiCall{name: "items, first page", method: http.MethodGet, path: itemsPath + "?limit=1", token: financeTok, want: 200})
	require.Len(t, r.json(t)["data"], 1)
	cursor, ok = r.json(t)["next_cursor"].(string)
	require.True(t, ok, "a first page of two items must have a next_cursor: %s", r.Body)
	r = cf.run(t, apiCall{name: "items, next page", method: http.MethodGet, path: itemsPath + "?limit=1&cursor=" + cursor, token: financeTok, want: 200})
	require.Len(t, r.json(t)["data"], 1)
	require.Nil(t, r.json(t)["next_cursor"])
	r = cf.run(t, apiCall{name: "items, open exceptions", method: http.MethodGet, path: itemsPath + "?kind=exception&open=true", token: adminTok, want: 200})
	require.Len(t, r.json(t)["data"], 1)
	cf.run(t, apiCall{name: "items, one kind", method: http.MethodGet, path: itemsPath + "?kind=matched&open=false&limit=10", token: financeTok, want: 200})
	r = cf.run(t, apiCall{name: "items as CSV", method: http.MethodGet, path: itemsPath + "?format=csv", token: financeTok, want: 200})
	requireCSV(r)
	r = cf.run(t, apiCall{name: "items, Accept: text/csv", method: http.MethodGet, path: itemsPath + "?kind=exception", token: adminTok,
		headers: []string{"Accept", "text/csv"}, want: 200})
	requireCSV(r)
	for _, c := range []apiCall{
		{name: "items: open maybe", path: itemsPath + "?open=maybe", token: financeTok, want: 400, rejected: true},
		{name: "items: limit 0", path: itemsPath + "?limit=0", token: financeTok, want: 400, rejected: true},
		{name: "items: forged cursor", path: itemsPath + "?cursor=not*base64", token: financeTok, want: 400},
		{name: "items: no token", path: itemsPath, want: 401, rejected: true},
		{name: "items: agent", path: itemsPath, token: agentTok, want: 403},
		{name: "items: unknown run", path: runs + "/rcn_nope/items", token: financeTok, want: 404},
		{name: "items: unknown run, CSV", path: runs + "/rcn_nope/items?format=csv", token: financeTok, want: 404},
		{name: "items: unknown kind", path: itemsPath + "?kind=lost", token: financeTok, want: 400, rejected: true},
		{name: "items: unknown format", path: itemsPath + "?format=xml", token: financeTok, want: 400, rejected: true},
	} {
		c.method = http.MethodGet
		cf.run(t, c)
	}

	// Resolving the exception.
	resolution := func(seq string) string { return runPath + "/exceptions/" + seq + "/resolution" }
	note := map[string]any{"note": "The sandbox's record was edited by hand; no money moved twice."}
	for _, c := range []apiCall{
		{name: "resolution: malformed JSON", token: financeTok, body: `{"note":`, want: 400, rejected: true},
		{name: "resolution: unknown field", token: financeTok, body: map[string]any{"note": "n", "status": "resolved"}, want: 400, rejected: true},
		{name: "resolution: no token", body: note, want: 401, rejected: true},
		{name: "resolution: admin", token: adminTok, body: note, want: 403},
		{name: "resolution: unknown item", path: resolution("999999"), token: financeTok, body: note, want: 404},
		{name: "resolution: seq 0", path: resolution("0"), token: financeTok, body: note, want: 404, rejected: true},
		{name: "resolution: unknown run", path: runs + "/rcn_nope/exceptions/1/resolution", token: financeTok, body: note, want: 404},
		{name: "resolution: too large", token: financeTok, body: map[string]any{"note": big}, want: 413, rejected: true},
		{name: "resolution: text/plain", token: financeTok, body: note, headers: []string{"Content-Type", "text/plain"}, want: 415, rejected: true},
		{name: "resolution: no note", token: financeTok, body: map[string]any{}, want: 422, rejected: true},
		{name: "resolution: blank note", token: financeTok, body: map[string]any{"note": "   "}, want: 422},
	} {
		c.method = http.MethodPost
		if c.path == "" {
			c.path = resolution(exceptionSeq)
		}
		cf.run(t, c)
	}
	r = cf.run(t, apiCall{name: "resolution", method: http.MethodPost, path: resolution(exceptionSeq), token: financeTok, body: note, want: 200})
	require.Equal(t, "finance:fin", r.json(t)["resolution"].(map[string]any)["by"])
	r = cf.run(t, apiCall{name: "resolution: resolved before", method: http.MethodPost, path: resolution(exceptionSeq), token: financeTok, body: note, want: 409})
	require.Equal(t, "already_resolved", r.errorOf(t)["code"])
	r = cf.run(t, apiCall{name: "resolution: matched item", method: http.MethodPost, path: resolution(matchedSeq), token: financeTok, body: note, want: 409})
	require.Equal(t, "not_an_exception", r.errorOf(t)["code"])
	r = cf.run(t, apiCall{name: "reconciliation, resolved", method: http.MethodGet, path: runPath, token: financeTok, want: 200})
	require.Equal(t, float64(0), r.json(t)["open_exceptions"])

	// The ledger: the trial balance, and the transactions behind it.
	trial := "/v1/finance/ledger/trial-balance"
	r = cf.run(t, apiCall{name: "trial balance", method: http.MethodGet, path: trial, token: financeTok, want: 200})
	for _, tot := range r.json(t)["totals"].([]any) {
		require.Equal(t, true, tot.(map[string]any)["balanced"], "%v", tot)
	}
	cf.run(t, apiCall{name: "trial balance of a day", method: http.MethodGet, path: trial + "?as_of=" + date(past), token: adminTok, want: 200})
	cf.run(t, apiCall{name: "trial balance at an instant", method: http.MethodGet, path: trial + "?as_of=" + instant(b.now), token: financeTok, want: 200})
	for _, c := range []apiCall{
		{name: "trial balance: no token", path: trial, want: 401, rejected: true},
		{name: "trial balance: agent", path: trial, token: agentTok, want: 403},
		{name: "trial balance: bad date", path: trial + "?as_of=monday", token: financeTok, want: 400, rejected: true},
	} {
		c.method = http.MethodGet
		cf.run(t, c)
	}

	prot := "/v1/finance/protection"
	cf.run(t, apiCall{name: "protection", method: http.MethodGet, path: prot, token: financeTok, want: 200})
	cf.run(t, apiCall{name: "protection: no token", method: http.MethodGet, path: prot, want: 401, rejected: true})
	cf.run(t, apiCall{name: "protection: agent", method: http.MethodGet, path: prot, token: agentTok, want: 403})

	ledgerPath := "/v1/finance/ledger/transactions"
	r = cf.run(t, apiCall{name: "ledger of a claim", method: http.MethodGet, path: ledgerPath + "?claim_id=" + charged["id"].(string), token: financeTok, want: 200})
	require.Len(t, r.json(t)["data"], 2, "refunded, then charged to the seller")
	require.Nil(t, r.json(t)["next_cursor"])
	r = cf.run(t, apiCall{name: "ledger of a claim, first page", method: http.MethodGet, token: financeTok, want: 200,
		path: ledgerPath + "?claim_id=" + charged["id"].(string) + "&limit=1"})
	cursor, ok = r.json(t)["next_cursor"].(string)
	require.True(t, ok, "a first page of two transactions must have a next_cursor: %s", r.Body)
	r = cf.run(t, apiCall{name: "ledger of a claim, next page", method: http.MethodGet, token: financeTok, want: 200,
		path: ledgerPath + "?claim_id=" + charged["id"].(string) + "&limit=1&cursor=" + cursor})
	require.Equal(t, "seller_charge", r.json(t)["data"].([]any)[0].(map[string]any)["kind"])
	r = cf.run(t, apiCall{name: "ledger of a seller's recoveries", method: http.MethodGet, token: adminTok, want: 200,
		path: ledgerPath + "?seller_id=" + sellerID + "&kind=seller_recovery"})
	require.Len(t, r.json(t)["data"], 1)
	r = cf.run(t, apiCall{name: "ledger of an account in a period", method: http.MethodGet, token: financeTok, want: 200,
		path: ledgerPath + "?account=seller_receivable:" + sellerID + "&from=" + today + "&to=" + instant(b.now.Add(time.Hour)) + "&limit=10"})
	require.Len(t, r.json(t)["data"], 4, "two charges, a release, a recovery")
	r = cf.run(t, apiCall{name: "ledger as CSV", method: http.MethodGet, path: ledgerPath + "?seller_id=" + sellerID + "&format=csv", token: financeTok, want: 200})
	requireCSV(r)
	r = cf.run(t, apiCall{name: "ledger, Accept: text/csv", method: http.MethodGet, path: ledgerPath + "?claim_id=" + charged["id"].(string),
		token: adminTok, headers: []string{"Accept", "text/csv"}, want: 200})
	requireCSV(r)
	for _, c := range []apiCall{
		{name: "ledger: limit 0", path: ledgerPath + "?limit=0", token: financeTok, want: 400, rejected: true},
		{name: "ledger: forged cursor", path: ledgerPath + "?cursor=not*base64", token: financeTok, want: 400},
		{name: "ledger: no token", path: ledgerPath, want: 401, rejected: true},
		{name: "ledger: seller", path: ledgerPath + "?seller_id=" + sellerID, token: sellerTok, want: 403},
		{name: "ledger: account and seller", path: ledgerPath + "?account=claims_clearing&seller_id=" + sellerID, token: financeTok, want: 400},
		{name: "ledger: unknown kind", path: ledgerPath + "?kind=gift", token: financeTok, want: 400, rejected: true},
		{name: "ledger: bad date", path: ledgerPath + "?from=monday", token: financeTok, want: 400, rejected: true},
		{name: "ledger: to before from", path: ledgerPath + "?from=" + today + "&to=" + date(b.now.AddDate(0, 0, -1)), token: financeTok, want: 400},
		{name: "ledger: bad claim id", path: ledgerPath + "?claim_id=a%20b", token: financeTok, want: 400, rejected: true},
		{name: "ledger: account too long", path: ledgerPath + "?account=" + strings.Repeat("a", 201), token: financeTok, want: 400, rejected: true},
		{name: "ledger: unknown format", path: ledgerPath + "?format=xml", token: financeTok, want: 400, rejected: true},
	} {
		c.method = http.MethodGet
		cf.run(t, c)
	}

	// Exports that would pass the most at once are told to come back.
	release := cf.fillExports(t, statementPath+"?from="+today+"&to="+today, financeTok)
	for _, c := range []apiCall{
		{name: "statement: too many exports", path: statementPath + "?from=" + today + "&to=" + today},
		{name: "chargebacks: too many exports", path: chargebacks},
		{name: "items: too many exports", path: itemsPath},
		{name: "ledger: too many exports", path: ledgerPath},
	} {
		c.method, c.token, c.want = http.MethodGet, financeTok, 429
		r := cf.run(t, c)
		require.Equal(t, "too_many_exports", r.errorOf(t)["code"])
		require.Equal(t, "5", r.Header.Get("Retry-After"))
	}
	release()
	r = cf.run(t, apiCall{name: "statement once the others are done", method: http.MethodGet, path: statementPath + "?from=" + today + "&to=" + today,
		token: financeTok, want: 200})
	require.NotEmpty(t, r.json(t)["totals"])
}

// blockedWriter is a client that stops reading: its first write blocks
// until released.
type blockedWriter struct {
	header  http.Header
	writing chan struct{}
	release chan struct{}
	once    sync.Once
}

func (w *blockedWriter) Header() http.Header { return w.header }
func (w *blockedWriter) WriteHeader(int)     {}
func (w *blockedWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.writing) })
	<-w.release
	return len(p), nil
}

// fillExports starts as many exports of path as may run at once, each to
// a client that does not read, and returns what lets them finish.
func (cf *conformance) fillExports(t *testing.T, path, token string) (release func()) {
	t.Helper()
	const slots = 4 // httpapi.Deps.MaxExports's default, which setup keeps
	free := make(chan struct{})
	var wg sync.WaitGroup
	for range slots {
		w := &blockedWriter{header: http.Header{}, writing: make(chan struct{}), release: free}
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cf.b.e.ServeHTTP(w, req)
		}()
		<-w.writing
	}
	return func() {
		close(free)
		wg.Wait()
	}
}
