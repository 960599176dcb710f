package httpapi_test

import (
	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/workflows/claimflow"

	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
)

// authzRule is one route's line of the authorization matrix: a concrete
// request to send and who may send it.
type authzRule struct {
	// path is the route's path with this test's ids filled in (and a
	// query where the handler needs one).
	path string
	// roles are the roles the route admits. It must equal the route
	// table's Roles exactly: widening or narrowing a rule fails the test
	// until this line is changed on purpose.
	roles []claimflow.Role
	// body builds a request body a permitted role gets past validation
	// with; it runs just before each request, so it can read the claim's
	// current version. nil: no body.
	body func(t *testing.T) any
	// public is the status a route with no roles answers without a token.
	public int
}

// authzFixture is the data the matrix's requests point at, all this
// test's own.
type authzFixture struct {
	seller, otherSeller string
	shopper1, shopper2  string
	claimID             string // closed (charged, contest window open): S1's, seller's
	reviewID            string // in review: the override's target, seller's
	shopper2ClaimID     string // S2's claim, against otherSeller
	newOrderID          string // S1's order without a claim yet
	runID               string // a completed reconciliation run
	today               string // from=…&to=… for the exports
	runPeriod           map[string]any
	brandID             string // lists the rights holder's subject
	evidenceURL         string // S1's photo on claimID
	policy              string // a draft policy version of this test's
	backtestID          string // a queued backtest of policy (no worker runs it here)
}

// subjects are the token subjects the matrix sends per role: for the
// owner-scoped roles (shopper, seller) the owner of the fixture's claim,
// so a permitted role is judged as the owner.
func (fx *authzFixture) subjects() map[claimflow.Role]string {
	return map[claimflow.Role]string{
		claimflow.RoleShopper: fx.shopper1,
		claimflow.RoleSeller:  fx.seller,
		claimflow.RoleAgent:   "ana",
		claimflow.RoleFinance: "fin",
		claimflow.RoleAdmin:   "root",
		claimflow.RoleService: "platform",
		// Each reaches only its own routes (brands, intelligence, the
		// policy lab); every other route must refuse them with 403.
		claimflow.RoleRightsHolder: "rh_authz",
		claimflow.RoleEnforcement:  "enf",
		claimflow.RoleRisk:         "risk_authz",
	}
}

