package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// finance's token for the tests.
func (b *testBundle) finance(t *testing.T) string { return b.token(t, "finance", "fin") }

// recover posts a recovery from sellerID with a fresh Idempotency-Key.
func (b *testBundle) recover(t *testing.T, sellerID string, amount int64, reference, note string) response {
	t.Helper()
	return b.do(t, http.MethodPost, "/v1/finance/recoveries", b.finance(t), map[string]any{
		"seller_id": sellerID, "amount": amount, "currency": "EUR", "method": "payment_received",
		"reference": reference, "note": note,
	}, "Idempotency-Key", fmt.Sprintf("rec-%s-%d", b.id, time.Now().UnixNano()))
}

// ledgerBalance is what the ledger says the seller owes in EUR, read with
// SQL rather than through the API.
func ledgerBalance(t *testing.T, sellerID string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, store.DB().QueryRow(`SELECT coalesce(sum(amount), 0) FROM ledger_postings
		WHERE account = $1 AND currency = 'EUR'`, "seller_receivable:"+sellerID).Scan(&n))
	return n
}

func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	require.NoError(t, err, string(body))
	return recs
}

// column returns the index of name in a CSV header.
func column(t *testing.T, header []string, name string) int {
	t.Helper()
	for i, h := range header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in %v", name, header)
	return -1
}

