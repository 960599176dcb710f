package console_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/claimsd/claimsd/workflows/claimflow"

	"github.com/stretchr/testify/require"
)

// consoleRoles are the roles that may sign in to the console.
var consoleRoles = []string{"shopper", "seller", "agent", "finance", "admin", "rights_holder", "enforcement", "risk"}

// lab is who works in the policy lab.
var lab = []string{"risk", "admin"}

// wantRoles is who may use each console route, written out by hand: the
// route table must say the same, so a rule widened, narrowed or missing
// fails TestEveryConsoleRouteHasARule. Empty: public.
var wantRoles = map[string][]string{
	"GET /console/signin":  nil,
	"GET /console/login":   nil,
	"POST /console/login":  nil,
	"POST /console/logout": consoleRoles,
	"GET /console":         consoleRoles,
	"GET /":                nil,
	"GET /app":             {"shopper"},

	"GET /console/queue":                                                   {"agent", "admin"},
	"GET /console/claims/:id":                                              {"agent", "finance", "admin"},
	"POST /console/claims/:id/override":                                    {"agent"},
	"POST /console/claims/:id/contest-resolution":                          {"agent"},
	"GET /console/finance":                                                 {"finance", "admin"},
	"GET /console/finance/chargebacks":                                     {"finance", "admin"},
	"GET /console/finance/chargebacks.csv":                                 {"finance", "admin"},
	"GET /console/finance/sellers/:id/statement":                           {"finance", "admin"},
	"GET /console/finance/sellers/:id/statement.csv":                       {"finance", "admin"},
	"POST /console/finance/sellers/:id/recoveries":                         {"finance"},
	"GET /console/finance/reconciliations":                                 {"finance", "admin"},
	"POST /console/finance/reconciliations":                                {"finance", "admin"},
	"GET /console/finance/reconciliations/:id":                             {"finance", "admin"},
	"GET /console/finance/reconciliations/:id/items.csv":                   {"finance", "admin"},
	"POST /console/finance/reconciliations/:id/exceptions/:seq/resolution": {"finance"},
	"GET /console/finance/trial-balance":                                   {"finance", "admin"},
	"GET /console/seller":                                                  {"seller"},
	"GET /console/seller/claims/:id":                                       {"seller"},
	"POST /console/seller/claims/:id/contest":                              {"seller"},
	"GET /console/seller/statement":                                        {"seller"},
	"GET /app/claims":                                                      {"shopper"},
	"GET /app/claims/new":                                                  {"shopper"},
	"POST /app/claims/new":                                                 {"shopper"},
	"GET /app/claims/:id":                                                  {"shopper"},
	"POST /app/claims/:id/evidence":                                        {"shopper"},
	"GET /app/claims/:id/evidence/:eid":                                    {"shopper"},
	"GET /app/claims/:id/evidence/:eid/thumbnail":                          {"shopper"},
	"POST /console/seller/claims/:id/evidence":                             {"seller"},
	"GET /console/seller/claims/:id/evidence/:eid":                         {"seller"},
	"GET /console/seller/claims/:id/evidence/:eid/thumbnail":               {"seller"},
	"GET /console/claims/:id/evidence/:eid":                                {"agent", "finance", "admin"},
	"GET /console/claims/:id/evidence/:eid/thumbnail":                      {"agent", "finance", "admin"},
	"GET /console/admin/sessions":                                          {"admin"},
	"POST /console/admin/sessions":                                         {"admin"},
	"GET /console/admin/events":                                            {"admin"},
	"GET /console/admin/webhooks":                                          {"admin"},
	"POST /console/admin/webhooks":                                         {"admin"},
	"GET /console/admin/webhooks/:id":                                      {"admin"},
	"POST /console/admin/webhooks/:id/enable":                              {"admin"},
	"POST /console/admin/webhooks/:id/disable":                             {"admin"},
	"POST /console/admin/webhooks/:id/reenable":                            {"admin"},
	"POST /console/admin/webhooks/:id/replay":                              {"admin"},
	"POST /console/admin/webhooks/:id/secret":                              {"admin"},
	"POST /console/admin/webhooks/:id/delete":                              {"admin"},
	"GET /console/brands":                                                  {"rights_holder", "admin"},
	"GET /console/brands/:id":                                              {"rights_holder", "admin"},
	"GET /console/brands/:id/counterfeits.csv":                             {"rights_holder", "admin"},
	"POST /console/brands/:id/claims/:claim_id/verdict":                    {"rights_holder"},
	"GET /console/brands/:id/claims/:claim_id/photos":                      {"rights_holder", "admin"},
	"GET /console/brands/:id/claims/:claim_id/evidence/:eid":               {"rights_holder", "admin"},
	"GET /console/brands/:id/claims/:claim_id/evidence/:eid/thumbnail":     {"rights_holder", "admin"},
	"GET /console/cases":                                                   {"enforcement", "admin"},
	"GET /console/cases/:id":                                               {"enforcement", "admin"},
	"GET /console/cases/:id/packet.zip":                                    {"enforcement", "admin"},
	"POST /console/cases/:id/status":                                       {"enforcement", "admin"},
	"GET /console/intelligence/access-log":                                 {"admin"},
	"GET /console/policies":                                                lab,
	"GET /console/policies/new":                                            lab,
	"POST /console/policies/new":                                           lab,
	"GET /console/policies/versions/:version":                              lab,
	"POST /console/policies/versions/:version/backtests":                   lab,
	"GET /console/policies/versions/:version/shadow":                       lab,
	"POST /console/policies/versions/:version/shadow":                      lab,
	"POST /console/policies/versions/:version/shadow/stop":                 lab,
	"GET /console/policies/versions/:version/activate":                     lab,
	"POST /console/policies/versions/:version/activate":                    lab,
	"GET /console/policies/backtests/:id":                                  lab,
	"GET /console/policies/backtests/:id/claims.csv":                       lab,
}

