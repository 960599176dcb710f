package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fuzzEndpoint is one write route with a token of a role it admits.
type fuzzEndpoint struct {
	method, path string
	role         string // the token's role; its subject is set by fuzzWorld
	idempotent   bool   // send a fresh Idempotency-Key
}

// fuzzEndpoints are the write routes FuzzWriteEndpoints drives, by index.
// Paths name the per-process fixtures: $SELLER, $ORDER, $CLAIM, $RUN,
// $POLICY.
var fuzzEndpoints = []fuzzEndpoint{
	{method: http.MethodPut, path: "/v1/sellers/$SELLER_PUT", role: "service"},
	{method: http.MethodPut, path: "/v1/orders/$ORDER_PUT", role: "service"},
	{method: http.MethodPost, path: "/v1/claims", role: "shopper"},
	{method: http.MethodPost, path: "/v1/claims/$CLAIM/override", role: "agent"},
	{method: http.MethodPost, path: "/v1/claims/$CLAIM/contest", role: "seller"},
	{method: http.MethodPost, path: "/v1/claims/$CLAIM/contest/resolution", role: "agent"},
	{method: http.MethodPost, path: "/v1/finance/recoveries", role: "finance", idempotent: true},
	{method: http.MethodPost, path: "/v1/finance/reconciliations", role: "finance"},
	{method: http.MethodPost, path: "/v1/finance/reconciliations/$RUN/exceptions/1/resolution", role: "finance"},
	{method: http.MethodPost, path: "/v1/policies", role: "risk"},
	{method: http.MethodPost, path: "/v1/policies/$POLICY/backtests", role: "risk", idempotent: true},
}

// fuzzWorld is one fuzzing process's router and fixtures: a seller, a
// paid and delivered order, a claim on it waiting in review and a
// reconciliation run. Fuzz workers are separate processes, each with its
// own database (TestMain), so building it once per process is enough.
type fuzzWorld struct {
	b       *testBundle
	tokens  map[string]string
	replace *bytesReplacer
}

var (
	fuzzOnce  sync.Once
	fuzzState *fuzzWorld
	fuzzErr   error
	fuzzKeys  atomic.Int64
)

type bytesReplacer struct{ old, new [][]byte }

func (r *bytesReplacer) apply(b []byte) []byte {
	for i := range r.old {
		b = bytes.ReplaceAll(b, r.old[i], r.new[i])
	}
	return b
}

func buildFuzzWorld(t *testing.T) (w *fuzzWorld, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	b := setup(t)
	shopper := b.name("shp_fuzz")
	sellerID, orderID := b.seed(t, 10, shopper, 90000, 3*24*time.Hour, 24*time.Hour)
	tokens := map[string]string{
		"service": b.token(t, "service", "platform"),
		"shopper": b.token(t, "shopper", shopper),
		"agent":   b.token(t, "agent", "agt_fuzz"),
		"seller":  b.token(t, "seller", sellerID),
		"finance": b.token(t, "finance", "fin_fuzz"),
		"risk":    b.token(t, "risk", "risk_fuzz"),
	}
	// 900.00 EUR is above every tier's instant limit: the claim waits in review.
	r := b.do(t, http.MethodPost, "/v1/claims", tokens["shopper"], claimBody(orderID, "amount", 60000))
	if r.Code != http.StatusCreated {
		return nil, fmt.Errorf("seed claim: %d %s", r.Code, r.Body)
	}
	claimID, _ := r.json(t)["id"].(string)
	r = b.do(t, http.MethodPost, "/v1/finance/reconciliations", tokens["finance"],
		map[string]any{"from": "2026-01-01", "to": "2026-01-31"})
	if r.Code != http.StatusAccepted {
		return nil, fmt.Errorf("seed reconciliation: %d %s", r.Code, r.Body)
	}
	runID, _ := r.json(t)["id"].(string)
	policy := b.name("fuzz")
	r = b.do(t, http.MethodPost, "/v1/policies", tokens["risk"], policyDocument(policy, nil))
	if r.Code != http.StatusCreated {
		return nil, fmt.Errorf("seed policy: %d %s", r.Code, r.Body)
	}
	rep := &bytesReplacer{}
	for _, kv := range [][2]string{
		{"$SELLER_PUT", b.name("sel_fuzzput")}, {"$ORDER_PUT", b.name("ord_fuzzput")},
		{"$SELLER", sellerID}, {"$ORDER", orderID}, {"$CLAIM", claimID}, {"$RUN", runID}, {"$POLICY", policy},
	} {
		rep.old = append(rep.old, []byte(kv[0]))
		rep.new = append(rep.new, []byte(kv[1]))
	}
	return &fuzzWorld{b: b, tokens: tokens, replace: rep}, nil
}

