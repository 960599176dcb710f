package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/adapters/queue"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// policyDocument is the built-in policy as a JSON object under another
// version, with edit applied to it (nil: none).
func policyDocument(version string, edit func(doc map[string]any)) map[string]any {
	raw, err := policyfile.Marshal(policyfile.Default())
	if err != nil {
		panic(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		panic(err)
	}
	doc["version"] = version
	if edit != nil {
		edit(doc)
	}
	return doc
}

// tierOf is tier i of a policy document.
func tierOf(doc map[string]any, i int) map[string]any {
	return doc["tiers"].([]any)[i].(map[string]any)
}

// stricter lowers the new tier's EUR limits below instantAmount, so a
// claim the built-in policy refunds at once goes to a person.
func stricter(doc map[string]any) {
	tierOf(doc, 0)["instant_limits"].(map[string]any)["EUR"] = 500
	tierOf(doc, 0)["raised_limits"].(map[string]any)["EUR"] = 500
}

// policyBundle is a router on a database of the test's own (a version's
// activation decides every claim in it; a backtest replays every claim of
// its period), whose claims are decided by the lab's active version with
// the one in shadow beside it, the built-in policy seeded as the first.
type policyBundle struct {
	*testBundle
	st     *pgstore.Store
	lab    *policyflow.Service
	seed   string // the seeded version
	risk   string // a risk analyst's token
	seller string
}

func setupPolicies(t *testing.T, name string) *policyBundle {
	t.Helper()
	st := pgtest.Store(t, name)
	ctx := context.Background()
	src := policyflow.NewSource(st, policyfile.Codec{}, policyfile.Default(), nil)
	var lab *policyflow.Service
	b := setupOn(t, st, func(d *httpapi.Deps) {
		lab = policyflow.New(policyflow.Config{Store: st, Codec: policyfile.Codec{}, Source: src, Now: d.Now})
		d.Policies = lab
		d.Claims = claimflow.NewService(st, policyfile.Default(), d.Now, claimflow.WithPolicies(src))
	})
	seeded, err := lab.Seed(ctx, policyfile.Default())
	require.NoError(t, err)
	require.True(t, seeded)
	require.NoError(t, src.Refresh(ctx))
	pb := &policyBundle{testBundle: b, st: st, lab: lab, seed: policyfile.Default().Version,
		risk: b.token(t, "risk", b.name("rita"))}
	pb.seller = b.newSeller(t, "sel_lab")
	return pb
}

// startWorkers runs River workers on the bundle's database for the
// test's duration: the claims' steps and the policy queue's backtests.
func (b *policyBundle) startWorkers(t *testing.T) {
	t.Helper()
	jobs, err := queue.NewInserter(b.st.DB(), queue.Config{})
	require.NoError(t, err)
	w, err := queue.NewWorkers(b.st.Pool(), queue.Steps{
		Refund: &claimflow.RefundStep{Store: b.st, Now: time.Now,
			Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(b.st.DB(), sandbox.Config{})}},
		ChargeSeller: &claimflow.ChargeSellerStep{Store: b.st, Now: time.Now},
		Deadlines:    &claimflow.DeadlineStep{Store: b.st, Now: time.Now},
		Redrive:      &claimflow.Redrive{Store: b.st, Jobs: jobs, Now: time.Now},
		Backtests:    b.lab,
	}, queue.Config{})
	require.NoError(t, err)
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() { require.NoError(t, w.Stop(context.Background())) })
}

// claims files n claims of amount, each a new shopper's, and returns
// their ids.
func (b *policyBundle) claims(t *testing.T, n int, amount int64) []string {
	t.Helper()
	var ids []string
	for range n {
		cl := b.fileClaim(t, b.seller, b.name(fmt.Sprintf("shp_lab_%d", time.Now().UnixNano())), amount, "")
		ids = append(ids, cl["id"].(string))
	}
	return ids
}

// create posts a policy document as the risk analyst; it must be taken.
func (b *policyBundle) create(t *testing.T, doc map[string]any) map[string]any {
	t.Helper()
	r := b.do(t, http.MethodPost, "/v1/policies", b.risk, doc)
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	return r.json(t)
}