// TestAuthzMatrix walks every route of the router's own route table with
// no token, bad tokens and a token of every role, and checks ownership
// where a role sees only its own data. A route added without a line in
// the matrix, or a rule changed in server.go alone, fails it.
func TestAuthzMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fx := newAuthzFixture(t, b)
	matrix := authzMatrix(t, b, fx)

	table := httpapi.RouteTable()
	routes := map[string]httpapi.Route{}
	for _, r := range table {
		key := r.Method + " " + r.Path
		require.NotContains(t, routes, key, "the route table lists %s twice", key)
		routes[key] = r
	}
	var missing, stale []string
	for key := range routes {
		if _, ok := matrix[key]; !ok {
			missing = append(missing, key)
		}
	}
	for key := range matrix {
		if _, ok := routes[key]; !ok {
			stale = append(stale, key)
		}
	}
	slices.Sort(missing)
	slices.Sort(stale)
	require.Empty(t, missing, "routes with no line in the authorization matrix: add one, with who may call them")
	require.Empty(t, stale, "matrix lines for routes that no longer exist: remove them")

	// Every role needs a subject, or a new role would go untested.
	subjects := fx.subjects()
	for _, role := range claimflow.Roles {
		require.Contains(t, subjects, role, "the matrix has no subject for role %q", role)
	}

	// Ownership first: the matrix's permitted requests below contest the
	// claim and post S1's claim, after which a non-owner's attempt could
	// be refused for other reasons than ownership.
	t.Run("ownership", func(t *testing.T) { checkOwnership(t, b, fx) })

	// In the table's order, one route after another: some requests change
	// the claim the next ones read (contest, then its resolution).
	for _, route := range table {
		key := route.Method + " " + route.Path
		rule := matrix[key]
		t.Run(key, func(t *testing.T) {
			require.ElementsMatch(t, route.Roles, rule.roles,
				"the route table's roles for %s differ from the matrix's: update the matrix if the change is meant", key)
			send := func(token string) response {
				t.Helper()
				var body any
				if rule.body != nil {
					body = rule.body(t)
				}
				var headers []string
				if route.Method != http.MethodGet {
					headers = []string{"Idempotency-Key", fmt.Sprintf("authz-%s-%d", b.id, keySeq.Add(1))}
				}
				return b.do(t, route.Method, rule.path, token, body, headers...)
			}

			if len(route.Roles) == 0 {
				r := send("")
				require.Equal(t, rule.public, r.Code, "%s needs no token: %s", key, r.Body)
				return
			}

			// Tokens that fail authentication, each of a role the route
			// admits, so the 401 is for the token and not the role.
			role := route.Roles[0]
			sub := subjects[role]
			r := send("")
			requireError(t, r, http.StatusUnauthorized, "unauthenticated", "no token")
			for _, bad := range []struct{ name, token string }{
				{"expired", mint(t, secret, role, sub, b.clock.Now().Add(-2*time.Hour))},
				{"signed with another secret", mint(t, []byte("another-secret-another-secret-12345"), role, sub, b.clock.Now())},
				{"unknown role", unknownRoleToken(t, b.clock.Now())},
				{"not a JWT", "not-a-jwt"},
			} {
				requireError(t, send(bad.token), http.StatusUnauthorized, "invalid_token", bad.name)
			}

			// Every role: refused with 403 exactly, or let through.
			for _, role := range claimflow.Roles {
				r := send(b.token(t, string(role), subjects[role]))
				if !slices.Contains(route.Roles, role) {
					requireError(t, r, http.StatusForbidden, "forbidden", string(role))
					continue
				}
				require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, r.Code,
					"%s may call %s: %s", role, key, r.Body)
				require.Less(t, r.Code, 500, "%s on %s: %s", role, key, r.Body)
				t.Logf("%s let through: %d", role, r.Code)
			}
		})
	}
}

// keySeq numbers Idempotency-Keys so each request is a new one.
var keySeq atomic.Int64

