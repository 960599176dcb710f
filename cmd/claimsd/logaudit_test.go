package main

import (
	"context"
	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/stripe/stripemock"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
)

// TestLogsHoldNoSecretsOrPersonalData runs the engine at debug level with
// marked secrets (token key, database password, Stripe keys) and marked
// personal data (a claim's description and evidence link, a seller's
// statement and evidence, an agent's note, a forged token), takes claims
// through refund, contest and resolution, bad input and bad tokens, then
// reads every line the process logged: none of the marks may be there.
func TestLogsHoldNoSecretsOrPersonalData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL, cleanup, err := pgtest.Database(ctx, "cmd_logs")
	require.NoError(t, err)
	t.Cleanup(cleanup)
	// The engine must never write the database password down. The
	// embedded PostgreSQL has a password of its own, which is the marked
	// value then; the machine's trusts loopback, so any password works and
	// a marked one is given.
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	dbPassword, ok := u.User.Password()
	if !ok {
		dbPassword = "dbpw-MARK-7f3a"
		u.User = url.UserPassword(u.User.Username(), dbPassword)
	}
	secrets := map[string]string{
		"token key":        procSecret,
		"previous key":     "previous-MARK-9c1d-previous-MARK-9c1d",
		"database pass":    dbPassword,
		"Stripe key":       "sk_test_MARK4e2b",
		"webhook secret":   "whsec_MARK8a0c",
		"description":      "MARK-desc-5b71",
		"evidence link":    "https://photos.example/MARK-ev-2d94.jpg",
		"statement":        "MARK-stmt-6e03",
		"seller evidence":  "https://seller.example/MARK-inv-1f88.pdf",
		"agent note":       "MARK-note-0b5c",
		"forged token":     "eyJhbGciOiJIUzI1NiJ9.MARK-forged-3a17.sig",
		"malformed body":   "MARK-json-44ee",
		"idempotency key":  "MARK-idem-93d1",
		"unknown field":    "MARK-field-7c20",
		"query parameter":  "MARK-query-61b8",
		"recovery comment": "MARK-recovery-d2c4",
	}

	addr := freeAddr(t)
	child := startChild(t, "claimsd-logs", map[string]string{
		"DATABASE_URL":                 u.String(),
		"CLAIMSD_HTTP_ADDR":            addr,
		"CLAIMSD_JWT_SECRET":           procSecret,
		"CLAIMSD_JWT_PREVIOUS_SECRETS": secrets["previous key"],
		"CLAIMSD_DATA_DIR":             t.TempDir(),
		"CLAIMSD_LOG_LEVEL":            "debug",
		"CLAIMSD_PAYMENTS":             "stripe",
		"STRIPE_API_KEY":               secrets["Stripe key"],
		"STRIPE_API_BASE":              stripemock.URL(t),
		"STRIPE_WEBHOOK_SECRET":        secrets["webhook secret"],
	})
	child.waitReady(t, addr)
	api := newProcAPI(addr)

	code, body, err := api.do(http.MethodPut, "/v1/sellers/sel_logs", "service", "platform",
		map[string]any{"name": "Seller", "risk_score": 80, "verified": true})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code, body)
	now := time.Now().UTC()
	code, body, err = api.do(http.MethodPut, "/v1/orders/ord_logs", "service", "platform", map[string]any{
		"buyer_id": "shp_logs", "seller_id": "sel_logs", "currency": "USD", "amount": 100,
		"items":   []map[string]any{{"sku": "sku_a", "name": "A", "quantity": 1, "unit_amount": 100}},
		"payment": map[string]any{"provider": "stripe", "reference": "pi_logs"},
		"paid_at": now.Add(-72 * time.Hour).Format(time.RFC3339), "delivered_at": now.Add(-24 * time.Hour).Format(time.RFC3339),
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code, body)

	code, body, err = api.do(http.MethodPost, "/v1/claims", "shopper", "shp_logs", map[string]any{
		"order_id": "ord_logs", "reason": "counterfeit", "description": "Fake logo. " + secrets["description"],
		"evidence": []map[string]any{{"kind": "photo", "url": secrets["evidence link"]}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code, body)
	id := body["id"].(string)

	pool := openTestPool(t, dbURL)
	waitSettled(t, pool, []string{id}, child)
	code, body, err = api.do(http.MethodPost, "/v1/claims/"+id+"/contest", "seller", "sel_logs", map[string]any{
		"statement": "Genuine. " + secrets["statement"],
		"evidence":  []map[string]any{{"kind": "document", "url": secrets["seller evidence"]}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, body)
	code, body, err = api.do(http.MethodPost, "/v1/claims/"+id+"/contest/resolution", "agent", "ana", map[string]any{
		"outcome": "uphold", "note": "Upheld. " + secrets["agent note"], "version": body["version"]})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, body)

	// Refused requests: a forged token, a malformed body, an unknown
	// field, a bad query parameter, a refused recovery with a key.
	raw := func(method, path, token, idemKey, body string) int {
		req, err := http.NewRequest(method, api.base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		if idemKey != "" {
			req.Header.Set("Idempotency-Key", idemKey)
		}
		resp, err := api.hc.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusUnauthorized, raw(http.MethodGet, "/v1/claims", secrets["forged token"], "", ""))
	shopper := mint(t, "shopper", "shp_logs")
	require.Equal(t, http.StatusBadRequest, raw(http.MethodPost, "/v1/claims", shopper, "", `{"order_id": "`+secrets["malformed body"]))
	require.Equal(t, http.StatusBadRequest, raw(http.MethodPost, "/v1/claims", shopper, "", `{"`+secrets["unknown field"]+`": 1}`))
	finance := mint(t, "finance", "fin")
	require.Equal(t, http.StatusBadRequest, raw(http.MethodGet, "/v1/finance/chargebacks?from="+secrets["query parameter"], finance, "", ""))
	require.Equal(t, http.StatusConflict, raw(http.MethodPost, "/v1/finance/recoveries", finance, secrets["idempotency key"],
		`{"seller_id":"sel_logs","amount":999999,"currency":"USD","method":"payment_received","reference":"r1","note":"`+secrets["recovery comment"]+`"}`))

	child.stop(t)
	logged, err := os.ReadFile(child.logPath)
	require.NoError(t, err)
	require.Contains(t, string(logged), id, "the log must at least hold the claim's id, or it proves nothing")
	require.Contains(t, string(logged), `"level":"DEBUG"`, "the engine logged at debug level")
	for what, mark := range secrets {
		require.NotContains(t, string(logged), mark, "the %s is in the log", what)
	}
	require.NotContains(t, string(logged), "MARK", "a marked value is in the log")
}

// mint returns a bearer token for role and sub signed with the children's key.
func mint(t *testing.T, role, sub string) string {
	t.Helper()
	tok, err := auth.MintToken([]byte(procSecret), claimflow.Role(role), sub, time.Hour, time.Now())
	require.NoError(t, err)
	return tok
}
