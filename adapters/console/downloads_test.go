package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/console"
	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// TestDownloadsGetTheExportTimeout: with a request timeout too short for
// any page, the console's downloads still stream, because the engine's
// router gives the paths DownloadPaths lists its export timeout; a page
// gets the "try again shortly" page instead.
func TestDownloadsGetTheExportTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := b.clock.Now
	svc := claimflow.NewService(store, policyfile.Default(), now)
	fin := financeflow.New(financeflow.Config{Store: store, Now: now,
		Providers: []financeflow.ProviderRecords{sandbox.New(store.DB(), sandbox.Config{})}})
	e := httpapi.New(httpapi.Deps{Claims: svc, Finance: fin, Secret: secret, Now: now,
		RequestTimeout: time.Nanosecond, ExportTimeout: time.Minute, ExportPaths: console.DownloadPaths()})
	console.Mount(e, console.Deps{Claims: svc, Finance: fin, Keys: b.keys, Logins: store, Now: now})
	short := &testBundle{e: e, svc: svc, clock: b.clock, keys: b.keys, id: b.id}
	// Signed in through the usual router: the cookie is good on any
	// router with the same keys.
	s := b.signIn(t, "finance", "fin").cookie

	csv := short.do(t, http.MethodGet, "/console/finance/chargebacks.csv", s, nil)
	require.Equal(t, http.StatusOK, csv.Code, csv.Body)
	require.Contains(t, csv.Header.Get("Content-Type"), "text/csv")
	page := short.do(t, http.MethodGet, "/console/finance/chargebacks", s, nil)
	require.Equal(t, http.StatusServiceUnavailable, page.Code, page.Body)
}

// TestDownloadCutShortAfterTheHoldBack: on a database written before
// amounts were bounded, a statement whose running balance stops fitting in
// int64 past the download's first 64 KiB reaches the browser as a failed
// download, never as a file that ends cleanly; one that fails at its
// second entry still gets the error page.
func TestDownloadCutShortAfterTheHoldBack(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(9*time.Hour))
	fin := b.signIn(t, "finance", "fin")
	late, early := b.name("sel_late"), b.name("sel_early")
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// charges gives seller n ordinary charges, one a second, then one no
	// int64 balance can add.
	charges := `
		WITH t AS (
		    INSERT INTO ledger_transactions (key, kind, description, created_at)
		    SELECT $1 || '/' || g, 'seller_charge', 'charge ' || g, $2::timestamptz + g * interval '1 second'
		      FROM generate_series(1, $3::int) g
		    UNION ALL
		    SELECT $1 || '/huge', 'seller_charge', 'huge', $2::timestamptz + interval '1 hour'
		    RETURNING id, key)
		INSERT INTO ledger_postings (transaction_id, account, amount, currency)
		SELECT t.id, v.account, CASE WHEN t.key NOT LIKE '%/huge' THEN v.amount WHEN v.amount > 0 THEN 9223372036854775807
		       ELSE -9223372036854775807 END, 'EUR'
		  FROM t, LATERAL (VALUES ('seller_receivable:' || $1, 1999), ('claims_clearing', -1999)) v(account, amount)`
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_amount_max`, nil},
		{`INSERT INTO sellers (id, name, risk_score, created_at, updated_at) VALUES ($1, 'Late', 10, now(), now()), ($2, 'Early', 10, now(), now())`,
			[]any{late, early}},
		{charges, []any{late, from, 1000}}, // about 150 KiB before the huge one
		{charges, []any{early, from, 1}},   // fails at its second entry
	} {
		_, err := b.st.DB().Exec(q.sql, q.args...)
		require.NoError(t, err, q.sql)
	}
	srv := httptest.NewServer(b.e)
	t.Cleanup(srv.Close)
	get := func(sellerID string) (*http.Response, []byte, error) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/console/finance/sellers/"+sellerID+"/statement.csv?from=2025-01-01&to=2025-01-01", nil)
		require.NoError(t, err)
		req.AddCookie(fin.cookie)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp, body, err
	}

	resp, body, err := get(late)
	require.Equal(t, http.StatusOK, resp.StatusCode, "committed before the failure")
	require.Equal(t, export.ContentTypeCSV, resp.Header.Get("Content-Type"))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the download breaks")
	require.GreaterOrEqual(t, len(body), export.HoldBack)
	require.NotContains(t, string(body), "huge")
	require.NotRegexp(t, wrapped, string(body))

	resp, body, err = get(early)
	require.NoError(t, err)
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	require.Empty(t, resp.Header.Get("Content-Disposition"), "an error page, not a download")
	require.Contains(t, string(body), "A total is too large to show")
}
