package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// newConformance returns a conformance checker for b: every call made
// through its run is checked against openapi.json, request and response,
// as TestOpenAPIConformance checks its own.
func newConformance(t *testing.T, b *testBundle) *conformance {
	t.Helper()
	router, err := gorillamux.NewRouter(loadOpenAPI(t))
	require.NoError(t, err)
	return &conformance{b: b, router: router, seen: map[string]bool{}, opts: &openapi3filter.Options{
		AuthenticationFunc:    requireBearer,
		MultiError:            true,
		IncludeResponseStatus: true,
	}}
}

// putBrand registers a brand with its rights holders.
func (b *testBundle) putBrand(t *testing.T, id, name string, holders ...string) {
	t.Helper()
	r := b.do(t, http.MethodPut, "/v1/brands/"+id, b.token(t, "service", "platform"),
		map[string]any{"name": name, "rights_holders": holders})
	require.Contains(t, []int{http.StatusOK, http.StatusCreated}, r.Code, string(r.Body))
}

// putSignals feeds a seller's payment account signal (the platform's hash
// of it) through PUT /v1/sellers.
func (b *testBundle) putSignals(t *testing.T, sellerID, paymentAccount string) {
	t.Helper()
	r := b.do(t, http.MethodPut, "/v1/sellers/"+sellerID, b.token(t, "service", "platform"), map[string]any{
		"name": "Seller " + sellerID, "risk_score": 10, "verified": true,
		"seller_signals": map[string]any{"payment_account": paymentAccount}})
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
}

// platformHash stands in for the platform's hash of a signal.
func platformHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// item is an order line of a brand's goods.
type item struct {
	brand, sku, name string
	quantity, unit   int64
}

// counterfeitClaim puts an order of sellerID's with items, files the
// shopper's counterfeit claim on the whole order with a photo, refunds it
// and charges the seller (contest window open: the line is pending). It
// returns the claim's id.
func (b *testBundle) counterfeitClaim(t *testing.T, sellerID, shopper, currency string, items ...item) string {
	t.Helper()
	orderID := b.name(fmt.Sprintf("ord_cf_%d", time.Now().UnixNano()))
	var amount int64
	lines := make([]map[string]any, len(items))
	for i, it := range items {
		amount += it.quantity * it.unit
		lines[i] = map[string]any{"sku": it.sku, "name": it.name, "quantity": it.quantity, "unit_amount": it.unit}
		if it.brand != "" {
			lines[i]["brand"] = it.brand
		}
	}
	r := b.do(t, http.MethodPut, "/v1/orders/"+orderID, b.token(t, "service", "platform"), map[string]any{
		"buyer_id": shopper, "seller_id": sellerID, "currency": currency, "amount": amount, "items": lines,
		"payment": map[string]any{"provider": "sandbox", "reference": "pay_" + orderID},
		"paid_at": b.now.Add(-3 * day).Format(time.RFC3339), "delivered_at": b.now.Add(-day).Format(time.RFC3339),
	})
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	// The photo's link names the order, never the shopper, so a test can
	// tell a leak of the shopper from their evidence.
	r = b.do(t, http.MethodPost, "/v1/claims", b.token(t, "shopper", shopper), claimBody(orderID,
		"evidence", []map[string]any{{"kind": "photo", "url": "https://img.example/" + orderID + ".jpg"}}))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	id := r.json(t)["id"].(string)
	runRefund(t, id, b.now)
	runChargeSeller(t, id, b.now)
	require.Equal(t, "closed", b.getClaim(t, id)["status"])
	return id
}

// confirm lets the claim's contest window pass uncontested: the charge
// becomes final and the counterfeit confirmed.
func (b *testBundle) confirm(t *testing.T, claimID string) {
	t.Helper()
	after := b.now.Add(policyfile.Default().ContestWindowOrDefault() + time.Minute)
	step := &claimflow.DeadlineStep{Store: store, Policy: policyfile.Default(), Now: func() time.Time { return after }}
	_, err := step.RunContest(context.Background(), claimID)
	require.NoError(t, err)
	require.Equal(t, "final", b.getClaim(t, claimID)["chargeback"].(map[string]any)["status"])
}

// clear waives the claim's charge: not a counterfeit after all.
func (b *testBundle) clear(t *testing.T, claimID string) {
	t.Helper()
	r := b.override(t, b.getClaim(t, claimID), "waive_chargeback")
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
}

// brandWorld is one brand's counterfeits, all this test's own:
//
//	c1 sellerA, EUR, SKU1 2×300 + SKU2 1×400   confirmed (final)
//	c2 sellerB, EUR, SKU1 1×1000               confirmed
//	c3 sellerA, USD, SKU2 1×500                confirmed
//	pending sellerA, EUR, SKU1 1×700           charged, window open
//	cleared sellerB, EUR, SKU2 1×800           charge waived
//	other   sellerA, EUR, another brand's goods, confirmed
type brandWorld struct {
	brand, holder           string
	otherBrand, otherHolder string
	sku1, sku2              string
	sellerA, sellerB        string
	c1, c2, c3              string
	pending, cleared, other string
	shoppers                []string // every claim's shopper
}

func newBrandWorld(t *testing.T, b *testBundle) *brandWorld {
	t.Helper()
	w := &brandWorld{brand: b.name("brand_cf"), holder: b.name("rh_cf"), otherBrand: b.name("brand_cf_other"),
		otherHolder: b.name("rh_cf_other"), sku1: b.name("BAG"), sku2: b.name("BELT")}
	b.putBrand(t, w.brand, "Acme", w.holder)
	b.putBrand(t, w.otherBrand, "Other", w.otherHolder)
	w.sellerA, w.sellerB = b.newSeller(t, "sel_cf_a"), b.newSeller(t, "sel_cf_b")
	file := func(seller, currency string, items ...item) string {
		shopper := b.name(fmt.Sprintf("shp_cf%d", len(w.shoppers)))
		w.shoppers = append(w.shoppers, shopper)
		return b.counterfeitClaim(t, seller, shopper, currency, items...)
	}
	w.c1 = file(w.sellerA, "EUR", item{w.brand, w.sku1, "Bag", 2, 300}, item{w.brand, w.sku2, "Belt", 1, 400})
	w.c2 = file(w.sellerB, "EUR", item{w.brand, w.sku1, "Bag", 1, 1000})
	w.c3 = file(w.sellerA, "USD", item{w.brand, w.sku2, "Belt", 1, 500})
	w.pending = file(w.sellerA, "EUR", item{w.brand, w.sku1, "Bag", 1, 700})
	w.cleared = file(w.sellerB, "EUR", item{w.brand, w.sku2, "Belt", 1, 800})
	w.other = file(w.sellerA, "EUR", item{w.otherBrand, b.name("HAT"), "Hat", 1, 900})
	for _, id := range []string{w.c1, w.c2, w.c3, w.other} {
		b.confirm(t, id)
	}
	b.clear(t, w.cleared)
	return w
}