// authzMatrix is the rule for every route, keyed "METHOD path" as in the
// route table.
func authzMatrix(t *testing.T, b *testBundle, fx *authzFixture) map[string]authzRule {
	const (
		shopper = claimflow.RoleShopper
		seller  = claimflow.RoleSeller
		agent   = claimflow.RoleAgent
		finance = claimflow.RoleFinance
		admin   = claimflow.RoleAdmin
		service = claimflow.RoleService
		holder  = claimflow.RoleRightsHolder
		cop     = claimflow.RoleEnforcement
		risk    = claimflow.RoleRisk
	)
	lab := []claimflow.Role{admin, risk}
	policy := "/v1/policies/" + fx.policy
	// An unknown version: 404 policy_not_found, past authorization, and
	// no version of another test's moved by accident.
	nowhere := "/v1/policies/authz-none"
	all := []claimflow.Role{shopper, seller, agent, finance, admin}
	staff := []claimflow.Role{agent, finance, admin}
	books := []claimflow.Role{finance, admin}
	evidenceReaders := append(slices.Clone(all), holder)
	claim := "/v1/claims/" + fx.claimID
	run := "/v1/finance/reconciliations/" + fx.runID
	// version reads a claim's current version as an agent.
	version := func(t *testing.T, id string) any { return b.getClaim(t, id)["version"] }

	return map[string]authzRule{
		"GET /healthz":            {path: "/healthz", public: http.StatusOK},
		"GET /readyz":             {path: "/readyz", public: http.StatusOK},
		"GET /openapi.json":       {path: "/openapi.json", public: http.StatusOK},
		"GET /events.schema.json": {path: "/events.schema.json", public: http.StatusOK},
		"GET /metrics":            {path: "/metrics", public: http.StatusOK},
		"POST /webhooks/stripe":   {path: "/webhooks/stripe", public: http.StatusNotFound, body: func(*testing.T) any { return "{}" }}, // stripe_not_configured here: still no 401

		"PUT /v1/sellers/:id": {path: "/v1/sellers/" + b.name("sel_authz_put"), roles: []claimflow.Role{service, admin},
			body: func(*testing.T) any {
				return map[string]any{"name": "Put by the matrix", "risk_score": 10, "verified": true}
			}},
		"PUT /v1/orders/:id": {path: "/v1/orders/" + b.name("ord_authz_put"), roles: []claimflow.Role{service, admin},
			body: func(*testing.T) any {
				return orderBody(b, fx.seller, b.name("shp_authz_put"), "pay_"+b.name("ord_authz_put"))
			}},
		"PUT /v1/brands/:id": {path: "/v1/brands/" + b.name("brand_authz_put"), roles: []claimflow.Role{service, admin},
			body: func(*testing.T) any {
				return map[string]any{"name": "Put by the matrix", "rights_holders": []string{"rh_other"}}
			}},
		// The rights holder's subject is listed on the brand, so the role
		// is judged as the brand's own.
		"GET /v1/brands/:id":              {path: "/v1/brands/" + fx.brandID, roles: []claimflow.Role{admin, holder}},
		"GET /v1/brands":                  {path: "/v1/brands", roles: []claimflow.Role{admin, holder}},
		"GET /v1/brands/:id/counterfeits": {path: "/v1/brands/" + fx.brandID + "/counterfeits", roles: []claimflow.Role{admin, holder}},
		// The claim has no line of the brand: 404 claim_not_found, past
		// authorization.
		"PUT /v1/brands/:id/counterfeits/:claim_id/verdict": {path: "/v1/brands/" + fx.brandID + "/counterfeits/" + fx.claimID + "/verdict",
			roles: []claimflow.Role{holder},
			body:  func(*testing.T) any { return map[string]any{"verdict": "counterfeit", "note": "Not ours."} }},
		"GET /v1/intelligence/signing-key": {path: "/v1/intelligence/signing-key", public: http.StatusOK},
		"GET /v1/intelligence/cases":       {path: "/v1/intelligence/cases?status=closed", roles: []claimflow.Role{admin, cop}},
		// An unknown case: 404 case_not_found, past authorization, and no
		// real case moved by accident.
		"GET /v1/intelligence/cases/:id":        {path: "/v1/intelligence/cases/case_authz", roles: []claimflow.Role{admin, cop}},
		"GET /v1/intelligence/cases/:id/packet": {path: "/v1/intelligence/cases/case_authz/packet", roles: []claimflow.Role{admin, cop}},
		"POST /v1/intelligence/cases/:id/status": {path: "/v1/intelligence/cases/case_authz/status", roles: []claimflow.Role{admin, cop},
			body: func(*testing.T) any { return map[string]any{"status": "referred", "note": "Matrix."} }},
		"GET /v1/intelligence/access-log":     {path: "/v1/intelligence/access-log?limit=1", roles: []claimflow.Role{admin}},
		"GET /v1/intelligence/rights-holders": {path: "/v1/intelligence/rights-holders", roles: []claimflow.Role{admin}},

		"POST /v1/claims": {path: "/v1/claims", roles: []claimflow.Role{shopper},
			body: func(*testing.T) any { return claimBody(fx.newOrderID) }},
		"GET /v1/claims":            {path: "/v1/claims", roles: all},
		"GET /v1/claims/:id":        {path: claim, roles: all},
		"GET /v1/claims/:id/events": {path: claim + "/events", roles: all},
		"GET /v1/claims/:id/detail": {path: claim + "/detail", roles: staff},
		"POST /v1/claims/:id/evidence": {path: claim + "/evidence", roles: []claimflow.Role{shopper, seller},
			body: func(t *testing.T) any { return fileUpload(t, "a.jpg", mediaFile(t, "photo-ii.jpg")) }},
		"GET /v1/claims/:id/evidence":                {path: claim + "/evidence", roles: evidenceReaders},
		"GET /v1/claims/:id/evidence/:eid":           {path: fx.evidenceURL, roles: evidenceReaders},
		"GET /v1/claims/:id/evidence/:eid/thumbnail": {path: fx.evidenceURL + "/thumbnail", roles: evidenceReaders},
		"POST /v1/claims/:id/override": {path: "/v1/claims/" + fx.reviewID + "/override", roles: []claimflow.Role{agent},
			body: func(t *testing.T) any {
				return map[string]any{"action": "approve", "note": "Photos match the listing.", "version": version(t, fx.reviewID)}
			}},
		"POST /v1/claims/:id/contest": {path: claim + "/contest", roles: []claimflow.Role{seller},
			body: func(*testing.T) any { return map[string]any{"statement": "The item was authentic."} }},
		"POST /v1/claims/:id/contest/resolution": {path: claim + "/contest/resolution", roles: []claimflow.Role{agent},
			body: func(t *testing.T) any {
				return map[string]any{"outcome": "uphold", "note": "Invoice does not match.", "version": version(t, fx.claimID)}
			}},
		"GET /v1/review-queue": {path: "/v1/review-queue?seller_id=" + fx.seller, roles: []claimflow.Role{agent, admin}},

		"GET /v1/sellers/:id/balance":   {path: "/v1/sellers/" + fx.seller + "/balance", roles: []claimflow.Role{seller, finance, admin}},
		"GET /v1/sellers/:id/standing":  {path: "/v1/sellers/" + fx.seller + "/standing", roles: []claimflow.Role{seller, agent, finance, admin}},
		"GET /v1/sellers/:id/statement": {path: "/v1/sellers/" + fx.seller + "/statement?" + fx.today, roles: []claimflow.Role{seller, finance, admin}},

		"GET /v1/finance/chargebacks": {path: "/v1/finance/chargebacks?" + fx.today + "&seller_id=" + fx.seller, roles: books},
		"POST /v1/finance/recoveries": {path: "/v1/finance/recoveries", roles: []claimflow.Role{finance},
			body: func(*testing.T) any {
				return map[string]any{"seller_id": fx.seller, "amount": 100, "currency": "EUR", "method": "payment_received",
					"reference": fmt.Sprintf("authz-%s-%d", b.id, keySeq.Add(1))}
			}},
		"POST /v1/finance/reconciliations": {path: "/v1/finance/reconciliations", roles: books,
			body: func(*testing.T) any { return fx.runPeriod }},
		"GET /v1/finance/reconciliations":           {path: "/v1/finance/reconciliations?limit=5", roles: books},
		"GET /v1/finance/reconciliations/:id":       {path: run, roles: books},
		"GET /v1/finance/reconciliations/:id/items": {path: run + "/items", roles: books},
		// The run has no exceptions, so finance gets 404 exception_not_found:
		// past authorization, and nothing to resolve by accident.
		"POST /v1/finance/reconciliations/:id/exceptions/:seq/resolution": {path: run + "/exceptions/1/resolution", roles: []claimflow.Role{finance},
			body: func(*testing.T) any { return map[string]any{"note": "Checked with the bank."} }},
		"GET /v1/finance/protection":           {path: "/v1/finance/protection", roles: books},
		"GET /v1/finance/ledger/trial-balance": {path: "/v1/finance/ledger/trial-balance", roles: books},
		"GET /v1/finance/ledger/transactions":  {path: "/v1/finance/ledger/transactions?limit=5&seller_id=" + fx.seller, roles: books},
		"GET /v1/events":                       {path: "/v1/events?limit=5&types=claim.closed", roles: []claimflow.Role{service, admin}},

		"POST /v1/policies": {path: "/v1/policies", roles: lab,
			body: func(*testing.T) any { return policyDocument(b.name(fmt.Sprintf("authz-%d", keySeq.Add(1))), nil) }},
		"GET /v1/policies":                               {path: "/v1/policies", roles: lab},
		"GET /v1/policies/:version":                      {path: policy, roles: lab},
		"GET /v1/policies/:version/diff":                 {path: policy + "/diff?against=" + fx.policy, roles: lab},
		"POST /v1/policies/:version/activate":            {path: nowhere + "/activate", roles: lab},
		"POST /v1/policies/:version/shadow":              {path: nowhere + "/shadow", roles: lab},
		"DELETE /v1/policies/:version/shadow":            {path: nowhere + "/shadow", roles: lab},
		"GET /v1/policies/:version/shadow-report":        {path: policy + "/shadow-report", roles: lab},
		"GET /v1/policies/:version/shadow-report/claims": {path: policy + "/shadow-report/claims", roles: lab},
		"GET /v1/policies/:version/backtests":            {path: policy + "/backtests", roles: lab},
		"GET /v1/policy-backtests/:id":                   {path: "/v1/policy-backtests/" + fx.backtestID, roles: lab},
		"GET /v1/policy-backtests/:id/claims":            {path: "/v1/policy-backtests/" + fx.backtestID + "/claims", roles: lab},
		"POST /v1/policies/:version/backtests": {path: policy + "/backtests", roles: lab,
			body: func(*testing.T) any { return fx.runPeriod }},
		"POST /v1/webhook-endpoints": {path: "/v1/webhook-endpoints", roles: []claimflow.Role{service, admin},
			body: func(*testing.T) any {
				return map[string]any{"url": "https://hooks.example.com/authz", "event_types": []string{"claim.closed"}}
			}},
		"GET /v1/webhook-endpoints":                    {path: "/v1/webhook-endpoints", roles: []claimflow.Role{service, admin}},
		"GET /v1/webhook-endpoints/:id":                {path: "/v1/webhook-endpoints/whe_authz", roles: []claimflow.Role{service, admin}},
		"PATCH /v1/webhook-endpoints/:id":              {path: "/v1/webhook-endpoints/whe_authz", roles: []claimflow.Role{service, admin}, body: func(*testing.T) any { return map[string]any{"enabled": true} }},
		"DELETE /v1/webhook-endpoints/:id":             {path: "/v1/webhook-endpoints/whe_authz", roles: []claimflow.Role{service, admin}},
		"POST /v1/webhook-endpoints/:id/rotate-secret": {path: "/v1/webhook-endpoints/whe_authz/rotate-secret", roles: []claimflow.Role{service, admin}},
		"GET /v1/webhook-endpoints/:id/deliveries":     {path: "/v1/webhook-endpoints/whe_authz/deliveries", roles: []claimflow.Role{service, admin}},
		"POST /v1/webhook-endpoints/:id/replay":        {path: "/v1/webhook-endpoints/whe_authz/replay", roles: []claimflow.Role{service, admin}, body: func(*testing.T) any { return map[string]any{"from": "2026-01-01T00:00:00Z"} }},
	}
}

