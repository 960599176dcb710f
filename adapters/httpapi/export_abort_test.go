package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
)

// TestExportCutShortAfterTheHoldBack: a seller statement whose running
// balance stops fitting in int64 well past the export's first 64 KiB (a
// database written before amounts were bounded) reaches the client over
// a real connection as a broken transfer, in either format, never as a
// file that ends cleanly. (One that fails at once still gets its error
// response: TestTotalsBeyondInt64AreNeverShown.)
func TestExportCutShortAfterTheHoldBack(t *testing.T) {
	t.Parallel()
	st := pgtest.Store(t, "httpapi_cut")
	b := setupOn(t, st)
	sellerID := b.name("sel_cut")
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_amount_max`, nil},
		{`INSERT INTO sellers (id, name, risk_score, created_at, updated_at) VALUES ($1, 'Cut', 10, now(), now())`, []any{sellerID}},
		// A thousand ordinary charges, one a second: about 150 KiB of CSV.
		{`WITH t AS (
		      INSERT INTO ledger_transactions (key, kind, description, created_at)
		      SELECT 'cut/' || g, 'seller_charge', 'charge ' || g, $2::timestamptz + g * interval '1 second'
		        FROM generate_series(1, 1000) g
		      RETURNING id)
		  INSERT INTO ledger_postings (transaction_id, account, amount, currency)
		  SELECT t.id, v.account, v.amount, 'EUR' FROM t,
		         LATERAL (VALUES ('seller_receivable:' || $1, 1999), ('claims_clearing', -1999)) v(account, amount)`,
			[]any{sellerID, from}},
		// Then one no int64 balance can add.
		{`WITH t AS (
		      INSERT INTO ledger_transactions (key, kind, description, created_at)
		      VALUES ('cut/huge', 'seller_charge', 'huge', $2::timestamptz + interval '1 hour')
		      RETURNING id)
		  INSERT INTO ledger_postings (transaction_id, account, amount, currency)
		  SELECT t.id, v.account, v.amount, 'EUR' FROM t,
		         LATERAL (VALUES ('seller_receivable:' || $1, 9223372036854775807), ('claims_clearing', -9223372036854775807)) v(account, amount)`,
			[]any{sellerID, from}},
	} {
		_, err := st.DB().Exec(q.sql, q.args...)
		require.NoError(t, err, q.sql)
	}

	srv := httptest.NewServer(b.e)
	t.Cleanup(srv.Close) // after the parallel subtests
	fin := b.token(t, "finance", "fin")
	for _, format := range []string{"csv", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/sellers/"+sellerID+"/statement?from=2025-01-01&to=2025-01-01&format="+format, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+fin)
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, "committed before the failure")
			body, err := io.ReadAll(resp.Body)
			require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the transfer breaks")
			require.GreaterOrEqual(t, len(body), export.HoldBack)
			require.NotContains(t, string(body), "huge", "the entry that failed is not written")
			require.NotRegexp(t, wrapped, string(body))
		})
	}
}