func (w *brandWorld) path() string { return "/v1/brands/" + w.brand + "/counterfeits" }

// requireNoShopper fails if any of the world's shoppers is named in body.
func (w *brandWorld) requireNoShopper(t *testing.T, body []byte) {
	t.Helper()
	for _, s := range w.shoppers {
		require.NotContains(t, string(body), s, "a shopper is named")
	}
}

// lineKeys lists the lines of a counterfeits page as claim/line.
func lineKeys(page map[string]any) []string {
	var out []string
	for _, l := range page["claims"].([]any) {
		m := l.(map[string]any)
		out = append(out, fmt.Sprintf("%s/%v", m["claim_id"], m["line"]))
	}
	return out
}

// group finds the group with key in a list of totals' groups.
func group(t *testing.T, groups any, key string) map[string]any {
	t.Helper()
	for _, g := range groups.([]any) {
		if m := g.(map[string]any); m["key"] == key {
			return m
		}
	}
	t.Fatalf("no group %q in %v", key, groups)
	return nil
}

// TestIntelAuthorization walks every intelligence route with no token and
// with a token of every role: the roles the route admits get through
// (with the status a permitted call gives), every other role is 403.
// A rights holder sees only their own brands, as 404 for any other.
func TestIntelAuthorization(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := newBrandWorld(t, b)
	caseID := newRing(t, b, "authz", 2).caseID(t, b)

	subjects := map[claimflow.Role]string{
		claimflow.RoleShopper: w.shoppers[0], claimflow.RoleSeller: w.sellerA, claimflow.RoleAgent: "ana",
		claimflow.RoleFinance: "fin", claimflow.RoleAdmin: b.name("root"), claimflow.RoleService: "platform",
		claimflow.RoleRightsHolder: w.holder, claimflow.RoleEnforcement: b.name("enf"), claimflow.RoleRisk: b.name("risk"),
	}
	require.Len(t, subjects, len(claimflow.Roles), "a role without a subject goes untested")
	const (
		admin  = claimflow.RoleAdmin
		holder = claimflow.RoleRightsHolder
		enf    = claimflow.RoleEnforcement
	)
	verdict := map[string]any{"verdict": "counterfeit", "note": "The serial number was never issued."}
	rules := []struct {
		method, path string
		body         func(role claimflow.Role) any
		allowed      map[claimflow.Role]int // role → status; absent: 403
		public       bool
	}{
		{method: http.MethodGet, path: "/v1/brands", allowed: map[claimflow.Role]int{admin: 200, holder: 200}},
		{method: http.MethodGet, path: w.path(), allowed: map[claimflow.Role]int{admin: 200, holder: 200}},
		{method: http.MethodGet, path: w.path() + "?format=csv", allowed: map[claimflow.Role]int{admin: 200, holder: 200}},
		{method: http.MethodPut, path: w.path() + "/" + w.c1 + "/verdict", body: func(claimflow.Role) any { return verdict },
			allowed: map[claimflow.Role]int{holder: 201}},
		{method: http.MethodGet, path: "/v1/intelligence/signing-key", public: true},
		{method: http.MethodGet, path: "/v1/intelligence/cases", allowed: map[claimflow.Role]int{admin: 200, enf: 200}},
		{method: http.MethodGet, path: "/v1/intelligence/cases/" + caseID, allowed: map[claimflow.Role]int{admin: 200, enf: 200}},
		{method: http.MethodGet, path: "/v1/intelligence/cases/" + caseID + "/packet", allowed: map[claimflow.Role]int{admin: 200, enf: 200}},
		// An admin refers the case, then enforcement accepts it: each
		// the move that is theirs to make.
		{method: http.MethodPost, path: "/v1/intelligence/cases/" + caseID + "/status", body: func(role claimflow.Role) any {
			if role == enf {
				return map[string]any{"status": "accepted"}
			}
			return map[string]any{"status": "referred"}
		}, allowed: map[claimflow.Role]int{admin: 200, enf: 200}},
		{method: http.MethodGet, path: "/v1/intelligence/access-log", allowed: map[claimflow.Role]int{admin: 200}},
		{method: http.MethodGet, path: "/v1/intelligence/rights-holders", allowed: map[claimflow.Role]int{admin: 200}},
		{method: http.MethodGet, path: "/v1/claims/" + w.c1 + "/detail",
			allowed: map[claimflow.Role]int{claimflow.RoleAgent: 200, claimflow.RoleFinance: 200, admin: 200}},
	}
	covered := map[string]bool{}
	for _, rule := range rules {
		u, err := url.Parse(rule.path)
		require.NoError(t, err)
		covered[rule.method+" "+u.Path] = true
		send := func(role claimflow.Role, token string) response {
			var body any
			if rule.body != nil {
				body = rule.body(role)
			}
			return b.do(t, rule.method, rule.path, token, body)
		}
		if rule.public {
			require.Equal(t, http.StatusOK, send("", "").Code, "%s %s needs no token", rule.method, rule.path)
		} else {
			requireError(t, send("", ""), http.StatusUnauthorized, "unauthenticated", rule.method+" "+rule.path+" without a token")
		}
		for _, role := range claimflow.Roles { // in a fixed order: admin refers before enforcement accepts
			r := send(role, b.token(t, string(role), subjects[role]))
			want, ok := rule.allowed[role]
			what := fmt.Sprintf("%s %s as %s", rule.method, rule.path, role)
			switch {
			case rule.public:
				require.Equal(t, http.StatusOK, r.Code, "%s: %s", what, r.Body)
			case !ok:
				requireError(t, r, http.StatusForbidden, "forbidden", what)
			default:
				require.Equal(t, want, r.Code, "%s: %s", what, r.Body)
			}
		}
	}
	// Every intelligence route of the route table has a rule.
	for _, rt := range httpapi.RouteTable() {
		if isIntelRoute(rt.Path) {
			require.True(t, coveredRoute(covered, rt.Method, rt.Path), "no rule for %s %s", rt.Method, rt.Path)
		}
	}

	// A rights holder of another brand: every brand not theirs, existing
	// or not, is the same 404.
	other := b.token(t, "rights_holder", w.otherHolder)
	unknown := "/v1/brands/" + b.name("brand_nope") + "/counterfeits"
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, w.path()},
		{http.MethodGet, w.path() + "?format=csv"},
		{http.MethodPut, w.path() + "/" + w.c1 + "/verdict"},
		{http.MethodGet, unknown},
		{http.MethodPut, unknown + "/" + w.c1 + "/verdict"},
		{http.MethodGet, "/v1/brands/bad%20id/counterfeits"},
	} {
		var body any
		if c.method == http.MethodPut {
			body = verdict
		}
		r := b.do(t, c.method, c.path, other, body)
		requireError(t, r, http.StatusNotFound, "brand_not_found", c.method+" "+c.path+" as another brand's rights holder")
	}
	r := b.do(t, http.MethodGet, unknown, b.token(t, "admin", "root"), nil)
	requireError(t, r, http.StatusNotFound, "brand_not_found", "an unknown brand, as an admin")
	r = b.do(t, http.MethodGet, "/v1/brands", other, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Equal(t, []any{map[string]any{"id": w.otherBrand, "name": "Other"}}, r.json(t)["brands"])
	r = b.do(t, http.MethodGet, "/v1/brands", b.token(t, "rights_holder", b.name("rh_nobody")), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Equal(t, []any{}, r.json(t)["brands"], "a rights holder of no brand reads none")

	// A claim with no line of the brand: the other brand's goods, and a
	// claim that does not exist.
	holderTok := b.token(t, "rights_holder", w.holder)
	for _, id := range []string{w.other, "clm_nope", "bad%20id"} {
		r := b.do(t, http.MethodPut, w.path()+"/"+id+"/verdict", holderTok, verdict)
		requireError(t, r, http.StatusNotFound, "claim_not_found", "a verdict on "+id)
	}
}

// isIntelRoute reports whether an echo or OpenAPI path is one of the
// intelligence routes.
func isIntelRoute(path string) bool {
	return strings.HasPrefix(path, "/v1/intelligence/") || path == "/v1/brands" || strings.Contains(path, "/counterfeits")
}

// coveredRoute reports whether a rule's path matches the echo route path.
func coveredRoute(covered map[string]bool, method, echoPath string) bool {
	pattern := regexp.MustCompile("^" + echoParam.ReplaceAllString(regexp.QuoteMeta(echoPath), "[^/]+") + "$")
	for k := range covered {
		m, p, _ := strings.Cut(k, " ")
		if m == method && pattern.MatchString(p) {
			return true
		}
	}
	return false
}

// TestBrandCounterfeits: a brand's confirmed, pending and cleared lines,
// filtered by status, with the totals of the confirmed ones, paged, and
// as CSV; shoppers are counted and never named; bad parameters are 400
// naming the parameter.
func TestBrandCounterfeits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cf := newConformance(t, b)
	w := newBrandWorld(t, b)
	holder := b.token(t, "rights_holder", w.holder)
	get := func(name, query string) response {
		t.Helper()
		return cf.run(t, apiCall{name: name, method: http.MethodGet, path: w.path() + query, token: holder, want: 200})
	}

	// Confirmed by default: c1's two lines, c2, c3.
	r := get("confirmed", "")
	w.requireNoShopper(t, r.Body)
	page := r.json(t)
	require.Equal(t, map[string]any{"id": w.brand, "name": "Acme"}, page["brand"])
	require.Equal(t, "confirmed", page["status"])
	require.ElementsMatch(t, []string{w.c1 + "/0", w.c1 + "/1", w.c2 + "/0", w.c3 + "/0"}, lineKeys(page))
	require.Nil(t, page["next_cursor"])
	for _, l := range page["claims"].([]any) {
		line := l.(map[string]any)
		require.Equal(t, "confirmed", line["status"])
		require.Equal(t, "final", line["charge_status"])
		require.NotNil(t, line["confirmed_at"])
		require.Equal(t, w.brand, line["brand"])
		require.Nil(t, line["verdict"])
		ev := line["evidence"].([]any)
		require.Len(t, ev, 1, "the shopper's evidence")
		require.Equal(t, "photo", ev[0].(map[string]any)["kind"])
		require.True(t, strings.HasPrefix(ev[0].(map[string]any)["url"].(string), "https://img.example/"), ev)
		if line["claim_id"] == w.c1 {
			// The claim's 1000 shared by value: 2×300 and 1×400.
			want := map[float64][]any{0: {w.sku1, "Bag", 2.0, 600.0}, 1: {w.sku2, "Belt", 1.0, 400.0}}[line["line"].(float64)]
			require.Equal(t, want, []any{line["sku"], line["item_name"], line["quantity"], line["amount"]})
			require.Equal(t, w.sellerA, line["seller_id"])
			require.Equal(t, "Seller "+w.sellerA, line["seller_name"])
		}
	}

	totals := page["totals"].(map[string]any)
	require.Equal(t, 3.0, totals["claims"])
	require.Equal(t, 3.0, totals["shoppers"])
	require.Equal(t, 5.0, totals["units"])
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": 2000.0}, map[string]any{"currency": "USD", "amount": 500.0}},
		totals["amounts"])
	require.Equal(t, map[string]any{"confirmed": 3.0, "pending": 1.0, "cleared": 1.0}, totals["by_status"])
	a := group(t, totals["by_seller"], w.sellerA)
	require.Equal(t, []any{2.0, 4.0, 2.0, "Seller " + w.sellerA}, []any{a["claims"], a["units"], a["shoppers"], a["name"]})
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": 1000.0}, map[string]any{"currency": "USD", "amount": 500.0}}, a["amounts"])
	require.Equal(t, w.sellerA, totals["by_seller"].([]any)[0].(map[string]any)["key"], "the seller with most claims first")
	sb := group(t, totals["by_seller"], w.sellerB)
	require.Equal(t, []any{1.0, 1.0, 1.0}, []any{sb["claims"], sb["units"], sb["shoppers"]})
	s1 := group(t, totals["by_sku"], w.sku1)
	require.Equal(t, []any{2.0, 3.0, 2.0}, []any{s1["claims"], s1["units"], s1["shoppers"]})
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": 1600.0}}, s1["amounts"])
	s2 := group(t, totals["by_sku"], w.sku2)
	require.Equal(t, []any{2.0, 2.0}, []any{s2["claims"], s2["units"]})
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": 400.0}, map[string]any{"currency": "USD", "amount": 500.0}}, s2["amounts"])
	months := totals["by_month"].([]any)
	require.Len(t, months, 1)
	require.Equal(t, b.now.Format("2006-01"), months[0].(map[string]any)["key"])
	require.NotContains(t, months[0], "name")

	// Each status alone, and all of them.
	for _, c := range []struct {
		status string
		want   []string
	}{
		{"pending", []string{w.pending + "/0"}},
		{"cleared", []string{w.cleared + "/0"}},
		{"disputed", nil},
		{"all", []string{w.c1 + "/0", w.c1 + "/1", w.c2 + "/0", w.c3 + "/0", w.pending + "/0", w.cleared + "/0"}},
	} {
		page := get("status "+c.status, "?status="+c.status).json(t)
		require.ElementsMatch(t, c.want, lineKeys(page), c.status)
		require.Equal(t, totals, page["totals"], "the totals do not depend on the status asked")
	}
	cleared := get("cleared", "?status=cleared").json(t)["claims"].([]any)[0].(map[string]any)
	require.Equal(t, []any{"cleared", "waived", nil}, []any{cleared["status"], cleared["charge_status"], cleared["confirmed_at"]})

	// Pages of two cover every line once, newest first.
	var paged []string
	query := "?status=all&limit=2"
	for pages := 0; ; pages++ {
		require.Less(t, pages, 4, "more pages than lines")
		page := get("page", query).json(t)
		keys := lineKeys(page)
		require.LessOrEqual(t, len(keys), 2)
		paged = append(paged, keys...)
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		query = "?status=all&limit=2&cursor=" + url.QueryEscape(next)
	}
	all := lineKeys(get("all", "?status=all").json(t))
	require.Equal(t, all, paged, "the pages, in order, are the whole list")

	// CSV: every line of the status, without paging, by format or Accept.
	for _, c := range []struct {
		name    string
		query   string
		headers []string
	}{
		{"csv by format", "?status=all&format=csv&limit=1", nil},
		{"csv by accept", "?status=all", []string{"Accept", "text/csv"}},
	} {
		r := cf.run(t, apiCall{name: c.name, method: http.MethodGet, path: w.path() + c.query, token: holder, headers: c.headers, want: 200})
		require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv"), r.Header.Get("Content-Type"))
		require.Contains(t, r.Header.Get("Content-Disposition"), "counterfeits-"+w.brand+".csv")
		w.requireNoShopper(t, r.Body)
		rows := readCSV(t, r.Body)
		require.Equal(t, []string{"claim_id", "line", "brand", "seller_id", "seller_name", "sku", "item_name", "quantity",
			"amount", "currency", "claimed_at", "status", "charge_status", "confirmed_at", "verdict", "evidence_urls"}, rows[0])
		require.Len(t, rows, 1+len(all), "every line, no paging")
		var keys []string
		for _, row := range rows[1:] {
			keys = append(keys, row[0]+"/"+row[1])
			require.Equal(t, w.brand, row[2])
			require.True(t, strings.HasPrefix(row[15], "https://img.example/"), row)
			if row[0] == w.c1 && row[1] == "0" {
				require.Equal(t, []string{w.sku1, "Bag", "2", "600", "EUR", "confirmed", "final"}, []string{row[5], row[6], row[7], row[8], row[9], row[11], row[12]})
				require.NotEmpty(t, row[13], "confirmed_at")
			}
		}
		require.Equal(t, all, keys, "the same lines in the same order as JSON")
	}

	// Bad parameters: 400 naming the parameter, never a 500.
	for _, c := range []struct {
		query, field string
		rejected     bool // the document already refuses the value
	}{
		{"?status=bogus", "status", true},
		{"?limit=0", "limit", true},
		{"?limit=501", "limit", true},
		{"?limit=abc", "limit", true},
		{"?from=2026-12-10&to=2026-12-01", "to", false},
		{"?from=2026-13-01", "from", true},
		{"?from=2999-01-01", "from", false},
		{"?cursor=" + url.QueryEscape("!!!"), "cursor", false},
		{"?cursor=Zm9v", "cursor", false},
		{"?cursor=" + base64.RawURLEncoding.EncodeToString([]byte("2026-01-01T00:00:00Z|bad id|1")), "cursor", false},
		{"?format=xml", "format", true},
		{"?format=xml&status=bogus", "format", true},
		{"?status=all&status=confirmed", "status", false},
	} {
		r := cf.run(t, apiCall{name: "bad " + c.query, method: http.MethodGet, path: w.path() + c.query, token: holder, want: 400, rejected: c.rejected})
		require.Equal(t, c.field, r.errorOf(t)["field"], "%s: %s", c.query, r.Body)
	}
}