// newAuthzFixture creates two sellers, S1's closed claim and S2's claim,
// a claim in review, an order of S1's with no claim yet, and a completed
// reconciliation run of a minute no other test visits.
func newAuthzFixture(t *testing.T, b *testBundle) *authzFixture {
	t.Helper()
	fx := &authzFixture{seller: b.newSeller(t, "sel_authz"), otherSeller: b.newSeller(t, "sel_authz_other")}
	closed := b.claimIn(t, "closed", fx.seller)
	fx.claimID, fx.shopper1 = closed["id"].(string), closed["shopper_id"].(string)
	fx.reviewID = b.claimIn(t, "in_review", fx.seller)["id"].(string)
	fx.shopper2 = b.name("shp_authz_s2")
	fx.shopper2ClaimID = b.fileClaim(t, fx.otherSeller, fx.shopper2, instantAmount, "")["id"].(string)

	fx.newOrderID = b.name("ord_authz_s1")
	r := b.do(t, http.MethodPut, "/v1/orders/"+fx.newOrderID, b.token(t, "service", "platform"),
		orderBody(b, fx.seller, fx.shopper1, "pay_"+fx.newOrderID))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))

	r = b.do(t, http.MethodPost, "/v1/claims/"+fx.claimID+"/evidence", b.token(t, "shopper", fx.shopper1),
		fileUpload(t, "a.jpg", mediaFile(t, "photo-ii.jpg")))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	fx.evidenceURL = r.json(t)["url"].(string)

	fx.brandID = b.name("brand_authz")
	r = b.do(t, http.MethodPut, "/v1/brands/"+fx.brandID, b.token(t, "service", "platform"),
		map[string]any{"name": "Authz", "rights_holders": []string{fx.subjects()[claimflow.RoleRightsHolder]}})
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))

	today := b.now.Format("2006-01-02")
	fx.today = "from=" + today + "&to=" + today

	// A reconciliation of two minutes four years ago, offset by this
	// test's id, so the run reads no other test's claims.
	n, err := strconv.ParseUint(b.id[:4], 16, 64)
	require.NoError(t, err)
	past := b.now.AddDate(-4, 0, 0).Add(-time.Duration(n) * time.Minute)
	fx.runPeriod = map[string]any{"from": past.Add(-time.Minute).Format(time.RFC3339), "to": past.Add(time.Minute).Format(time.RFC3339)}
	r = b.do(t, http.MethodPost, "/v1/finance/reconciliations", b.finance(t), fx.runPeriod)
	require.Equal(t, http.StatusAccepted, r.Code, string(r.Body))
	fx.runID = r.json(t)["id"].(string)
	require.NoError(t, b.fin.RunReconciliation(context.Background(), fx.runID, false))

	// A draft policy and a backtest of it over the same minutes, queued:
	// no worker runs it on this database.
	fx.policy = b.name("authz-policy")
	r = b.do(t, http.MethodPost, "/v1/policies", b.token(t, "risk", "risk_authz"), policyDocument(fx.policy, nil))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	r = b.do(t, http.MethodPost, "/v1/policies/"+fx.policy+"/backtests", b.token(t, "risk", "risk_authz"), fx.runPeriod)
	require.Equal(t, http.StatusAccepted, r.Code, string(r.Body))
	fx.backtestID = r.json(t)["id"].(string)
	return fx
}