// get answers GET path as the risk analyst with 200.
func (b *policyBundle) get(t *testing.T, path string) map[string]any {
	t.Helper()
	r := b.do(t, http.MethodGet, path, b.risk, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	return r.json(t)
}

// post sends an action as the risk analyst and requires want.
func (b *policyBundle) post(t *testing.T, method, path string, want int) map[string]any {
	t.Helper()
	r := b.do(t, method, path, b.risk, nil)
	require.Equal(t, want, r.Code, string(r.Body))
	return r.json(t)
}

// waitBacktest reads a run until it is done (giving up after a minute,
// rather than hanging, if it never is).
func (b *policyBundle) waitBacktest(t *testing.T, path string) map[string]any {
	t.Helper()
	for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(20 * time.Millisecond) {
		run := b.get(t, path)
		if st := run["status"]; st == "completed" || st == "failed" {
			return run
		}
	}
	t.Fatalf("backtest %s did not finish", path)
	return nil
}

// cell is the matrix's cell of claims that got got and the candidate
// decides cand.
func cell(t *testing.T, report map[string]any, got, cand string) map[string]any {
	t.Helper()
	return report["matrix"].(map[string]any)[got].(map[string]any)[cand].(map[string]any)
}

// fieldOf is the field an error response names, "" for none.
func fieldOf(t *testing.T, r response) string {
	t.Helper()
	f, _ := r.errorOf(t)["field"].(string)
	return f
}

func claimIDs(t *testing.T, page map[string]any) []string {
	t.Helper()
	var out []string
	for _, c := range page["claims"].([]any) {
		out = append(out, c.(map[string]any)["claim_id"].(string))
	}
	return out
}

// changeActions lists a trail's entries as "version action".
func changeActions(t *testing.T, detail map[string]any) []string {
	t.Helper()
	var out []string
	for _, c := range detail["changes"].([]any) {
		m := c.(map[string]any)
		out = append(out, fmt.Sprintf("%s %s", m["version"], m["action"]))
	}
	return out
}

// TestPolicyLab walks a risk analyst's day through the real router on a
// database of its own: a stricter draft is created, listed, read back as
// sent and compared with the active version; a backtest of it, worked by
// River's workers, replays the claims decided in the hour and finds the
// ones it would send to a person; it is activated (audited: the one it
// retired shows both), the previous one activated again, and put in
// shadow, where it decides new claims beside the active one.
func TestPolicyLab(t *testing.T) {
	t.Parallel()
	b := setupPolicies(t, "httpapi_policy_lab")
	b.startWorkers(t)
	rita := "risk:" + b.name("rita")

	// The seeded version is the only one, active.
	list := b.get(t, "/v1/policies")["policies"].([]any)
	require.Len(t, list, 1)
	seeded := list[0].(map[string]any)
	require.Equal(t, b.seed, seeded["version"])
	require.Equal(t, "active", seeded["status"])
	require.Equal(t, "system", seeded["created_by"])
	require.Nil(t, seeded["retired_at"])

	// Claims decided by it: three refunded at once, one sent to a person.
	instant := b.claims(t, 3, instantAmount)
	b.claims(t, 1, reviewAmount)

	// A stricter draft, a minute later.
	b.clock.Set(b.now.Add(time.Minute))
	strict := b.name("strict")
	doc := policyDocument(strict, stricter)
	r := b.do(t, http.MethodPost, "/v1/policies", b.risk, doc)
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	require.Equal(t, "/v1/policies/"+strict, r.Header.Get("Location"))
	created := r.json(t)
	require.Equal(t, "draft", created["status"])
	require.Equal(t, rita, created["created_by"])
	for _, k := range []string{"activated_by", "activated_at", "shadow_by", "shadow_at", "retired_at"} {
		require.Contains(t, created, k)
		require.Nil(t, created[k], k)
	}
	r = b.do(t, http.MethodPost, "/v1/policies", b.risk, doc)
	requireError(t, r, http.StatusConflict, "version_exists", "the same version again")

	// Listed newest first; read back as sent.
	list = b.get(t, "/v1/policies")["policies"].([]any)
	require.Equal(t, []any{strict, b.seed}, []any{list[0].(map[string]any)["version"], list[1].(map[string]any)["version"]})
	require.NotContains(t, list[0], "policy", "the list carries no documents")
	detail := b.get(t, "/v1/policies/"+strict)
	sent, err := json.Marshal(doc)
	require.NoError(t, err)
	stored, err := json.Marshal(detail["policy"])
	require.NoError(t, err)
	require.JSONEq(t, string(sent), string(stored))
	require.Equal(t, []string{strict + " created"}, changeActions(t, detail))
	require.Empty(t, detail["backtests"])

	// Compared with the active version, and with a version not there.
	diff := b.get(t, "/v1/policies/"+strict+"/diff")
	require.Equal(t, b.seed, diff["from"], "what the version changes, from the active one")
	require.Equal(t, strict, diff["to"])
	require.Equal(t, []any{
		map[string]any{"path": "tiers[0].instant_limits.EUR", "from": float64(5000), "to": float64(500)},
		map[string]any{"path": "tiers[0].raised_limits.EUR", "from": float64(15000), "to": float64(500)},
	}, diff["changes"])
	require.Empty(t, b.get(t, "/v1/policies/"+strict+"/diff?against="+strict)["changes"])
	r = b.do(t, http.MethodGet, "/v1/policies/"+strict+"/diff?against=nope", b.risk, nil)
	requireError(t, r, http.StatusNotFound, "policy_not_found", "against")
	require.Equal(t, "against", r.errorOf(t)["field"])

	// A backtest over the hour, worked by the workers; the same key
	// answers the same run.
	period := map[string]any{"from": b.now.Add(-time.Hour).Format(time.RFC3339), "to": b.now.Add(time.Hour).Format(time.RFC3339)}
	key := []string{"Idempotency-Key", "bt-" + b.id}
	r = b.do(t, http.MethodPost, "/v1/policies/"+strict+"/backtests", b.risk, period, key...)
	require.Equal(t, http.StatusAccepted, r.Code, string(r.Body))
	queued := r.json(t)
	runPath := r.Header.Get("Location")
	require.Equal(t, "/v1/policy-backtests/"+queued["id"].(string), runPath)
	require.Equal(t, "queued", queued["status"])
	require.NotContains(t, queued, "matrix", "no report before it completes")
	require.Equal(t, map[string]any{"reasons": []any{}, "currencies": []any{}, "seller_id": nil, "decided_by": nil}, queued["filters"])
	again := b.do(t, http.MethodPost, "/v1/policies/"+strict+"/backtests", b.risk, period, key...)
	require.Equal(t, http.StatusAccepted, again.Code, string(again.Body))
	require.Equal(t, "true", again.Header.Get("Idempotency-Replayed"))
	require.Equal(t, queued["id"], again.json(t)["id"])

	run := b.waitBacktest(t, runPath)
	require.Equal(t, "completed", run["status"], run["error"])
	require.Equal(t, float64(4), run["replayed"])
	require.Equal(t, float64(3), run["changed"])
	require.Equal(t, rita, run["requested_by"])
	require.NotNil(t, run["started_at"])
	require.NotNil(t, run["finished_at"])
	require.Nil(t, run["error"])
	moved := cell(t, run, "instant_refund", "manual_review")
	require.Equal(t, float64(3), moved["count"])
	require.Equal(t, []any{map[string]any{"amount": float64(3 * instantAmount), "currency": "EUR"}}, moved["amounts"])
	require.Equal(t, float64(1), cell(t, run, "manual_review", "manual_review")["count"])
	require.Equal(t, float64(0), cell(t, run, "instant_refund", "instant_refund")["count"])
	require.Equal(t, float64(4), run["by_reason"].(map[string]any)["counterfeit"].(map[string]any)["replayed"])
	require.Equal(t, float64(3), run["consequences"].(map[string]any)["manual_review"].(map[string]any)["claims"].(map[string]any)["count"])

	// The claims it moves, by change, paged and as CSV.
	claimsPath := runPath + "/claims"
	page := b.get(t, claimsPath+"?change=instant_refund:manual_review")
	require.ElementsMatch(t, instant, claimIDs(t, page))
	require.Nil(t, page["next_cursor"])
	first := page["claims"].([]any)[0].(map[string]any)
	require.Equal(t, "instant_refund", first["got"])
	require.Equal(t, "manual_review", first["candidate"])
	require.Equal(t, map[string]any{"amount": float64(instantAmount), "currency": "EUR"}, first["amount"])
	require.NotEmpty(t, first["reasons"])
	require.Empty(t, b.get(t, claimsPath+"?change=rejected:instant_refund")["claims"])
	require.ElementsMatch(t, instant, claimIDs(t, b.get(t, claimsPath)))
	p1 := b.get(t, claimsPath+"?limit=2")
	require.Len(t, p1["claims"], 2)
	require.NotNil(t, p1["next_cursor"])
	p2 := b.get(t, claimsPath+"?limit=2&cursor="+p1["next_cursor"].(string))
	require.Nil(t, p2["next_cursor"])
	require.ElementsMatch(t, instant, append(claimIDs(t, p1), claimIDs(t, p2)...))
	r = b.do(t, http.MethodGet, claimsPath+"?format=csv&change=instant_refund:manual_review", b.risk, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Contains(t, r.Header.Get("Content-Disposition"), "backtest-"+queued["id"].(string)+"-claims.csv")
	rows := readCSV(t, r.Body)
	require.Equal(t, []string{"claim_id", "got", "candidate", "currency", "amount_minor", "amount", "reasons"}, rows[0])
	require.Len(t, rows, 4)
	require.Equal(t, []string{"instant_refund", "manual_review", "EUR", "1000", "10.00"}, rows[1][1:6])

	// The version's runs.
	runs := b.get(t, "/v1/policies/"+strict+"/backtests")["backtests"].([]any)
	require.Len(t, runs, 1)
	require.Equal(t, "completed", runs[0].(map[string]any)["status"])
	require.NotContains(t, runs[0], "matrix", "listed without the report")
	summaries := b.get(t, "/v1/policies/"+strict)["backtests"].([]any)
	require.Len(t, summaries, 1)
	require.Equal(t, float64(3), summaries[0].(map[string]any)["changed"])

	// Activated: the seed is retired, both audited, and the next claim
	// is the strict version's to decide.
	active := b.post(t, http.MethodPost, "/v1/policies/"+strict+"/activate", http.StatusOK)
	require.Equal(t, "active", active["status"])
	require.Equal(t, rita, active["activated_by"])
	require.NotNil(t, active["activated_at"])
	old := b.get(t, "/v1/policies/"+b.seed)
	require.Equal(t, "retired", old["status"])
	require.NotNil(t, old["retired_at"])
	require.Equal(t, []string{b.seed + " seeded", b.seed + " retired", strict + " activated"}, changeActions(t, old))
	retirement, activation := old["changes"].([]any)[1].(map[string]any), old["changes"].([]any)[2].(map[string]any)
	require.Equal(t, map[string]any{"from": "active", "to": "retired", "actor": rita},
		map[string]any{"from": retirement["from"], "to": retirement["to"], "actor": retirement["actor"]})
	require.Equal(t, map[string]any{"from": "draft", "to": "active", "replaced": b.seed, "actor": rita},
		map[string]any{"from": activation["from"], "to": activation["to"], "replaced": activation["replaced"], "actor": activation["actor"]})
	require.Equal(t, []string{strict + " created", strict + " activated"}, changeActions(t, b.get(t, "/v1/policies/"+strict)))
	// Again: nothing changes.
	require.Equal(t, active, b.post(t, http.MethodPost, "/v1/policies/"+strict+"/activate", http.StatusOK))
	require.Len(t, b.get(t, "/v1/policies/"+strict)["changes"], 2)
	decided := b.getClaim(t, b.claims(t, 1, instantAmount)[0])["decision"].(map[string]any)
	require.Equal(t, strict, decided["policy_version"])
	require.Equal(t, "manual_review", decided["outcome"])

	// The seed again.
	require.Equal(t, "active", b.post(t, http.MethodPost, "/v1/policies/"+b.seed+"/activate", http.StatusOK)["status"])
	require.Equal(t, "retired", b.get(t, "/v1/policies/"+strict)["status"])

	// The strict version in shadow: new claims are decided by the seed
	// and by it beside; its report and claims show what it would change.
	shadow := b.post(t, http.MethodPost, "/v1/policies/"+strict+"/shadow", http.StatusOK)
	require.Equal(t, "shadow", shadow["status"])
	require.Equal(t, rita, shadow["shadow_by"])
	r = b.do(t, http.MethodPost, "/v1/policies/"+b.seed+"/shadow", b.risk, nil)
	requireError(t, r, http.StatusConflict, "policy_active", "the active version in shadow")
	shadowed := b.claims(t, 2, instantAmount)
	for _, id := range shadowed {
		require.Equal(t, "instant_refund", b.getClaim(t, id)["decision"].(map[string]any)["outcome"], "the shadow is never acted on")
	}
	report := b.get(t, "/v1/policies/"+strict+"/shadow-report")
	require.Equal(t, strict, report["version"])
	require.Equal(t, "shadow", report["status"])
	require.Equal(t, shadow["shadow_at"], report["since"])
	require.Equal(t, float64(2), report["replayed"])
	require.Equal(t, float64(2), report["changed"])
	require.Equal(t, float64(2), cell(t, report, "instant_refund", "manual_review")["count"])
	page = b.get(t, "/v1/policies/"+strict+"/shadow-report/claims?change=instant_refund:manual_review")
	require.ElementsMatch(t, shadowed, claimIDs(t, page))
	require.Empty(t, b.get(t, "/v1/policies/"+strict+"/shadow-report/claims?change=manual_review:rejected")["claims"])
	r = b.do(t, http.MethodGet, "/v1/policies/"+strict+"/shadow-report/claims", b.risk, nil, "Accept", "text/csv")
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Len(t, readCSV(t, r.Body), 3)

	// Out of shadow: retired, as it was active once; a second time is
	// refused.
	require.Equal(t, "retired", b.post(t, http.MethodDelete, "/v1/policies/"+strict+"/shadow", http.StatusOK)["status"])
	r = b.do(t, http.MethodDelete, "/v1/policies/"+strict+"/shadow", b.risk, nil)
	requireError(t, r, http.StatusConflict, "not_in_shadow", "out of shadow twice")
	require.Equal(t, []string{strict + " created", strict + " activated", strict + " retired", b.seed + " activated",
		strict + " shadow_started", strict + " shadow_stopped"},
		changeActions(t, b.get(t, "/v1/policies/"+strict)))
}

// TestPolicyLabRefusesBadInput: every bad request is a 4xx naming what is
// wrong, never a 500, and changes nothing: no version made or moved, no
// backtest queued.
func TestPolicyLabRefusesBadInput(t *testing.T) {
	t.Parallel()
	b := setupPolicies(t, "httpapi_policy_bad")
	draft := b.name("draft")
	b.create(t, policyDocument(draft, nil))
	// A backtest no worker runs here: it stays queued.
	r := b.do(t, http.MethodPost, "/v1/policies/"+draft+"/backtests", b.risk,
		map[string]any{"from": b.now.Add(-time.Hour).Format(time.RFC3339), "to": b.now.Format(time.RFC3339)})
	require.Equal(t, http.StatusAccepted, r.Code, string(r.Body))
	runPath := "/v1/policy-backtests/" + r.json(t)["id"].(string)
	before := b.get(t, "/v1/policies")

	t.Run("a policy document", func(t *testing.T) {
		// Several problems at once, each named.
		doc := policyDocument(b.name("bad"), func(doc map[string]any) {
			tierOf(doc, 0)["instant_limits"].(map[string]any)["EUR"] = -1
			doc["high_risk_seller_score"] = 0
			doc["colour"] = "red"
			delete(doc, "frequent_claims_90d")
			tierOf(doc, 1)["Name"] = "x"
		})
		r := b.do(t, http.MethodPost, "/v1/policies", b.risk, doc)
		requireError(t, r, http.StatusUnprocessableEntity, "invalid_policy", "several problems")
		e := r.errorOf(t)
		var got []string
		for _, p := range e["details"].(map[string]any)["problems"].([]any) {
			m := p.(map[string]any)
			require.NotEmpty(t, m["message"])
			got = append(got, m["field"].(string)+" "+m["code"].(string))
		}
		require.ElementsMatch(t, []string{
			"colour unknown_field", "tiers[1].Name unknown_field", "frequent_claims_90d required",
			"high_risk_seller_score out_of_range", "tiers[0].instant_limits.EUR out_of_range",
		}, got)
		require.Equal(t, strings.Fields(got[0])[0], e["field"], "the first problem is named")
		require.Contains(t, e["message"], "4 more problems")

		for _, tt := range []struct {
			name        string
			body        any
			headers     []string
			status      int
			code, field string
		}{
			{"malformed", `{"version":`, nil, 400, "malformed_json", ""},
			{"not an object", `["v1"]`, nil, 400, "invalid_type", ""},
			{"a key twice", `{"version":"a","version":"b"}`, nil, 400, "duplicate_field", "version"},
			{"trailing data", `{"version":"a"} {}`, nil, 400, "malformed_json", ""},
			{"empty", ``, nil, 400, "empty_body", ""},
			{"a bad version", policyDocument("bad version!", nil), nil, 422, "invalid_policy", "version"},
			{"a version too long", policyDocument(strings.Repeat("v", 65), nil), nil, 422, "invalid_policy", "version"},
			{"a wrong type", policyDocument(b.name("typed"), func(doc map[string]any) { doc["frequent_claims_90d"] = "3" }), nil, 422, "invalid_policy", "frequent_claims_90d"},
			{"too large", policyDocument(b.name("big"), func(doc map[string]any) { doc["version"] = strings.Repeat("v", 9<<10) }), nil, 413, "body_too_large", ""},
			{"text/plain", policyDocument(b.name("plain"), nil), []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", "Content-Type"},
		} {
			r := b.do(t, http.MethodPost, "/v1/policies", b.risk, tt.body, tt.headers...)
			requireError(t, r, tt.status, tt.code, tt.name)
			require.Equal(t, tt.field, fieldOf(t, r), tt.name)
		}
	})

	t.Run("a version", func(t *testing.T) {
		for _, tt := range []struct {
			method, path string
			status       int
			code, field  string
		}{
			{http.MethodGet, "/v1/policies/" + strings.Repeat("v", 10000), 404, "policy_not_found", ""},
			{http.MethodGet, "/v1/policies/bad%20version", 404, "policy_not_found", ""},
			{http.MethodGet, "/v1/policies/nope/diff", 404, "policy_not_found", ""},
			{http.MethodGet, "/v1/policies/" + draft + "/diff?against=" + strings.Repeat("v", 5000), 404, "policy_not_found", "against"},
			{http.MethodGet, "/v1/policies/" + draft + "/diff?against=a&against=b", 400, "duplicate_parameter", "against"},
			{http.MethodPost, "/v1/policies/nope/activate", 404, "policy_not_found", ""},
			{http.MethodPost, "/v1/policies/" + strings.Repeat("v", 10000) + "/shadow", 404, "policy_not_found", ""},
			{http.MethodDelete, "/v1/policies/" + draft + "/shadow", 409, "not_in_shadow", ""},
			{http.MethodPost, "/v1/policies/" + b.seed + "/shadow", 409, "policy_active", ""},
			{http.MethodGet, "/v1/policies/nope/shadow-report", 404, "policy_not_found", ""},
			{http.MethodGet, "/v1/policies/nope/shadow-report/claims", 404, "policy_not_found", ""},
			{http.MethodGet, "/v1/policies/nope/backtests", 404, "policy_not_found", ""},
			{http.MethodGet, "/v1/policies/" + draft + "/backtests?limit=0", 400, "invalid_limit", "limit"},
			{http.MethodGet, "/v1/policies/" + draft + "/backtests?limit=5000", 400, "invalid_limit", "limit"},
			{http.MethodGet, "/v1/policies/" + draft + "/shadow-report/claims?change=bogus", 400, "invalid_change", "change"},
			{http.MethodGet, "/v1/policies/" + draft + "/shadow-report/claims?limit=0", 400, "invalid_limit", "limit"},
			{http.MethodGet, "/v1/policies/" + draft + "/shadow-report/claims?cursor=%21%21", 400, "invalid_cursor", "cursor"},
		} {
			r := b.do(t, tt.method, tt.path, b.risk, nil)
			name := tt.method + " " + tt.path[:min(len(tt.path), 80)]
			requireError(t, r, tt.status, tt.code, name)
			require.Equal(t, tt.field, fieldOf(t, r), name)
		}
	})

	t.Run("a backtest request", func(t *testing.T) {
		from, to := b.now.Add(-time.Hour).Format(time.RFC3339), b.now.Format(time.RFC3339)
		period := func(extra ...any) map[string]any {
			m := map[string]any{"from": from, "to": to}
			for i := 0; i+1 < len(extra); i += 2 {
				m[extra[i].(string)] = extra[i+1]
			}
			return m
		}
		filters := func(f map[string]any) map[string]any { return period("filters", f) }
		for _, tt := range []struct {
			name        string
			path        string
			body        any
			headers     []string
			status      int
			code, field string
		}{
			{"no from", "", map[string]any{"to": to}, nil, 422, "required", "from"},
			{"no to", "", map[string]any{"from": from}, nil, 422, "required", "to"},
			{"from not a time", "", period("from", "yesterday"), nil, 422, "invalid_timestamp", "from"},
			{"from long ago", "", period("from", "1990-01-01"), nil, 422, "out_of_range", "from"},
			{"to far ahead", "", period("to", "2999-01-01T00:00:00Z"), nil, 422, "out_of_range", "to"},
			{"from after to", "", period("from", to, "to", from), nil, 422, "before_from", "to"},
			{"from at to", "", period("from", to), nil, 422, "before_from", "to"},
			{"over three years", "", period("from", "2020-01-01", "to", "2024-01-01"), nil, 422, "span_too_long", "to"},
			{"an unknown reason", "", filters(map[string]any{"reasons": []string{"counterfeit", "bored"}}), nil, 422, "unknown_reason", "filters.reasons[1]"},
			{"an unknown currency", "", filters(map[string]any{"currencies": []string{"XXX"}}), nil, 422, "unknown_currency", "filters.currencies[0]"},
			{"too many reasons", "", filters(map[string]any{"reasons": strings.Split(strings.Repeat("damaged,", 21)+"damaged", ",")}), nil, 422, "too_many", "filters.reasons"},
			{"a bad seller", "", filters(map[string]any{"seller_id": "bad seller"}), nil, 422, "invalid_id", "filters.seller_id"},
			{"an empty seller", "", filters(map[string]any{"seller_id": ""}), nil, 422, "required", "filters.seller_id"},
			{"an empty version", "", filters(map[string]any{"decided_by": ""}), nil, 422, "required", "filters.decided_by"},
			{"a bad version", "", filters(map[string]any{"decided_by": "bad version!"}), nil, 422, "invalid_version", "filters.decided_by"},
			{"an unknown filter", "", filters(map[string]any{"colour": "red"}), nil, 400, "unknown_field", "filters.colour"},
			{"an unknown field", "", period("note", "x"), nil, 400, "unknown_field", "note"},
			{"a number for a time", "", map[string]any{"from": 1, "to": to}, nil, 400, "invalid_type", "from"},
			{"an unknown version", "/v1/policies/nope/backtests", period(), nil, 404, "policy_not_found", ""},
			{"a bad key", "", period(), []string{"Idempotency-Key", "a b"}, 400, "invalid_idempotency_key", "Idempotency-Key"},
		} {
			path := tt.path
			if path == "" {
				path = "/v1/policies/" + draft + "/backtests"
			}
			r := b.do(t, http.MethodPost, path, b.risk, tt.body, tt.headers...)
			require.Equal(t, tt.status, r.Code, "%s: %s", tt.name, r.Body)
			e := r.errorOf(t)
			if tt.code != "" {
				require.Equal(t, tt.code, e["code"], tt.name)
			}
			require.Equal(t, tt.field, fieldOf(t, r), tt.name)
		}
		// Several problems at once, each named.
		r := b.do(t, http.MethodPost, "/v1/policies/"+draft+"/backtests", b.risk,
			filters(map[string]any{"reasons": []string{"bored"}, "currencies": []string{"EUR", "XXX"}}))
		requireError(t, r, http.StatusUnprocessableEntity, "unknown_reason", "two problems")
		problems := r.errorOf(t)["details"].(map[string]any)["problems"].([]any)
		require.Len(t, problems, 2)
		require.Equal(t, "filters.currencies[1]", problems[1].(map[string]any)["field"])
		// A key used for another request.
		key := []string{"Idempotency-Key", "bad-" + b.id}
		r = b.do(t, http.MethodPost, "/v1/policies/"+draft+"/backtests", b.risk, period("from", "2026-01-01T00:00:00Z", "to", "2026-01-02T00:00:00Z"), key...)
		require.Equal(t, http.StatusAccepted, r.Code, string(r.Body))
		r = b.do(t, http.MethodPost, "/v1/policies/"+draft+"/backtests", b.risk, period("from", "2026-01-01T00:00:00Z", "to", "2026-01-03T00:00:00Z"), key...)
		requireError(t, r, http.StatusConflict, "idempotency_key_reused", "the key again with another period")
		require.Len(t, b.get(t, "/v1/policies/"+draft+"/backtests")["backtests"], 2, "the first run and the keyed one, no other")
	})

	t.Run("a backtest", func(t *testing.T) {
		for _, tt := range []struct {
			path        string
			headers     []string
			status      int
			code, field string
		}{
			{"/v1/policy-backtests/" + strings.Repeat("p", 10000), nil, 404, "backtest_not_found", ""},
			{"/v1/policy-backtests/pbt_nope", nil, 404, "backtest_not_found", ""},
			{"/v1/policy-backtests/rcn_nope/claims", nil, 404, "backtest_not_found", ""},
			{runPath + "/claims", nil, 409, "backtest_not_completed", ""},
			{runPath + "/claims?format=csv", nil, 409, "backtest_not_completed", ""},
			{runPath + "/claims", []string{"Accept", "text/csv"}, 409, "backtest_not_completed", ""},
			{runPath + "/claims?change=instant_refund", nil, 400, "invalid_change", "change"},
			{runPath + "/claims?change=instant_refund:maybe", nil, 400, "invalid_change", "change"},
			{runPath + "/claims?change=", nil, 409, "backtest_not_completed", ""},
			{runPath + "/claims?limit=0", nil, 400, "invalid_limit", "limit"},
			{runPath + "/claims?limit=5000", nil, 400, "invalid_limit", "limit"},
			{runPath + "/claims?cursor=not-a-cursor", nil, 400, "invalid_cursor", "cursor"},
			{runPath + "/claims?format=pdf", nil, 400, "invalid_format", "format"},
		} {
			r := b.do(t, http.MethodGet, tt.path, b.risk, nil, tt.headers...)
			name := tt.path[:min(len(tt.path), 80)]
			requireError(t, r, tt.status, tt.code, name)
			require.Equal(t, tt.field, fieldOf(t, r), name)
		}
		require.Equal(t, "queued", b.get(t, runPath)["status"])
	})

	// Nothing was made or moved.
	require.Equal(t, before, b.get(t, "/v1/policies"))
}