// TestVerdicts: a brand's rights holder records a verdict (201), replaces
// it (200, one revision); bad bodies change nothing; a genuine verdict
// takes the line out of the totals, a counterfeit one confirms a pending
// line; agents read the verdicts on the claim with the rating.
func TestVerdicts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cf := newConformance(t, b)
	w := newBrandWorld(t, b)
	holder := b.token(t, "rights_holder", w.holder)
	verdictPath := func(claimID string) string { return w.path() + "/" + claimID + "/verdict" }
	lineOf := func(claimID string) map[string]any {
		t.Helper()
		page := cf.run(t, apiCall{name: "all lines", method: http.MethodGet, path: w.path() + "?status=all", token: holder, want: 200}).json(t)
		for _, l := range page["claims"].([]any) {
			if m := l.(map[string]any); m["claim_id"] == claimID {
				return m
			}
		}
		t.Fatalf("no line of %s", claimID)
		return nil
	}

	// Bad bodies: refused, naming the field, and nothing recorded.
	long := strings.Repeat("n", 2001)
	for _, c := range []struct {
		name     string
		body     any
		want     int
		field    string
		rejected bool
	}{
		{"verdict missing", map[string]any{"note": "n"}, 422, "verdict", true},
		{"verdict bogus", map[string]any{"verdict": "fake", "note": "n"}, 422, "verdict", true},
		{"note missing", map[string]any{"verdict": "genuine"}, 422, "note", true},
		{"note empty", map[string]any{"verdict": "genuine", "note": ""}, 422, "note", true},
		{"note too long", map[string]any{"verdict": "genuine", "note": long}, 422, "note", true},
		{"document over http", map[string]any{"verdict": "genuine", "note": "n", "document_url": "http://brand.example/r.pdf"}, 422, "document_url", true},
		{"document not a URL", map[string]any{"verdict": "genuine", "note": "n", "document_url": "not a url"}, 422, "document_url", true},
		{"document with a password", map[string]any{"verdict": "genuine", "note": "n", "document_url": "https://u:p@brand.example/r.pdf"}, 422, "document_url", true},
		{"unknown field", map[string]any{"verdict": "genuine", "note": "n", "amount": 1}, 400, "amount", true},
		{"wrong type", map[string]any{"verdict": "genuine", "note": 5}, 400, "note", true},
		{"malformed", `{"verdict":`, 400, "", true},
		{"too large", map[string]any{"verdict": "genuine", "note": strings.Repeat("x", 9<<10)}, 413, "", true},
	} {
		r := cf.run(t, apiCall{name: c.name, method: http.MethodPut, path: verdictPath(w.c1), token: holder, body: c.body, want: c.want, rejected: c.rejected})
		if c.field != "" {
			require.Equal(t, c.field, r.errorOf(t)["field"], "%s: %s", c.name, r.Body)
		}
	}
	cf.run(t, apiCall{name: "text/plain", method: http.MethodPut, path: verdictPath(w.c1), token: holder, want: 415, rejected: true,
		body: map[string]any{"verdict": "genuine", "note": "n"}, headers: []string{"Content-Type", "text/plain"}})
	require.Nil(t, lineOf(w.c1)["verdict"], "a refused verdict is not recorded")

	// Recorded, then replaced.
	first := map[string]any{"verdict": "counterfeit", "note": "The serial number was never issued.",
		"document_url": "https://brand.example/reports/1.pdf"}
	r := cf.run(t, apiCall{name: "verdict", method: http.MethodPut, path: verdictPath(w.c1), token: holder, body: first, want: 201})
	v := r.json(t)
	require.Equal(t, []any{w.c1, w.brand, "counterfeit", first["note"], first["document_url"], 0.0, "confirmed"},
		[]any{v["claim_id"], v["brand"], v["verdict"], v["note"], v["document_url"], v["revisions"], v["settled"]})
	second := map[string]any{"verdict": "counterfeit", "note": "Confirmed by our lab."}
	r = cf.run(t, apiCall{name: "verdict replaced", method: http.MethodPut, path: verdictPath(w.c1), token: holder, body: second, want: 200})
	v = r.json(t)
	require.Equal(t, []any{"Confirmed by our lab.", nil, 1.0}, []any{v["note"], v["document_url"], v["revisions"]})
	line := lineOf(w.c1)["verdict"].(map[string]any)
	require.Equal(t, []any{"counterfeit", "Confirmed by our lab.", 1.0}, []any{line["verdict"], line["note"], line["revisions"]})

	// A genuine verdict disputes a confirmed line: out of the totals.
	before := cf.run(t, apiCall{name: "totals", method: http.MethodGet, path: w.path(), token: holder, want: 200}).json(t)["totals"].(map[string]any)
	require.Equal(t, 3.0, before["claims"])
	cf.run(t, apiCall{name: "genuine", method: http.MethodPut, path: verdictPath(w.c2), token: holder, want: 201,
		body: map[string]any{"verdict": "genuine", "note": "Our own stock; the buyer was mistaken."}})
	require.Equal(t, "disputed", lineOf(w.c2)["status"])
	page := cf.run(t, apiCall{name: "after genuine", method: http.MethodGet, path: w.path(), token: holder, want: 200}).json(t)
	require.NotContains(t, lineKeys(page), w.c2+"/0")
	after := page["totals"].(map[string]any)
	require.Equal(t, []any{2.0, 2.0, 4.0}, []any{after["claims"], after["shoppers"], after["units"]})
	require.Equal(t, map[string]any{"confirmed": 2.0, "pending": 1.0, "cleared": 1.0, "disputed": 1.0}, after["by_status"])
	for _, g := range after["by_seller"].([]any) {
		require.NotEqual(t, w.sellerB, g.(map[string]any)["key"], "sellerB's only confirmed claim is disputed")
	}
	disputed := cf.run(t, apiCall{name: "disputed", method: http.MethodGet, path: w.path() + "?status=disputed", token: holder, want: 200}).json(t)
	require.Equal(t, []string{w.c2 + "/0"}, lineKeys(disputed))

	// A counterfeit verdict confirms a pending line.
	cf.run(t, apiCall{name: "confirm pending", method: http.MethodPut, path: verdictPath(w.pending), token: holder, want: 201,
		body: map[string]any{"verdict": "counterfeit", "note": "Fake hologram."}})
	require.Equal(t, "confirmed", lineOf(w.pending)["status"])

	// Agents read the verdicts on the claim, with the rating: c1's
	// counterfeit verdict is borne out by its final charge, c2's genuine
	// one is not.
	r = cf.run(t, apiCall{name: "detail", method: http.MethodGet, path: "/v1/claims/" + w.c1 + "/detail", token: b.token(t, "agent", "ana"), want: 200})
	vs := r.json(t)["verdicts"].([]any)
	require.Len(t, vs, 1)
	got := vs[0].(map[string]any)
	require.Equal(t, []any{w.brand, w.holder, "counterfeit", "Confirmed by our lab.", 1.0},
		[]any{got["brand"], got["rights_holder"], got["verdict"], got["note"], got["revisions"]})
	require.Equal(t, map[string]any{"verdicts": 3.0, "decided": 2.0, "borne_out": 1.0, "borne_out_per_mille": 500.0, "good_faith": false},
		got["rating"])
	r = cf.run(t, apiCall{name: "detail, no verdict", method: http.MethodGet, path: "/v1/claims/" + w.c3 + "/detail", token: b.token(t, "agent", "ana"), want: 200})
	require.Equal(t, []any{}, r.json(t)["verdicts"])

	// Admins read every rights holder's rating.
	r = cf.run(t, apiCall{name: "ratings", method: http.MethodGet, path: "/v1/intelligence/rights-holders", token: b.token(t, "admin", "root"), want: 200})
	var mine map[string]any
	for _, h := range r.json(t)["rights_holders"].([]any) {
		if h.(map[string]any)["subject"] == w.holder {
			mine = h.(map[string]any)
		}
	}
	require.Equal(t, map[string]any{"subject": w.holder, "verdicts": 3.0, "decided": 2.0, "borne_out": 1.0,
		"borne_out_per_mille": 500.0, "good_faith": false}, mine)
	require.Equal(t, 900.0, r.json(t)["good_faith_per_mille"])
}