// TestChargebacksStatementAndRecovery walks finance's month for one
// seller: three claims charged, one waived, part of the debt paid back;
// the chargeback list, the statement (JSON and CSV) and the ledger agree.
func TestChargebacksStatementAndRecovery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel_fin")
	var claims []map[string]any
	for range 3 {
		claims = append(claims, b.claimIn(t, "closed", sellerID))
	}
	r := b.override(t, claims[2], "waive_chargeback")
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Equal(t, float64(2*instantAmount), b.owed(t, sellerID))

	today := b.now.Format("2006-01-02")
	period := "from=" + today + "&to=" + today

	// The period's chargebacks, with totals.
	r = b.do(t, http.MethodGet, "/v1/finance/chargebacks?"+period+"&seller_id="+sellerID, b.finance(t), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	got := r.json(t)
	rows := got["chargebacks"].([]any)
	require.Len(t, rows, 3)
	statuses := map[string]int{}
	for _, row := range rows {
		m := row.(map[string]any)
		require.Equal(t, sellerID, m["seller_id"])
		require.Equal(t, float64(instantAmount), m["amount"])
		require.Equal(t, "EUR", m["currency"])
		statuses[m["status"].(string)]++
	}
	require.Equal(t, map[string]int{"open": 2, "waived": 1}, statuses)
	require.Equal(t, []any{map[string]any{"currency": "EUR", "count": float64(3),
		"charged": float64(3 * instantAmount), "released": float64(instantAmount), "standing": float64(2 * instantAmount)}}, got["totals"])

	// Accept is read as RFC 9110 writes it: the media type in any case,
	// q=0 for "not this".
	for _, tc := range []struct {
		give    string
		wantCSV bool
	}{
		{give: "TEXT/CSV", wantCSV: true},
		{give: "application/json;q=0.5, Text/Csv;q=0.9", wantCSV: true},
		{give: "text/csv;q=0, application/json", wantCSV: false},
		{give: "text/csvx", wantCSV: false},
	} {
		r := b.do(t, http.MethodGet, "/v1/finance/chargebacks?"+period+"&seller_id="+sellerID, b.finance(t), nil, "Accept", tc.give)
		require.Equal(t, http.StatusOK, r.Code, "%s: %s", tc.give, r.Body)
		require.Equal(t, tc.wantCSV, strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv"), tc.give)
	}

	// The same as CSV, by Accept header.
	r = b.do(t, http.MethodGet, "/v1/finance/chargebacks?"+period+"&seller_id="+sellerID, b.finance(t), nil, "Accept", "text/csv")
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Equal(t, "text/csv; charset=utf-8; header=present", r.Header.Get("Content-Type"))
	require.Contains(t, r.Header.Get("Content-Disposition"), "attachment; filename=\"chargebacks-"+today+"_"+today+".csv\"")
	require.True(t, bytes.HasSuffix(r.Body, []byte("\r\n")), "RFC 4180 ends records with CRLF")
	recs := readCSV(t, r.Body)
	require.Equal(t, "record", recs[0][0])
	amount := column(t, recs[0], "amount")
	var kinds []string
	for _, rec := range recs[1:] {
		kinds = append(kinds, rec[0])
		if rec[0] == "chargeback" {
			require.Equal(t, "10.00", rec[amount])
		}
	}
	require.Equal(t, []string{"chargeback", "chargeback", "chargeback", "total_charged", "total_released", "total_standing"}, kinds)
	require.Equal(t, "20.00", recs[len(recs)-1][amount])

	// Finance records a payment from the seller; its note tries a formula.
	note := `=HYPERLINK("http://evil.example","click")`
	r = b.recover(t, sellerID, 1500, "bank-"+b.id, note)
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	rec := r.json(t)
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": float64(500)}}, rec["owed"])
	require.Equal(t, "recovery/"+rec["id"].(string), rec["ledger_key"])
	require.Equal(t, int64(500), ledgerBalance(t, sellerID))

	// The statement: each posting with the balance after it.
	r = b.do(t, http.MethodGet, "/v1/sellers/"+sellerID+"/statement?"+period, b.finance(t), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	st := r.json(t)
	require.Equal(t, []any{}, st["opening"])
	var cats []string
	var balances []float64
	for _, e := range st["entries"].([]any) {
		m := e.(map[string]any)
		cats = append(cats, m["category"].(string))
		balances = append(balances, m["balance"].(float64))
	}
	require.Equal(t, []string{"charge", "charge", "charge", "reversal", "recovery"}, cats)
	require.Equal(t, []float64{1000, 2000, 3000, 2000, 500}, balances)
	require.Equal(t, []any{map[string]any{"currency": "EUR", "opening": float64(0), "charges": float64(3000),
		"reversals": float64(-1000), "recoveries": float64(-1500), "adjustments": float64(0), "closing": float64(500)}}, st["totals"])

	// As CSV: the note is quoted per RFC 4180 and cannot run as a formula.
	r = b.do(t, http.MethodGet, "/v1/sellers/"+sellerID+"/statement?"+period+"&format=csv", b.finance(t), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Contains(t, string(r.Body), `"payment_received bank-`+b.id+`: =HYPERLINK(""http://evil.example"",""click"")"`)
	recs = readCSV(t, r.Body)
	desc := column(t, recs[0], "description")
	for _, rec := range recs[1:] {
		if rec[desc] != "" {
			require.NotContains(t, "=+-@\t\r", rec[desc][:1], "a cell starts like a formula: %q", rec[desc])
		}
	}
	require.Equal(t, "closing", recs[len(recs)-1][0])
	require.Equal(t, "5.00", recs[len(recs)-1][column(t, recs[0], "amount")])

	// The seller reads their own statement; another seller cannot.
	r = b.do(t, http.MethodGet, "/v1/sellers/"+sellerID+"/statement?"+period, b.token(t, "seller", sellerID), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	r = b.do(t, http.MethodGet, "/v1/sellers/"+sellerID+"/statement?"+period, b.token(t, "seller", b.name("sel_other")), nil)
	require.Equal(t, http.StatusNotFound, r.Code, string(r.Body))
	for _, role := range []string{"shopper", "agent"} {
		r = b.do(t, http.MethodGet, "/v1/sellers/"+sellerID+"/statement?"+period, b.token(t, role, "x"), nil)
		require.Equal(t, http.StatusForbidden, r.Code, role)
		r = b.do(t, http.MethodGet, "/v1/finance/chargebacks?"+period, b.token(t, role, "x"), nil)
		require.Equal(t, http.StatusForbidden, r.Code, role)
	}

	// The ledger's transactions on the seller's receivable, two a page.
	var keys []string
	path := "/v1/finance/ledger/transactions?limit=2&seller_id=" + sellerID
	for range 10 {
		r = b.do(t, http.MethodGet, path, b.finance(t), nil)
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		page := r.json(t)
		for _, tx := range page["data"].([]any) {
			m := tx.(map[string]any)
			keys = append(keys, m["kind"].(string))
			var sum float64
			for _, p := range m["postings"].([]any) {
				sum += p.(map[string]any)["amount"].(float64)
			}
			require.Zero(t, sum, "transaction %v balances", m["key"])
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		path = "/v1/finance/ledger/transactions?limit=2&seller_id=" + sellerID + "&cursor=" + next
	}
	require.Equal(t, []string{"seller_charge", "seller_charge", "seller_charge", "chargeback_release", "seller_recovery"}, keys)

	// The trial balance balances in every currency.
	r = b.do(t, http.MethodGet, "/v1/finance/ledger/trial-balance", b.finance(t), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	tb := r.json(t)
	require.NotEmpty(t, tb["totals"])
	for _, tot := range tb["totals"].([]any) {
		m := tot.(map[string]any)
		require.Equal(t, true, m["balanced"], m)
		require.Equal(t, m["debits"], m["credits"])
	}
	found := false
	for _, acc := range tb["accounts"].([]any) {
		m := acc.(map[string]any)
		if m["account"] == "seller_receivable:"+sellerID {
			found = true
			require.Equal(t, float64(500), m["balance"])
			require.Equal(t, float64(3000), m["debits"])
			require.Equal(t, float64(2500), m["credits"])
		}
	}
	require.True(t, found)
	// Before any of it happened, the seller's account did not exist.
	r = b.do(t, http.MethodGet, "/v1/finance/ledger/trial-balance?as_of="+b.now.Add(-time.Second).Format(time.RFC3339), b.finance(t), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.NotContains(t, string(r.Body), "seller_receivable:"+sellerID)
}

// TestRecoveryIsRecordedOnce: a replay answers the same, a new key for
// the same reference is refused, more than is owed is refused, and none of
// it moves the balance.
func TestRecoveryIsRecordedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel_once")
	b.claimIn(t, "closed", sellerID)
	body := map[string]any{"seller_id": sellerID, "amount": 400, "currency": "EUR", "method": "payout_netting", "reference": "po_1"}
	key := "Idempotency-Key"
	first := b.do(t, http.MethodPost, "/v1/finance/recoveries", b.finance(t), body, key, "k1-"+b.id)
	require.Equal(t, http.StatusCreated, first.Code, string(first.Body))
	again := b.do(t, http.MethodPost, "/v1/finance/recoveries", b.finance(t), body, key, "k1-"+b.id)
	require.Equal(t, http.StatusCreated, again.Code)
	require.Equal(t, "true", again.Header.Get("Idempotency-Replayed"))
	require.JSONEq(t, string(first.Body), string(again.Body))
	require.Equal(t, int64(600), ledgerBalance(t, sellerID))

	dup := b.do(t, http.MethodPost, "/v1/finance/recoveries", b.finance(t), body, key, "k2-"+b.id)
	require.Equal(t, http.StatusConflict, dup.Code, string(dup.Body))
	require.Equal(t, "duplicate_recovery", dup.errorOf(t)["code"])

	over := b.recover(t, sellerID, 601, "bank-over", "")
	require.Equal(t, http.StatusConflict, over.Code, string(over.Body))
	require.Equal(t, "over_recovery", over.errorOf(t)["code"])
	require.Contains(t, over.errorOf(t)["message"], "owes 6.00 EUR")
	usd := b.do(t, http.MethodPost, "/v1/finance/recoveries", b.finance(t), map[string]any{"seller_id": sellerID, "amount": 1,
		"currency": "USD", "method": "payment_received", "reference": "usd-1"}, key, "k3-"+b.id)
	require.Equal(t, http.StatusConflict, usd.Code, string(usd.Body))
	require.Equal(t, int64(600), ledgerBalance(t, sellerID))

	// A transfer reversal the charge itself recovered is not recorded again.
	cl := b.claimIn(t, "closed", sellerID)
	_, err := store.DB().Exec(`UPDATE claims SET chargeback = jsonb_set(chargeback, '{recovery}', to_jsonb($2::text)) WHERE id = $1`,
		cl["id"], "trr_"+b.id)
	require.NoError(t, err)
	auto := b.do(t, http.MethodPost, "/v1/finance/recoveries", b.finance(t), map[string]any{"seller_id": sellerID, "amount": 100,
		"currency": "EUR", "method": "transfer_reversal", "reference": "trr_" + b.id}, key, "k4-"+b.id)
	require.Equal(t, http.StatusConflict, auto.Code, string(auto.Body))
	require.Equal(t, "duplicate_recovery", auto.errorOf(t)["code"])
	require.Contains(t, auto.errorOf(t)["message"], cl["id"])
	require.Equal(t, int64(600+instantAmount), ledgerBalance(t, sellerID))

	exact := b.recover(t, sellerID, 600+instantAmount, "bank-exact", "")
	require.Equal(t, http.StatusCreated, exact.Code, string(exact.Body))
	require.Equal(t, int64(0), ledgerBalance(t, sellerID))
	var n int
	require.NoError(t, store.DB().QueryRow(`SELECT count(*) FROM seller_recoveries WHERE seller_id = $1`, sellerID).Scan(&n))
	require.Equal(t, 2, n)
}

func TestRecoveryBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel_bad")
	b.claimIn(t, "closed", sellerID)
	good := func() map[string]any {
		return map[string]any{"seller_id": sellerID, "amount": 100, "currency": "EUR", "method": "payment_received", "reference": "r1"}
	}
	with := func(k string, v any) map[string]any {
		m := good()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name       string
		give       any
		noKey      bool
		wantStatus int
		wantField  string
	}{
		{name: "no idempotency key", give: good(), noKey: true, wantStatus: 400, wantField: "Idempotency-Key"},
		{name: "no seller", give: with("seller_id", nil), wantStatus: 422, wantField: "seller_id"},
		{name: "bad seller id", give: with("seller_id", "a b"), wantStatus: 422, wantField: "seller_id"},
		{name: "unknown seller", give: with("seller_id", b.name("sel_nobody")), wantStatus: 404, wantField: "seller_id"},
		{name: "no amount", give: with("amount", nil), wantStatus: 422, wantField: "amount"},
		{name: "zero amount", give: with("amount", 0), wantStatus: 422, wantField: "amount"},
		{name: "negative amount", give: with("amount", -5), wantStatus: 422, wantField: "amount"},
		{name: "fractional amount", give: with("amount", 1.5), wantStatus: 400, wantField: "amount"},
		{name: "amount as text", give: with("amount", "100"), wantStatus: 400, wantField: "amount"},
		{name: "no currency", give: with("currency", nil), wantStatus: 422, wantField: "currency"},
		{name: "unknown currency", give: with("currency", "XXX"), wantStatus: 422, wantField: "currency"},
		{name: "no method", give: with("method", nil), wantStatus: 422, wantField: "method"},
		{name: "unknown method", give: with("method", "cash"), wantStatus: 422, wantField: "method"},
		{name: "no reference", give: with("reference", nil), wantStatus: 422, wantField: "reference"},
		{name: "blank reference", give: with("reference", "   "), wantStatus: 422, wantField: "reference"},
		{name: "long reference", give: with("reference", strings.Repeat("r", 201)), wantStatus: 422, wantField: "reference"},
		{name: "long note", give: with("note", strings.Repeat("n", 2001)), wantStatus: 422, wantField: "note"},
		{name: "NUL in note", give: with("note", "a\x00b"), wantStatus: 422, wantField: "note"},
		{name: "unknown field", give: with("bank", "x"), wantStatus: 400, wantField: "bank"},
		{name: "not JSON", give: "{", wantStatus: 400},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var headers []string
			if !tt.noKey {
				headers = []string{"Idempotency-Key", fmt.Sprintf("bad-%s-%d", b.id, i)}
			}
			r := b.do(t, http.MethodPost, "/v1/finance/recoveries", b.finance(t), tt.give, headers...)
			require.Equal(t, tt.wantStatus, r.Code, string(r.Body))
			if tt.wantField != "" {
				require.Equal(t, tt.wantField, r.errorOf(t)["field"], string(r.Body))
			}
		})
	}
	t.Cleanup(func() {
		// Nothing was recorded by any of them.
		require.Equal(t, int64(instantAmount), ledgerBalance(t, sellerID))
	})
	for _, role := range []string{"shopper", "seller", "agent", "admin", "service"} {
		r := b.do(t, http.MethodPost, "/v1/finance/recoveries", b.token(t, role, sellerID), good(), "Idempotency-Key", "role-"+role+b.id)
		require.Equal(t, http.StatusForbidden, r.Code, role)
	}
}

func TestFinanceReportsBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel_rep")
	tests := []struct {
		name       string
		give       string
		wantStatus int
		wantField  string
		wantSays   string // part of the message, when it matters
	}{
		{name: "chargebacks without from", give: "/v1/finance/chargebacks?to=2026-11-30", wantStatus: 400, wantField: "from"},
		{name: "chargebacks without to", give: "/v1/finance/chargebacks?from=2026-11-01", wantStatus: 400, wantField: "to"},
		{name: "chargebacks bad date", give: "/v1/finance/chargebacks?from=2026-13-01&to=2026-11-30", wantStatus: 400, wantField: "from"},
		{name: "chargebacks to before from", give: "/v1/finance/chargebacks?from=2026-11-30&to=2026-11-01", wantStatus: 400, wantField: "to"},
		{name: "chargebacks bad status", give: "/v1/finance/chargebacks?from=2026-11-01&to=2026-11-30&status=lost", wantStatus: 400, wantField: "status"},
		{name: "chargebacks bad seller id", give: "/v1/finance/chargebacks?from=2026-11-01&to=2026-11-30&seller_id=a%20b", wantStatus: 400, wantField: "seller_id"},
		{name: "chargebacks unknown seller", give: "/v1/finance/chargebacks?from=2026-11-01&to=2026-11-30&seller_id=" + b.name("nobody"), wantStatus: 404, wantField: "seller_id"},
		{name: "chargebacks bad format", give: "/v1/finance/chargebacks?from=2026-11-01&to=2026-11-30&format=xlsx", wantStatus: 400, wantField: "format"},
		{name: "statement without period", give: "/v1/sellers/" + sellerID + "/statement", wantStatus: 400, wantField: "from"},
		{name: "statement unknown seller", give: "/v1/sellers/" + b.name("nobody") + "/statement?from=2026-11-01&to=2026-11-30", wantStatus: 404},
		{name: "statement unknown seller as csv", give: "/v1/sellers/" + b.name("nobody") + "/statement?from=2026-11-01&to=2026-11-30&format=csv", wantStatus: 404},
		{name: "ledger bad kind", give: "/v1/finance/ledger/transactions?kind=gift", wantStatus: 400, wantField: "kind"},
		{name: "ledger bad kind as csv", give: "/v1/finance/ledger/transactions?kind=gift&format=csv", wantStatus: 400, wantField: "kind"},
		{name: "ledger account and seller", give: "/v1/finance/ledger/transactions?account=claims_clearing&seller_id=" + sellerID, wantStatus: 400, wantField: "seller_id"},
		{name: "ledger account not UTF-8", give: "/v1/finance/ledger/transactions?account=claims_%FF", wantStatus: 400, wantField: "account", wantSays: "UTF-8"},
		{name: "ledger account with NUL", give: "/v1/finance/ledger/transactions?account=claims_%00", wantStatus: 400, wantField: "account", wantSays: "NUL"},
		{name: "ledger account not UTF-8 as csv", give: "/v1/finance/ledger/transactions?format=csv&account=%C3", wantStatus: 400, wantField: "account", wantSays: "UTF-8"},
		{name: "ledger bad claim id", give: "/v1/finance/ledger/transactions?claim_id=" + url.QueryEscape("a b"), wantStatus: 400, wantField: "claim_id"},
		{name: "ledger bad cursor", give: "/v1/finance/ledger/transactions?cursor=!!", wantStatus: 400, wantField: "cursor"},
		{name: "ledger bad limit", give: "/v1/finance/ledger/transactions?limit=0", wantStatus: 400, wantField: "limit"},
		{name: "trial balance bad date", give: "/v1/finance/ledger/trial-balance?as_of=yesterday", wantStatus: 400, wantField: "as_of"},
		{name: "chargebacks to the last day there is", give: "/v1/finance/chargebacks?from=2026-01-01&to=9999-12-31", wantStatus: 400, wantField: "to", wantSays: "must be on or before 9999-12-30"},
		{name: "chargebacks to the last day there is, as csv", give: "/v1/finance/chargebacks?from=2026-01-01&to=9999-12-31&format=csv", wantStatus: 400, wantField: "to", wantSays: "must be on or before 9999-12-30"},
		{name: "chargebacks to past year 9999", give: "/v1/finance/chargebacks?from=2026-01-01&to=" + url.QueryEscape("9999-12-31T23:30:00-01:00"), wantStatus: 400, wantField: "to", wantSays: "must be on or before 9999-12-31T23:59:59Z"},
		{name: "chargebacks from year 1", give: "/v1/finance/chargebacks?from=0001-01-01&to=2026-11-30", wantStatus: 400, wantField: "from", wantSays: "must be on or after 1970-01-01"},
		{name: "chargebacks from year 0", give: "/v1/finance/chargebacks?from=0000-01-01&to=2026-11-30", wantStatus: 400, wantField: "from", wantSays: "must be on or after 1970-01-01"},
		{name: "chargebacks from before year 1", give: "/v1/finance/chargebacks?from=" + url.QueryEscape("0001-01-01T00:00:00+01:00") + "&to=2026-11-30", wantStatus: 400, wantField: "from", wantSays: "must be on or after 1970-01-01T00:00:00Z"},
		{name: "statement to the last day there is", give: "/v1/sellers/" + sellerID + "/statement?from=2026-01-01&to=9999-12-31", wantStatus: 400, wantField: "to", wantSays: "must be on or before 9999-12-30"},
		{name: "statement from year 1", give: "/v1/sellers/" + sellerID + "/statement?from=0001-01-01&to=2026-01-01", wantStatus: 400, wantField: "from", wantSays: "must be on or after 1970-01-01"},
		{name: "ledger from year 1", give: "/v1/finance/ledger/transactions?from=0001-01-01", wantStatus: 400, wantField: "from", wantSays: "must be on or after 1970-01-01"},
		{name: "ledger to past year 9999", give: "/v1/finance/ledger/transactions?to=9999-12-31", wantStatus: 400, wantField: "to", wantSays: "must be on or before 9999-12-30"},
		{name: "trial balance as of the last day there is", give: "/v1/finance/ledger/trial-balance?as_of=9999-12-31", wantStatus: 400, wantField: "as_of", wantSays: "must be on or before 9999-12-30"},
		{name: "trial balance as of year 1", give: "/v1/finance/ledger/trial-balance?as_of=0001-01-01", wantStatus: 400, wantField: "as_of", wantSays: "must be on or after 1970-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := b.do(t, http.MethodGet, tt.give, b.finance(t), nil)
			require.Equal(t, tt.wantStatus, r.Code, string(r.Body))
			require.Equal(t, "application/json", strings.Split(r.Header.Get("Content-Type"), ";")[0], "errors are JSON, even for a CSV request")
			require.Empty(t, r.Header.Get("Content-Disposition"))
			if tt.wantField != "" {
				require.Equal(t, tt.wantField, r.errorOf(t)["field"], string(r.Body))
			}
			require.Contains(t, r.errorOf(t)["message"], tt.wantSays)
		})
	}

	// The span's own ends are taken.
	for _, give := range []string{
		"/v1/finance/chargebacks?from=1970-01-01&to=9999-12-30",
		"/v1/finance/chargebacks?from=1970-01-01T00:00:00Z&to=9999-12-31T23:59:59Z&format=csv",
		"/v1/sellers/" + sellerID + "/statement?from=1970-01-01&to=9999-12-30",
		"/v1/finance/ledger/transactions?from=1970-01-01&to=9999-12-30",
		"/v1/finance/ledger/trial-balance?as_of=9999-12-30",
		"/v1/finance/ledger/trial-balance?as_of=1970-01-01",
	} {
		r := b.do(t, http.MethodGet, give, b.finance(t), nil)
		require.Equal(t, http.StatusOK, r.Code, "%s: %s", give, r.Body)
	}
}

// TestStatementsEqualTheLedger: for sellers with a random history of
// charges, waivers and recoveries spread over days, every statement's
// closing balance is what the ledger holds, a period's closing is the
// next one's opening, and each statement's entries add up to its totals.
func TestStatementsEqualTheLedger(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	t.Logf("seeded with the clock; rerun to vary")
	sellers := []string{b.newSeller(t, "sel_rnd_a"), b.newSeller(t, "sel_rnd_b"), b.newSeller(t, "sel_rnd_c")}
	at := b.now
	for i := range 24 {
		at = at.Add(time.Duration(1+rng.IntN(20)) * time.Hour)
		b.clock.Set(at)
		sellerID := sellers[rng.IntN(len(sellers))]
		switch owed := ledgerBalance(t, sellerID); {
		case owed > 0 && rng.IntN(4) == 0:
			r := b.recover(t, sellerID, 1+rng.Int64N(owed), fmt.Sprintf("bank-%d", i), "")
			require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
		default:
			shopper := b.name(fmt.Sprintf("shp_rnd_%d", i))
			cl := b.fileClaim(t, sellerID, shopper, 100+rng.Int64N(instantAmount-100), "")
			id := cl["id"].(string)
			runRefund(t, id, at)
			runChargeSeller(t, id, at)
			if rng.IntN(3) == 0 {
				r := b.override(t, b.getClaim(t, id), "waive_chargeback")
				require.Equal(t, http.StatusOK, r.Code, string(r.Body))
			}
		}
	}
	end := at.Add(time.Hour)
	statement := func(sellerID string, from, to time.Time) map[string]any {
		t.Helper()
		q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
		r := b.do(t, http.MethodGet, "/v1/sellers/"+sellerID+"/statement?"+q.Encode(), b.finance(t), nil)
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		return r.json(t)
	}
	eur := func(list any, field string) int64 {
		for _, x := range list.([]any) {
			if m := x.(map[string]any); m["currency"] == "EUR" {
				return int64(m[field].(float64))
			}
		}
		return 0
	}
	for _, sellerID := range sellers {
		full := statement(sellerID, b.now.Add(-time.Hour), end)
		require.Equal(t, ledgerBalance(t, sellerID), eur(full["totals"], "closing"), sellerID)
		require.Equal(t, float64(ledgerBalance(t, sellerID)), b.owed(t, sellerID))

		cut := b.now.Add(time.Duration(rng.Int64N(int64(end.Sub(b.now)))))
		first, second := statement(sellerID, b.now.Add(-time.Hour), cut), statement(sellerID, cut, end)
		require.Equal(t, eur(first["totals"], "closing"), eur(second["opening"], "amount"), "%s cut at %s", sellerID, cut)
		require.Equal(t, eur(first["totals"], "closing"), eur(second["totals"], "opening"))
		require.Equal(t, eur(full["totals"], "closing"), eur(second["totals"], "closing"))
		for _, st := range []map[string]any{full, first, second} {
			sum := eur(st["totals"], "opening")
			byCat := map[string]int64{}
			for _, e := range st["entries"].([]any) {
				m := e.(map[string]any)
				amt := int64(m["amount"].(float64))
				sum += amt
				byCat[m["category"].(string)] += amt
				require.Equal(t, sum, int64(m["balance"].(float64)), "running balance")
			}
			require.Equal(t, sum, eur(st["totals"], "closing"))
			require.Equal(t, byCat["charge"], eur(st["totals"], "charges"))
			require.Equal(t, byCat["reversal"], eur(st["totals"], "reversals"))
			require.Equal(t, byCat["recovery"], eur(st["totals"], "recoveries"))
		}
		// The CSV says the same.
		q := url.Values{"from": {b.now.Add(-time.Hour).Format(time.RFC3339)}, "to": {end.Format(time.RFC3339)}, "format": {"csv"}}
		r := b.do(t, http.MethodGet, "/v1/sellers/"+sellerID+"/statement?"+q.Encode(), b.finance(t), nil)
		require.Equal(t, http.StatusOK, r.Code)
		recs := readCSV(t, r.Body)
		last := recs[len(recs)-1]
		require.Equal(t, "closing", last[0])
		require.Equal(t, strconv.FormatInt(ledgerBalance(t, sellerID), 10), last[column(t, recs[0], "amount_minor")])
	}
}