// checkOwnership: a shopper or seller asking for what is not theirs gets
// the same 404 as for something that does not exist (a 403 would say it
// exists), lists only their own, and a write changes nothing.
func checkOwnership(t *testing.T, b *testBundle, fx *authzFixture) {
	s1 := b.token(t, "shopper", fx.shopper1)
	s2 := b.token(t, "shopper", fx.shopper2)
	other := b.token(t, "seller", fx.otherSeller)
	claim := "/v1/claims/" + fx.claimID

	// What a claim that does not exist answers, to compare with.
	notFound := b.do(t, http.MethodGet, "/v1/claims/clm_authz_none", b.token(t, "agent", "ana"), nil)
	require.Equal(t, http.StatusNotFound, notFound.Code, string(notFound.Body))
	for _, tt := range []struct{ who, token, path string }{
		{"another shopper", s2, claim},
		{"another shopper", s2, claim + "/events"},
		{"another seller", other, claim},
		{"another seller", other, claim + "/events"},
		{"another shopper", s2, claim + "/evidence"},
		{"another seller", other, claim + "/evidence"},
		{"another shopper", s2, fx.evidenceURL},
		{"another seller", other, fx.evidenceURL},
	} {
		r := b.do(t, http.MethodGet, tt.path, tt.token, nil)
		require.Equal(t, http.StatusNotFound, r.Code, "%s on %s: %s", tt.who, tt.path, r.Body)
		require.Equal(t, notFound.errorOf(t)["code"], r.errorOf(t)["code"], "%s on %s", tt.who, tt.path)
	}
	for _, path := range []string{"/v1/sellers/" + fx.seller + "/balance", "/v1/sellers/" + fx.seller + "/statement?" + fx.today} {
		r := b.do(t, http.MethodGet, path, other, nil)
		require.Equal(t, http.StatusNotFound, r.Code, "another seller on %s: %s", path, r.Body)
		require.Equal(t, "seller_not_found", r.errorOf(t)["code"], path)
	}

	// Writes: another seller's contest is 404 and the claim, its charge
	// and its timeline stay as they were.
	before := b.getClaim(t, fx.claimID)
	eventsBefore := b.events(t, fx.claimID, "agent", "ana")
	r := b.do(t, http.MethodPost, claim+"/contest", other, map[string]any{"statement": "Not my claim, contesting anyway."})
	require.Equal(t, http.StatusNotFound, r.Code, string(r.Body))
	after := b.getClaim(t, fx.claimID)
	require.Equal(t, before["version"], after["version"], "a refused contest changes nothing")
	require.Equal(t, before["chargeback"], after["chargeback"])
	require.Len(t, b.events(t, fx.claimID, "agent", "ana"), len(eventsBefore))
	// Another shopper's claim on S1's order is 404 and files nothing.
	r = b.do(t, http.MethodPost, "/v1/claims", s2, claimBody(fx.newOrderID))
	require.Equal(t, http.StatusNotFound, r.Code, string(r.Body))

	// Lists hold only the caller's own claims, whatever the filter asks.
	listIDs := func(token, query string) []string {
		t.Helper()
		r := b.do(t, http.MethodGet, "/v1/claims?limit=200"+query, token, nil)
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		var ids []string
		for _, c := range r.json(t)["data"].([]any) {
			ids = append(ids, c.(map[string]any)["id"].(string))
		}
		return ids
	}
	require.Equal(t, []string{fx.claimID}, listIDs(s1, ""), "S1 sees their one claim")
	require.Equal(t, []string{fx.shopper2ClaimID}, listIDs(s2, ""), "S2 sees none of S1's")
	require.Empty(t, listIDs(s2, "&seller_id="+fx.seller), "a seller filter does not widen a shopper's list")
	require.Equal(t, []string{fx.shopper2ClaimID}, listIDs(other, "&seller_id="+fx.seller), "a seller lists only claims against them")
}