// TestBrandCounterfeitsEmpty: a brand with no confirmed counterfeit in
// the period, new or quiet, has no lines and zero totals, not an error.
func TestBrandCounterfeitsEmpty(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cf := newConformance(t, b)
	brand, holder := b.name("brand_quiet"), b.name("rh_quiet")
	b.putBrand(t, brand, "Quiet", holder)
	tok := b.token(t, "rights_holder", holder)
	path := "/v1/brands/" + brand + "/counterfeits"

	r := cf.run(t, apiCall{name: "no counterfeits yet", method: http.MethodGet, path: path, token: tok, want: 200})
	page := r.json(t)
	require.Equal(t, []any{}, page["claims"])
	require.Equal(t, map[string]any{"claims": 0.0, "shoppers": 0.0, "units": 0.0, "amounts": []any{}, "by_seller": []any{},
		"by_sku": []any{}, "by_month": []any{}, "by_status": map[string]any{}}, page["totals"])

	// Only a pending line: listed under its status, but nothing confirmed
	// to total.
	id := b.counterfeitClaim(t, b.newSeller(t, "sel_quiet"), b.name("shp_quiet"), "EUR", item{brand, b.name("CAP"), "Cap", 1, 600})
	page = cf.run(t, apiCall{name: "only pending", method: http.MethodGet, path: path + "?status=pending", token: tok, want: 200}).json(t)
	require.Equal(t, []string{id + "/0"}, lineKeys(page))
	require.Equal(t, 0.0, page["totals"].(map[string]any)["claims"])
	require.Equal(t, map[string]any{"pending": 1.0}, page["totals"].(map[string]any)["by_status"])

	// The CSV of an empty period is its header alone.
	r = cf.run(t, apiCall{name: "empty csv", method: http.MethodGet, path: path + "?format=csv&status=cleared", token: tok, want: 200})
	require.Len(t, readCSV(t, r.Body), 1)
}