// TestEveryConsoleRouteHasARule: the console's route table admits exactly
// the roles wantRoles lists for each route, and lists every page and form
// the router serves under /console and /app; then for every route × role:
// a role the route does not admit gets the 403 page and nothing runs; a
// role it admits gets past the check (its form token accepted); no
// session gets sent to sign in, unless the route is public.
func TestEveryConsoleRouteHasARule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	table := map[string]bool{}
	for _, r := range b.routes {
		key := r.Method + " " + r.Path
		table[key] = true
		want, ok := wantRoles[key]
		require.True(t, ok, "%s has no entry in wantRoles: decide who may use it", key)
		require.ElementsMatch(t, want, claimflow.RoleNames(r.Roles), "%s admits other roles than wantRoles says", key)
	}
	require.Len(t, table, len(wantRoles), "wantRoles lists routes the console does not have")
	catchAll := map[string]bool{"/console/*": true, "/app": true, "/app/*": true, "/console/static/*": true}
	served := 0
	for _, r := range b.e.Routes() {
		if table[r.Method+" "+r.Path] {
			served++
			continue
		}
		if !strings.HasPrefix(r.Path, "/console") && !strings.HasPrefix(r.Path, "/app") || catchAll[r.Path] {
			continue
		}
		t.Errorf("%s %s is served but has no rule in the console's table", r.Method, r.Path)
	}
	require.Equal(t, len(b.routes), served, "the table lists routes the router does not serve")

	sessions := map[string]signedIn{}
	for _, role := range consoleRoles {
		sub := b.name("who")
		if role == "seller" {
			sub = b.name("sel_who")
		}
		sessions[role] = b.signIn(t, role, sub)
	}
	const refused = "this page is for"
	for _, r := range b.routes {
		if r.Path == "/console/login" || r.Path == "/console/logout" {
			continue // spending a link and signing out are tested on their own
		}
		path := strings.NewReplacer(":id", "clm_nobody", ":seq", "1", ":claim_id", "clm_nobody", ":eid", "evd_nobody", ":version", "v_nobody").Replace(r.Path)
		for _, role := range consoleRoles {
			s := sessions[role]
			var form url.Values
			if r.Method == http.MethodPost {
				form = url.Values{"csrf": {s.csrf}}
			}
			res := b.do(t, r.Method, path, s.cookie, form)
			if len(r.Roles) > 0 && !slices.Contains(r.Roles, claimflow.Role(role)) {
				require.Equal(t, http.StatusForbidden, res.Code, "%s %s as %s", r.Method, r.Path, role)
				require.Contains(t, res.Body, refused, "%s %s as %s", r.Method, r.Path, role)
				continue
			}
			require.NotContains(t, res.Body, refused, "%s %s as %s is refused", r.Method, r.Path, role)
			require.NotContains(t, res.Body, "Form expired", "%s %s as %s: its form token was refused", r.Method, r.Path, role)
			require.Less(t, res.Code, 500, "%s %s as %s: %s", r.Method, r.Path, role, res.Body)
		}
		res := b.do(t, r.Method, path, nil, url.Values{})
		if len(r.Roles) > 0 {
			require.Equal(t, http.StatusSeeOther, res.Code, "%s %s without a session", r.Method, r.Path)
			require.Equal(t, "/console/signin", res.Header.Get("Location"))
		} else {
			require.Less(t, res.Code, 500, "%s %s without a session", r.Method, r.Path)
		}
	}
}

// TestOwnersAndOthers: a claim's own shopper and seller open it; another
// shopper or seller gets the not-found page, as if it did not exist.
func TestOwnersAndOthers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_owner")
	id := b.fileClaim(t, "sel_owner", shopper, 3000)
	sellerID := b.name("sel_owner")
	for _, tc := range []struct {
		role, sub, path string
		want            int
	}{
		{"shopper", shopper, "/app/claims/" + id, http.StatusOK},
		{"shopper", b.name("shp_other"), "/app/claims/" + id, http.StatusNotFound},
		{"seller", sellerID, "/console/seller/claims/" + id, http.StatusOK},
		{"seller", b.name("sel_other"), "/console/seller/claims/" + id, http.StatusNotFound},
		{"finance", "fin", "/console/finance/sellers/" + sellerID + "/statement", http.StatusOK},
		{"agent", "ana", "/console/claims/" + id, http.StatusOK},
	} {
		s := b.signIn(t, tc.role, tc.sub)
		res := b.do(t, http.MethodGet, tc.path, s.cookie, nil)
		require.Equal(t, tc.want, res.Code, "%s %s: %s", tc.role, tc.path, res.Body)
		if tc.want == http.StatusNotFound {
			require.NotContains(t, res.Body, id, "a non-owner's page names the claim")
		}
	}
}
