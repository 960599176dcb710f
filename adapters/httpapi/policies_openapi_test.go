package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// isPolicyRoute reports whether an OpenAPI path is the policy lab's.
func isPolicyRoute(path string) bool {
	return strings.HasPrefix(path, "/v1/policies") || strings.HasPrefix(path, "/v1/policy-backtests")
}

// policies drives the policy lab's routes, success and error cases of
// each, through a router on a database of their own (an activation there
// decides every claim in it), and checks each request and response
// against openapi.json as cf does.
func (cf *conformance) policies(t *testing.T) {
	pb := setupPolicies(t, "httpapi_policy_conf")
	lab := &conformance{b: pb.testBundle, router: cf.router, opts: cf.opts, seen: cf.seen}
	b := pb.testBundle
	risk, admin, agent := pb.risk, b.token(t, "admin", "root"), b.token(t, "agent", "ana")
	shopper := b.token(t, "shopper", b.name("shp_conf"))
	big := strings.Repeat("x", 9<<10) // over the 8 KiB limit setup sets
	pb.claims(t, 2, instantAmount)

	strict := b.name("strict")
	doc := policyDocument(strict, stricter)
	for _, c := range []apiCall{
		{name: "policy created", token: risk, body: doc, want: 201},
		{name: "policy created by an admin", token: admin, body: policyDocument(b.name("admins"), nil), want: 201},
		{name: "policy: exists", token: risk, body: doc, want: 409},
		{name: "policy: malformed JSON", token: risk, body: `{"version":`, want: 400, rejected: true},
		{name: "policy: not an object", token: risk, body: `["v1"]`, want: 400, rejected: true},
		{name: "policy: no token", body: doc, want: 401, rejected: true},
		{name: "policy: agent", token: agent, body: doc, want: 403},
		{name: "policy: too large", token: risk, body: policyDocument(b.name("big"), func(d map[string]any) { d["note"] = big }), want: 413, rejected: true},
		{name: "policy: text/plain", token: risk, body: doc, headers: []string{"Content-Type", "text/plain"}, want: 415, rejected: true},
		{name: "policy: several problems", token: risk, want: 422, rejected: true, body: policyDocument(b.name("bad"), func(d map[string]any) {
			d["colour"] = "red"
			tierOf(d, 0)["instant_limits"].(map[string]any)["EUR"] = -1
		})},
		{name: "policy: negative limit", token: risk, want: 422, body: policyDocument(b.name("neg"), func(d map[string]any) {
			tierOf(d, 0)["instant_limits"].(map[string]any)["EUR"] = -1
		})},
	} {
		c.method, c.path = http.MethodPost, "/v1/policies"
		r := lab.run(t, c)
		if c.want == http.StatusUnprocessableEntity {
			require.Equal(t, "invalid_policy", r.errorOf(t)["code"])
			require.NotEmpty(t, r.errorOf(t)["details"].(map[string]any)["problems"])
		}
	}

	strictPath := "/v1/policies/" + strict
	r := lab.run(t, apiCall{name: "backtest", method: http.MethodPost, path: strictPath + "/backtests", token: risk, want: 202,
		body:    map[string]any{"from": b.now.Add(-time.Hour).Format(time.RFC3339), "to": b.now.Add(time.Hour).Format(time.RFC3339)},
		headers: []string{"Idempotency-Key", "conf-" + b.id}})
	runID := r.json(t)["id"].(string)
	require.NoError(t, pb.lab.RunBacktest(context.Background(), runID, false))
	runPath := "/v1/policy-backtests/" + runID
	period := map[string]any{"from": b.now.Add(-time.Hour).Format(time.RFC3339), "to": b.now.Add(time.Hour).Format(time.RFC3339),
		"filters": map[string]any{"reasons": []string{"counterfeit"}, "currencies": []string{"EUR"}, "seller_id": pb.seller, "decided_by": pb.seed}}
	var queued string // a run no worker takes here
	for _, c := range []apiCall{
		{name: "backtest replayed", token: risk, want: 202, body: map[string]any{"from": b.now.Add(-time.Hour).Format(time.RFC3339), "to": b.now.Add(time.Hour).Format(time.RFC3339)},
			headers: []string{"Idempotency-Key", "conf-" + b.id}},
		{name: "backtest with filters, never run", token: admin, body: period, want: 202},
		{name: "backtest: key reused", token: risk, body: period, headers: []string{"Idempotency-Key", "conf-" + b.id}, want: 409},
		{name: "backtest: unknown field", token: risk, body: map[string]any{"from": "2026-01-01", "to": "2026-01-02", "note": "x"}, want: 400, rejected: true},
		{name: "backtest: no token", body: period, want: 401, rejected: true},
		{name: "backtest: finance", token: b.token(t, "finance", "fin"), body: period, want: 403},
		{name: "backtest: unknown version", path: "/v1/policies/nope/backtests", token: risk, body: period, want: 404},
		{name: "backtest: too large", token: risk, body: map[string]any{"from": "2026-01-01", "to": "2026-01-02", "filters": map[string]any{"seller_id": big}}, want: 413},
		{name: "backtest: text/plain", token: risk, body: period, headers: []string{"Content-Type", "text/plain"}, want: 415, rejected: true},
		{name: "backtest: over three years", token: risk, body: map[string]any{"from": "2020-01-01", "to": "2024-01-01"}, want: 422},
	} {
		c.method = http.MethodPost
		if c.path == "" {
			c.path = strictPath + "/backtests"
		}
		r := lab.run(t, c)
		if c.name == "backtest replayed" {
			require.Equal(t, runID, r.json(t)["id"])
		}
		if c.name == "backtest with filters, never run" {
			queued = r.json(t)["id"].(string)
			require.Equal(t, "queued", r.json(t)["status"])
			require.Equal(t, []any{"counterfeit"}, r.json(t)["filters"].(map[string]any)["reasons"])
		}
	}

	for _, c := range []apiCall{
		{name: "policies", path: "/v1/policies", token: risk, want: 200},
		{name: "policies: no token", path: "/v1/policies", want: 401, rejected: true},
		{name: "policies: shopper", path: "/v1/policies", token: shopper, want: 403},

		{name: "policy", path: strictPath, token: admin, want: 200},
		{name: "policy: no token", path: strictPath, want: 401, rejected: true},
		{name: "policy: agent", path: strictPath, token: agent, want: 403},
		{name: "policy: unknown", path: "/v1/policies/nope", token: risk, want: 404},

		{name: "diff with the active version", path: strictPath + "/diff", token: risk, want: 200},
		{name: "diff with another", path: strictPath + "/diff?against=" + strict, token: risk, want: 200},
		{name: "diff: against twice", path: strictPath + "/diff?against=a&against=b", token: risk, want: 400},
		{name: "diff: no token", path: strictPath + "/diff", want: 401, rejected: true},
		{name: "diff: agent", path: strictPath + "/diff", token: agent, want: 403},
		{name: "diff: unknown against", path: strictPath + "/diff?against=nope", token: risk, want: 404},

		{name: "backtests", path: strictPath + "/backtests", token: risk, want: 200},
		{name: "backtests: limit 0", path: strictPath + "/backtests?limit=0", token: risk, want: 400, rejected: true},
		{name: "backtests: no token", path: strictPath + "/backtests", want: 401, rejected: true},
		{name: "backtests: agent", path: strictPath + "/backtests", token: agent, want: 403},
		{name: "backtests: unknown version", path: "/v1/policies/nope/backtests", token: risk, want: 404},

		{name: "backtest read", path: runPath, token: risk, want: 200},
		{name: "backtest read, queued", path: "/v1/policy-backtests/" + queued, token: risk, want: 200},
		{name: "backtest read: no token", path: runPath, want: 401, rejected: true},
		{name: "backtest read: agent", path: runPath, token: agent, want: 403},
		{name: "backtest read: unknown", path: "/v1/policy-backtests/pbt_nope", token: risk, want: 404},

		{name: "backtest claims", path: runPath + "/claims?change=instant_refund:manual_review&limit=1", token: risk, want: 200},
		{name: "backtest claims as csv", path: runPath + "/claims?format=csv", token: admin, want: 200},
		{name: "backtest claims: bad change", path: runPath + "/claims?change=instant_refund", token: risk, want: 400, rejected: true},
		{name: "backtest claims: bad cursor", path: runPath + "/claims?cursor=%21", token: risk, want: 400},
		{name: "backtest claims: no token", path: runPath + "/claims", want: 401, rejected: true},
		{name: "backtest claims: agent", path: runPath + "/claims", token: agent, want: 403},
		{name: "backtest claims: unknown", path: "/v1/policy-backtests/pbt_nope/claims", token: risk, want: 404},
		{name: "backtest claims: not completed", path: "/v1/policy-backtests/" + queued + "/claims", token: risk, want: 409},
	} {
		c.method = http.MethodGet
		r := lab.run(t, c)
		if c.name == "backtest read" {
			require.Equal(t, "completed", r.json(t)["status"])
			require.Equal(t, float64(2), r.json(t)["changed"])
			require.Contains(t, r.json(t), "consequences")
		}
		if c.name == "backtest claims" {
			require.Len(t, r.json(t)["claims"], 1)
			require.NotNil(t, r.json(t)["next_cursor"])
		}
	}

	// Shadow, activation and back.
	for _, c := range []apiCall{
		{name: "shadow: no token", path: strictPath + "/shadow", want: 401, rejected: true},
		{name: "shadow: agent", path: strictPath + "/shadow", token: agent, want: 403},
		{name: "shadow: unknown", path: "/v1/policies/nope/shadow", token: risk, want: 404},
		{name: "shadow: the active version", path: "/v1/policies/" + pb.seed + "/shadow", token: risk, want: 409},
		{name: "shadow", path: strictPath + "/shadow", token: risk, want: 200},
	} {
		c.method = http.MethodPost
		lab.run(t, c)
	}
	pb.claims(t, 1, instantAmount)
	for _, c := range []apiCall{
		{name: "shadow report", path: strictPath + "/shadow-report", token: risk, want: 200},
		{name: "shadow report: no token", path: strictPath + "/shadow-report", want: 401, rejected: true},
		{name: "shadow report: agent", path: strictPath + "/shadow-report", token: agent, want: 403},
		{name: "shadow report: unknown", path: "/v1/policies/nope/shadow-report", token: risk, want: 404},
		{name: "shadow claims", path: strictPath + "/shadow-report/claims", token: risk, want: 200},
		{name: "shadow claims as csv", path: strictPath + "/shadow-report/claims", token: risk, headers: []string{"Accept", "text/csv"}, want: 200},
		{name: "shadow claims: bad limit", path: strictPath + "/shadow-report/claims?limit=5000", token: risk, want: 400, rejected: true},
		{name: "shadow claims: no token", path: strictPath + "/shadow-report/claims", want: 401, rejected: true},
		{name: "shadow claims: agent", path: strictPath + "/shadow-report/claims", token: agent, want: 403},
		{name: "shadow claims: unknown", path: "/v1/policies/nope/shadow-report/claims", token: risk, want: 404},
	} {
		c.method = http.MethodGet
		r := lab.run(t, c)
		if c.name == "shadow report" {
			require.Equal(t, float64(1), r.json(t)["changed"])
		}
	}
	for _, c := range []apiCall{
		{name: "unshadow", path: strictPath + "/shadow", token: risk, want: 200},
		{name: "unshadow: not in shadow", path: strictPath + "/shadow", token: risk, want: 409},
		{name: "unshadow: no token", path: strictPath + "/shadow", want: 401, rejected: true},
		{name: "unshadow: agent", path: strictPath + "/shadow", token: agent, want: 403},
		{name: "unshadow: unknown", path: "/v1/policies/nope/shadow", token: risk, want: 404},
	} {
		c.method = http.MethodDelete
		lab.run(t, c)
	}
	for _, c := range []apiCall{
		{name: "activate", path: strictPath + "/activate", token: risk, want: 200},
		{name: "activate again", path: strictPath + "/activate", token: admin, want: 200},
		{name: "activate the seed again", path: "/v1/policies/" + pb.seed + "/activate", token: risk, want: 200},
		{name: "activate: no token", path: strictPath + "/activate", want: 401, rejected: true},
		{name: "activate: agent", path: strictPath + "/activate", token: agent, want: 403},
		{name: "activate: unknown", path: "/v1/policies/nope/activate", token: risk, want: 404},
	} {
		c.method = http.MethodPost
		lab.run(t, c)
	}

	// Exports: with every slot taken, the next is told to come back.
	for _, path := range []string{runPath + "/claims?format=csv", strictPath + "/shadow-report/claims?format=csv"} {
		release := lab.fillExports(t, path, risk)
		r := lab.run(t, apiCall{name: "exports full: " + path, method: http.MethodGet, path: path, token: risk, want: 429})
		require.Equal(t, "too_many_exports", r.errorOf(t)["code"])
		release()
	}
}

// TestPolicyOpenAPIConformance drives the policy lab's routes through the
// router and checks each request and response against openapi.json, and
// that every status the document lists for them was produced.
func TestPolicyOpenAPIConformance(t *testing.T) {
	t.Parallel()
	cf := newConformance(t, setup(t))
	cf.policies(t)

	cf.requireSeen(t, isPolicyRoute)
}