// TestBrandCounterfeitsSKUNames: a SKU's total is named after the item,
// as the document says, not after one of the sellers who sold it.
func TestBrandCounterfeitsSKUNames(t *testing.T) {
	t.Parallel()
	b := setup(t)
	brand, holder := b.name("brand_names"), b.name("rh_names")
	b.putBrand(t, brand, "Names", holder)
	sku := b.name("SCARF")
	id := b.counterfeitClaim(t, b.newSeller(t, "sel_names"), b.name("shp_names"), "EUR", item{brand, sku, "Silk scarf", 1, 1200})
	b.confirm(t, id)
	r := b.do(t, http.MethodGet, "/v1/brands/"+brand+"/counterfeits", b.token(t, "rights_holder", holder), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Equal(t, "Silk scarf", group(t, r.json(t)["totals"].(map[string]any)["by_sku"], sku)["name"])
}

// ring is sellers who pay into one account, each with a confirmed
// counterfeit of a product of its own, and a brand of the test's.
type ring struct {
	brand   string
	sellers []string // sorted
	claims  []string
	signal  string // the platform's hash of the shared account
	shopper []string
}

// newRing creates n sellers sharing a payment account, each with one
// confirmed counterfeit claim of its own product.
func newRing(t *testing.T, b *testBundle, short string, n int) *ring {
	t.Helper()
	rg := &ring{brand: b.name("brand_ring_" + short), signal: platformHash(b.name("acct_" + short))}
	b.putBrand(t, rg.brand, "Ring brand")
	for i := range n {
		s := b.newSeller(t, fmt.Sprintf("sel_ring_%s_%d", short, i))
		b.putSignals(t, s, rg.signal)
		shopper := b.name(fmt.Sprintf("shp_ring_%s_%d", short, i))
		id := b.counterfeitClaim(t, s, shopper, "EUR", item{rg.brand, b.name(fmt.Sprintf("SKU_%s_%d", short, i)), "Watch", 1, 1500})
		b.confirm(t, id)
		rg.sellers, rg.claims, rg.shopper = append(rg.sellers, s), append(rg.claims, id), append(rg.shopper, shopper)
	}
	slices.Sort(rg.sellers)
	return rg
}

// caseOf returns the listed case holding seller, or nil.
func caseOf(cases []any, seller string) map[string]any {
	for _, c := range cases {
		for _, s := range c.(map[string]any)["sellers"].([]any) {
			if s.(map[string]any)["id"] == seller {
				return c.(map[string]any)
			}
		}
	}
	return nil
}

// caseID lists the cases as an admin and returns the ring's.
func (rg *ring) caseID(t *testing.T, b *testBundle) string {
	t.Helper()
	r := b.do(t, http.MethodGet, "/v1/intelligence/cases", b.token(t, "admin", "root"), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	c := caseOf(r.json(t)["cases"].([]any), rg.sellers[0])
	require.NotNil(t, c, "the ring has no case")
	return c["id"].(string)
}

var signatureHeader = regexp.MustCompile(`^keyid="([^"]+)", alg="ed25519", sig="([^"]+)"$`)

// requireSigned checks the packet's signature with the published key, and
// that changing any one byte breaks it.
func requireSigned(t *testing.T, r response, key ed25519.PublicKey, keyID string) {
	t.Helper()
	m := signatureHeader.FindStringSubmatch(r.Header.Get("Claimsd-Signature"))
	require.NotNil(t, m, r.Header.Get("Claimsd-Signature"))
	require.Equal(t, keyID, m[1])
	sig, err := base64.StdEncoding.DecodeString(m[2])
	require.NoError(t, err)
	require.True(t, ed25519.Verify(key, r.Body, sig), "the signature does not verify")
	n := len(r.Body)
	for _, i := range []int{0, 1, n / 7, n / 3, n / 2, 2 * n / 3, n - 2, n - 1} {
		tampered := slices.Clone(r.Body)
		tampered[i] ^= 0x01
		require.False(t, ed25519.Verify(key, tampered, sig), "byte %d of %d changed, yet the signature verifies", i, n)
	}
	require.False(t, ed25519.Verify(key, r.Body[:n-1], sig), "a truncated packet verifies")
}

// TestIntelCases: three sellers paying into one account, each with a
// confirmed counterfeit, are one case; a seller with one confirmed
// counterfeit and no link is in none. The case page lists what links
// them, their claims and how many shoppers; the case moves through the
// funnel as each side may move it; its packet is signed with the
// published key; and every read is in the access log.
func TestIntelCases(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cf := newConformance(t, b)
	rg := newRing(t, b, "cases", 3)
	loner := b.newSeller(t, "sel_loner")
	b.putSignals(t, loner, platformHash(b.name("acct_loner")))
	lonerClaim := b.counterfeitClaim(t, loner, b.name("shp_loner"), "EUR", item{rg.brand, b.name("SKU_loner"), "Watch", 1, 900})
	b.confirm(t, lonerClaim)

	adminSub, enfSub := b.name("root"), b.name("enf")
	admin, enf := b.token(t, "admin", adminSub), b.token(t, "enforcement", enfSub)
	requestIDs := map[string]string{} // action → request id

	// The list.
	r := cf.run(t, apiCall{name: "cases", method: http.MethodGet, path: "/v1/intelligence/cases", token: enf, want: 200})
	requestIDs["cases"] = r.Header.Get("X-Request-Id")
	cases := r.json(t)["cases"].([]any)
	listed := caseOf(cases, rg.sellers[0])
	require.NotNil(t, listed)
	var ids []string
	for _, s := range listed["sellers"].([]any) {
		ids = append(ids, s.(map[string]any)["id"].(string))
		require.Equal(t, 1.0, s.(map[string]any)["confirmed_claims"])
	}
	require.Equal(t, rg.sellers, ids, "the case is exactly the three sellers")
	require.Nil(t, caseOf(cases, loner), "a seller linked to no one with one confirmed counterfeit is no case")
	require.Equal(t, "open", listed["status"])
	require.Equal(t, 3.0, listed["confirmed_claims"])
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": 4500.0}}, listed["amounts"])
	require.Equal(t, []any{rg.brand}, listed["brands"])
	caseID := listed["id"].(string)
	casePath := "/v1/intelligence/cases/" + caseID

	open := cf.run(t, apiCall{name: "open cases", method: http.MethodGet, path: "/v1/intelligence/cases?status=open", token: admin, want: 200})
	require.NotNil(t, caseOf(open.json(t)["cases"].([]any), rg.sellers[0]))
	closedList := cf.run(t, apiCall{name: "closed cases", method: http.MethodGet, path: "/v1/intelligence/cases?status=closed", token: admin, want: 200})
	require.Nil(t, caseOf(closedList.json(t)["cases"].([]any), rg.sellers[0]))
	r = cf.run(t, apiCall{name: "cases: bad status", method: http.MethodGet, path: "/v1/intelligence/cases?status=bogus", token: admin, want: 400, rejected: true})
	require.Equal(t, "status", r.errorOf(t)["field"])

	// The case page.
	r = cf.run(t, apiCall{name: "case", method: http.MethodGet, path: casePath, token: enf, want: 200})
	requestIDs["case"] = r.Header.Get("X-Request-Id")
	whole := r.json(t)
	require.Equal(t, caseID, whole["id"])
	require.Equal(t, 3.0, whole["shoppers"])
	require.Equal(t, []any{}, whole["events"], "a new case has moved nowhere yet")
	var claimIDs []string
	for _, l := range whole["claims"].([]any) {
		claimIDs = append(claimIDs, l.(map[string]any)["claim_id"].(string))
		require.Equal(t, "confirmed", l.(map[string]any)["status"])
	}
	require.ElementsMatch(t, rg.claims, claimIDs)
	links := whole["links"].([]any)
	require.Len(t, links, 2, "three sellers on one account: two links")
	for _, l := range links {
		link := l.(map[string]any)
		require.Equal(t, "payment_account", link["kind"])
		require.Len(t, link["key"], 16)
		require.NotEqual(t, rg.signal[:16], link["key"], "the key is the engine's digest, not the platform's hash")
		require.Contains(t, rg.sellers, link["a"])
		require.Contains(t, rg.sellers, link["b"])
	}
	for _, s := range rg.shopper {
		require.NotContains(t, string(r.Body), s, "a shopper is named on the case")
	}
	cf.run(t, apiCall{name: "case: unknown", method: http.MethodGet, path: "/v1/intelligence/cases/" + b.name("case_nope"), token: enf, want: 404})

	// The signing key, for anyone.
	r = cf.run(t, apiCall{name: "signing key", method: http.MethodGet, path: "/v1/intelligence/signing-key", want: 200})
	keyDoc := r.json(t)
	raw, err := base64.StdEncoding.DecodeString(keyDoc["public_key"].(string))
	require.NoError(t, err)
	require.Len(t, raw, ed25519.PublicKeySize)
	key := ed25519.PublicKey(raw)

	// The packet, as JSON and CSV.
	r = cf.run(t, apiCall{name: "packet", method: http.MethodGet, path: casePath + "/packet", token: enf, want: 200})
	requestIDs["case_packet"] = r.Header.Get("X-Request-Id")
	requireSigned(t, r, key, keyDoc["key_id"].(string))
	packetID := r.Header.Get("Claimsd-Packet-Id")
	require.True(t, strings.HasPrefix(packetID, "pkt_"), packetID)
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	require.Contains(t, r.Header.Get("Content-Disposition"), "packet-"+caseID+".json")
	var packet struct {
		Packet map[string]any `json:"packet"`
		Case   map[string]any `json:"case"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &packet))
	require.Equal(t, packetID, packet.Packet["id"])
	require.Equal(t, keyDoc["key_id"], packet.Packet["signing_key_id"])
	require.Equal(t, "enforcement:"+enfSub, packet.Packet["generated_by"])
	require.Equal(t, caseID, packet.Case["id"])
	require.Len(t, packet.Case["claims"], 3)
	for _, s := range rg.shopper {
		require.NotContains(t, string(r.Body), s, "a shopper is named in the packet")
	}

	r = cf.run(t, apiCall{name: "packet as csv", method: http.MethodGet, path: casePath + "/packet?format=csv", token: admin, want: 200})
	requireSigned(t, r, key, keyDoc["key_id"].(string))
	csvPacketID := r.Header.Get("Claimsd-Packet-Id")
	require.NotEqual(t, packetID, csvPacketID, "each packet has its own id")
	rows := readCSV(t, r.Body)
	require.Equal(t, []string{"# packet " + csvPacketID, "case " + caseID}, rows[0][:2])
	for _, row := range rows {
		require.Len(t, row, len(rows[1]), "every record as wide as the header: %v", row)
	}
	require.Equal(t, "claim_id", rows[1][0])
	require.Len(t, rows, 2+3)
	for _, s := range rg.shopper {
		require.NotContains(t, string(r.Body), s, "a shopper is named in the CSV packet")
	}
	r = cf.run(t, apiCall{name: "packet by accept", method: http.MethodGet, path: casePath + "/packet", token: admin, headers: []string{"Accept", "text/csv"}, want: 200})
	require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv"))
	requireSigned(t, r, key, keyDoc["key_id"].(string))
	r = cf.run(t, apiCall{name: "packet: bad format", method: http.MethodGet, path: casePath + "/packet?format=xml", token: admin, want: 400, rejected: true})
	require.Equal(t, "format", r.errorOf(t)["field"])
	cf.run(t, apiCall{name: "packet: unknown case", method: http.MethodGet, path: "/v1/intelligence/cases/" + b.name("case_nope") + "/packet", token: admin, want: 404})

	// The funnel.
	move := func(name, token string, body any, want int) response {
		t.Helper()
		return cf.run(t, apiCall{name: name, method: http.MethodPost, path: casePath + "/status", token: token, body: body, want: want})
	}
	r = move("enforcement refers", enf, map[string]any{"status": "referred"}, 422)
	require.Equal(t, []any{"invalid_transition", "status"}, []any{r.errorOf(t)["code"], r.errorOf(t)["field"]})
	r = cf.run(t, apiCall{name: "unknown status", method: http.MethodPost, path: casePath + "/status", token: admin,
		body: map[string]any{"status": "escalated"}, want: 422, rejected: true})
	require.Equal(t, []any{"invalid_status", "status"}, []any{r.errorOf(t)["code"], r.errorOf(t)["field"]})
	r = move("admin refers", admin, map[string]any{"status": "referred", "note": "Sent to the IP crime unit."}, 200)
	require.Equal(t, []any{caseID, "referred"}, []any{r.json(t)["id"], r.json(t)["status"]})
	r = move("admin accepts", admin, map[string]any{"status": "accepted"}, 422)
	require.Equal(t, "invalid_transition", r.errorOf(t)["code"])
	move("enforcement accepts", enf, map[string]any{"status": "accepted"}, 200)
	move("action taken", enf, map[string]any{"status": "action_taken", "note": "Warehouse raided."}, 200)
	r = move("closed without a note", enf, map[string]any{"status": "closed"}, 422)
	require.Equal(t, "note", r.errorOf(t)["field"])
	r = move("closed", enf, map[string]any{"status": "closed", "note": "Goods seized; sellers removed."}, 200)
	require.Equal(t, "closed", r.json(t)["status"])
	r = move("a closed case does not move", admin, map[string]any{"status": "referred"}, 422)
	require.Equal(t, "invalid_transition", r.errorOf(t)["code"])
	cf.run(t, apiCall{name: "move: unknown case", method: http.MethodPost, path: "/v1/intelligence/cases/" + b.name("case_nope") + "/status",
		token: admin, body: map[string]any{"status": "referred"}, want: 404})

	whole = cf.run(t, apiCall{name: "case, closed", method: http.MethodGet, path: casePath, token: admin, want: 200}).json(t)
	require.Equal(t, "closed", whole["status"])
	var moves []string
	for _, e := range whole["events"].([]any) {
		ev := e.(map[string]any)
		moves = append(moves, fmt.Sprintf("%s→%s by %s: %s", ev["from"], ev["to"], ev["by"], ev["note"]))
	}
	require.Equal(t, []string{
		"open→referred by admin:" + adminSub + ": Sent to the IP crime unit.",
		"referred→accepted by enforcement:" + enfSub + ": ",
		"accepted→action_taken by enforcement:" + enfSub + ": Warehouse raided.",
		"action_taken→closed by enforcement:" + enfSub + ": Goods seized; sellers removed.",
	}, moves)

	// The access log has each read, with who made it.
	entries := accessEntries(t, cf, admin, enfSub)
	byAction := map[string]map[string]any{}
	for _, e := range entries {
		if _, ok := byAction[e["action"].(string)]; !ok {
			byAction[e["action"].(string)] = e
		}
	}
	for action, rid := range requestIDs {
		found := false
		for _, e := range entries {
			if e["action"] == action && e["request_id"] == rid {
				found = true
				require.Equal(t, "enforcement", e["role"])
			}
		}
		require.True(t, found, "no %s entry for request %s", action, rid)
	}
	require.Equal(t, "case:"+caseID, byAction["case"]["resource"])
	var packets []string
	for _, e := range entries {
		if e["action"] == "case_packet" {
			packets = append(packets, e["detail"].(map[string]any)["packet_id"].(string))
		}
	}
	require.Equal(t, []string{packetID}, packets, "enforcement took one packet, the one it was sent")
	require.NotEmpty(t, byAction["case_status"])

	for _, tok := range []string{enf, b.token(t, "rights_holder", b.name("rh"))} {
		cf.run(t, apiCall{name: "access log: not an admin", method: http.MethodGet, path: "/v1/intelligence/access-log", token: tok, want: 403})
	}
}

// accessEntries pages through the access log as an admin and returns the
// entries of subject, newest first.
func accessEntries(t *testing.T, cf *conformance, adminTok, subject string) []map[string]any {
	t.Helper()
	var out []map[string]any
	path := "/v1/intelligence/access-log?limit=200"
	for pages := 0; pages < 50; pages++ {
		page := cf.run(t, apiCall{name: "access log", method: http.MethodGet, path: path, token: adminTok, want: 200}).json(t)
		for _, e := range page["entries"].([]any) {
			if m := e.(map[string]any); m["subject"] == subject {
				out = append(out, m)
			}
		}
		next, ok := page["next_before"].(float64)
		if !ok {
			break
		}
		path = fmt.Sprintf("/v1/intelligence/access-log?limit=200&before=%d", int64(next))
	}
	return out
}

// TestBrandAccessLog: a rights holder's reads of their brand's
// counterfeits, as JSON and CSV, and their verdict are logged with their
// role and subject; bad parameters of the log are 400.
func TestBrandAccessLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cf := newConformance(t, b)
	w := newBrandWorld(t, b)
	holder := b.token(t, "rights_holder", w.holder)
	admin := b.token(t, "admin", "root")

	ids := map[string]string{}
	r := cf.run(t, apiCall{name: "json", method: http.MethodGet, path: w.path(), token: holder, want: 200})
	ids["brand_counterfeits"] = r.Header.Get("X-Request-Id")
	r = cf.run(t, apiCall{name: "csv", method: http.MethodGet, path: w.path() + "?format=csv", token: holder, want: 200})
	ids["brand_counterfeits_csv"] = r.Header.Get("X-Request-Id")
	r = cf.run(t, apiCall{name: "verdict", method: http.MethodPut, path: w.path() + "/" + w.c1 + "/verdict", token: holder, want: 201,
		body: map[string]any{"verdict": "counterfeit", "note": "Fake."}})
	ids["verdict"] = r.Header.Get("X-Request-Id")

	entries := accessEntries(t, cf, admin, w.holder)
	require.Len(t, entries, 3, "one entry per read")
	for _, e := range entries {
		require.Equal(t, "rights_holder", e["role"])
		require.Equal(t, ids[e["action"].(string)], e["request_id"], e)
	}
	require.Equal(t, "brand:"+w.brand, entries[2]["resource"])
	require.Equal(t, "claim:"+w.c1, entries[0]["resource"])
	require.Equal(t, map[string]any{"brand": w.brand, "verdict": "counterfeit"}, entries[0]["detail"])

	// Paging: one entry at a time, older each time.
	first := cf.run(t, apiCall{name: "log, one", method: http.MethodGet, path: "/v1/intelligence/access-log?limit=1", token: admin, want: 200}).json(t)
	require.Len(t, first["entries"], 1)
	next := first["next_before"].(float64)
	second := cf.run(t, apiCall{name: "log, next", method: http.MethodGet, path: fmt.Sprintf("/v1/intelligence/access-log?limit=1&before=%d", int64(next)),
		token: admin, want: 200}).json(t)
	require.Less(t, second["entries"].([]any)[0].(map[string]any)["id"], next)

	for _, c := range []struct {
		query, field string
		rejected     bool
	}{
		{"?limit=0", "limit", true},
		{"?limit=501", "limit", true},
		{"?limit=x", "limit", true},
		{"?before=0", "before", true},
		{"?before=x", "before", true},
	} {
		r := cf.run(t, apiCall{name: "log " + c.query, method: http.MethodGet, path: "/v1/intelligence/access-log" + c.query, token: admin, want: 400, rejected: c.rejected})
		require.Equal(t, c.field, r.errorOf(t)["field"])
	}
}

// TestSigningKey: the key needs no token, and its PEM is the same
// Ed25519 key as its raw bytes.
func TestSigningKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cf := newConformance(t, b)
	r := cf.run(t, apiCall{name: "signing key", method: http.MethodGet, path: "/v1/intelligence/signing-key", want: 200})
	k := r.json(t)
	require.Equal(t, "ed25519", k["algorithm"])
	raw, err := base64.StdEncoding.DecodeString(k["public_key"].(string))
	require.NoError(t, err)
	block, rest := pem.Decode([]byte(k["public_key_pem"].(string)))
	require.NotNil(t, block)
	require.Empty(t, rest)
	require.Equal(t, "PUBLIC KEY", block.Type)
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	require.NoError(t, err)
	require.Equal(t, ed25519.PublicKey(raw), pub)
	sum := sha256.Sum256(raw)
	require.Equal(t, "ed25519:"+hex.EncodeToString(sum[:8]), k["key_id"])
}