// orderBody is a delivered, paid order of sellerID's bought by shopper.
func orderBody(b *testBundle, sellerID, shopper, payRef string) map[string]any {
	return map[string]any{
		"buyer_id": shopper, "seller_id": sellerID, "currency": "EUR", "amount": instantAmount,
		"items":   []map[string]any{{"sku": "sku_a", "name": "Thing", "quantity": 1, "unit_amount": instantAmount}},
		"payment": map[string]any{"provider": "sandbox", "reference": payRef},
		"paid_at": b.now.Add(-3 * day).Format(time.RFC3339), "delivered_at": b.now.Add(-day).Format(time.RFC3339),
	}
}

func mint(t *testing.T, key []byte, role claimflow.Role, sub string, now time.Time) string {
	t.Helper()
	tok, err := auth.MintToken(key, role, sub, time.Hour, now)
	require.NoError(t, err)
	return tok
}

// unknownRoleToken is correctly signed but carries a role the API does
// not know, which MintToken refuses to make.
func unknownRoleToken(t *testing.T, now time.Time) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"role": "superuser", "sub": "mallory", "iss": "claimsd", "exp": now.Add(time.Hour).Unix(),
	}).SignedString(secret)
	require.NoError(t, err)
	return tok
}

// requireError checks an error response's status and code.
func requireError(t *testing.T, r response, status int, code, what string) {
	t.Helper()
	require.Equal(t, status, r.Code, "%s: %s", what, r.Body)
	require.Equal(t, code, r.errorOf(t)["code"], what)
}