// FuzzWriteEndpoints sends arbitrary bodies to the write routes, with a
// token of a role each admits. Whatever the body, the answer is never a
// 5xx other than 503, and every 4xx carries {"error":{"code","message"}}.
// In a body, $SELLER, $ORDER, $CLAIM and $RUN stand for the process's
// fixtures, so the seeds reach past decoding into the services.
func FuzzWriteEndpoints(f *testing.F) {
	policyBody, err := json.Marshal(policyDocument("fuzz-2026.1", nil))
	require.NoError(f, err)
	orderBody := `{"buyer_id":"shp_x","seller_id":"$SELLER","currency":"EUR","amount":3000,` +
		`"items":[{"sku":"a","name":"A","quantity":2,"unit_amount":1500}],` +
		`"payment":{"provider":"sandbox","reference":"pay_$ORDER_PUT"},"paid_at":"2026-11-01T10:00:00Z"}`
	seeds := []struct {
		endpoint uint8
		body     string
	}{
		{0, `{"name":"Fuzz Seller","risk_score":40,"verified":true}`},
		{0, `{"name":"Fuzz Seller","risk_score":40,"verified":true,"stripe_account":"acct_123"}`},
		{0, `{"name":"","risk_score":-1}`},
		{1, orderBody},
		{1, `{"buyer_id":"shp_x","seller_id":"$SELLER","currency":"EUR","amount":1,"items":[{"sku":"a","name":"A","quantity":9223372036854775807,"unit_amount":9223372036854775807}],"payment":{"provider":"sandbox","reference":"r"}}`},
		{2, `{"order_id":"$ORDER","reason":"counterfeit","description":"The logo is wrong."}`},
		{2, `{"order_id":"$ORDER","reason":"damaged","items":[{"sku":"sku_a","quantity":1}],"amount":100,"description":"Broken.","evidence":[{"kind":"photo","url":"https://example.com/a.jpg"}]}`},
		{2, `{"order_id":"$ORDER","reason":"counterfeit","description":"x","items":[{"sku":"sku_a","quantity":1},{"quantity":"1"}]}`},
		{3, `{"action":"approve","note":"Checked the photos.","version":2}`},
		{3, `{"action":"reject","reason_code":"item_authentic","note":"Genuine.","version":2}`},
		{4, `{"statement":"The item was genuine.","evidence":[{"kind":"document","url":"https://example.com/invoice.pdf"}]}`},
		{5, `{"outcome":"uphold","note":"Invoice checked.","version":3}`},
		{6, `{"seller_id":"$SELLER","amount":400,"currency":"EUR","method":"payout_netting","reference":"po_1","note":"Withheld."}`},
		{7, `{"from":"2026-11-01","to":"2026-11-30"}`},
		{7, `{"from":"2026-11-30T00:00:00Z","to":"2026-11-01"}`},
		{8, `{"note":"Matched by hand against the bank statement."}`},
		// Malformed bodies.
		{0, ``},
		{1, `{"buyer_id":`},
		{2, `[]`},
		{3, `{"action":"approve"}{"action":"approve"}`},
		{4, `{"statement":"\u0000"}`},
		{5, `null`},
		{6, `{"seller_id":"$SELLER","amount":1e400}`},
		{7, `{"from":{"to":[1,2,{"x":null}]}}`},
		{8, "\xff\xfe{}"},
		{2, `{"order_id":"$ORDER","reason":"counterfeit","description":"\ud800","amount":-9223372036854775808}`},
		// Bodies a schema-validating proxy reads otherwise than a lax decoder.
		{2, `{"order_id":"$ORDER","ORDER_ID":"x","reason":"counterfeit","description":"d"}`},
		{0, `{"name":"S","risk_score":1,"risk_score":100}`},
		{1, `{"buyer_id":"shp_x","seller_id":"$SELLER","currency":"EUR","amount":1,"items":[{"sku":"a","name":"A","quantity":1,"unit_amount":1,"sku":"b"}],"payment":{"provider":"sandbox","reference":"r"},"paid_at":"9999-12-31T23:59:59-01:00"}`},
		{7, `{"from":"0001-01-01","to":"9999-12-31"}`},
		{8, "{\"note\":\"\xc3\"}"},
		{3, `{"action":"approve","note":"n","version":0}`},
		// The policy lab: a whole document, a broken one, backtests.
		{9, string(policyBody)},
		{9, `{"version":"v 1","tiers":[{"Name":1,"instant_limits":{"EUR":-1}}],"review":{"x":{}}}`},
		{9, `{"version":"a","version":"b"}`},
		{10, `{"from":"2026-11-01","to":"2026-11-30","filters":{"reasons":["counterfeit"],"currencies":["EUR"],"seller_id":"$SELLER","decided_by":"$POLICY"}}`},
		{10, `{"from":"2026-11-30","to":"2026-11-01","filters":{"reasons":["x"],"currencies":["eur"],"seller_id":"","decided_by":""}}`},
		{10, `{"from":"0001-01-01T00:00:00Z","to":"9999-12-31"}`},
	}
	for _, s := range seeds {
		f.Add(s.endpoint, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, endpoint uint8, body []byte) {
		fuzzOnce.Do(func() { fuzzState, fuzzErr = buildFuzzWorld(t) })
		if fuzzErr != nil {
			t.Fatalf("building the fixtures: %v", fuzzErr)
		}
		w := fuzzState
		ep := fuzzEndpoints[int(endpoint)%len(fuzzEndpoints)]
		path := string(w.replace.apply([]byte(ep.path)))
		req := httptest.NewRequest(ep.method, path, bytes.NewReader(w.replace.apply(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+w.tokens[ep.role])
		if ep.idempotent {
			req.Header.Set("Idempotency-Key", fmt.Sprintf("fuzz-%s-%d", w.b.id, fuzzKeys.Add(1)))
		}
		rec := httptest.NewRecorder()
		w.b.e.ServeHTTP(rec, req)

		code := rec.Code
		if code >= 500 && code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s with %q: %d %s", ep.method, ep.path, body, code, rec.Body.Bytes())
		}
		if code >= 400 && code < 500 {
			var got struct {
				Error *struct {
					Code    *string `json:"code"`
					Message *string `json:"message"`
				} `json:"error"`
			}
			err := json.Unmarshal(rec.Body.Bytes(), &got)
			require.NoError(t, err, "%s %s: %d %s", ep.method, ep.path, code, rec.Body.Bytes())
			if got.Error == nil || got.Error.Code == nil || *got.Error.Code == "" || got.Error.Message == nil || *got.Error.Message == "" {
				t.Fatalf("%s %s: %d without the error shape: %s", ep.method, ep.path, code, rec.Body.Bytes())
			}
		}
	})
}
