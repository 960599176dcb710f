package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/webhookflow"
)

// TestNoLinkLeadsToARefusal follows, for each role, every link of the
// console's own that its pages show, page after page from its start
// page, and requires each to open: a breadcrumb, a table's link or a
// reconciliation exception that led a role to a 403 or 404 page would
// fail it.
func TestNoLinkLeadsToARefusal(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(9*time.Hour))
	ctx := context.Background()
	shopper := b.name("shp_links")
	sellerID := b.name("sel_links")
	closed := b.closed(t, "sel_links", 1000, "EUR")
	b.fileClaim(t, "sel_links", shopper, instantAmount)
	b.reviewClaim(t, "sel_links")
	// The provider refunded a claim the engine does not have.
	_, err := sandbox.New(b.st.DB(), sandbox.Config{}).StrayRefund(ctx, "clm_nobody", money.Of(1250, money.MustCurrency("EUR")))
	require.NoError(t, err)
	b.clock.Add(time.Minute)
	run, err := b.fin.RequestReconciliation(ctx, claimflow.Viewer{Role: "finance", Subject: "fin"}, finance.Day(b.clock.Now()))
	require.NoError(t, err)
	require.NoError(t, b.fin.RunReconciliation(ctx, run.ID, false))
	// A brand's counterfeits and a ring of sellers, for the pages of
	// rights holders and enforcement.
	w := b.seedIntel(t, b.st)
	// A webhook endpoint with a delivery of a claim, and one disabled.
	hook := b.newEndpoint(t, "links", "claim.submitted")
	seedDeliveries(t, b.st.DB(), hook.ID, closed, "pending", 1, "busy")
	off := b.newEndpoint(t, "links_off")
	disabled := false
	_, err = b.hooks.Update(ctx, off.ID, webhookflow.Patch{Enabled: &disabled})
	require.NoError(t, err)
	// The policy lab: a version in shadow with a completed backtest that
	// changes the seller's claims.
	version := b.draft(t, "links", stricter)
	bt := b.backtestNow(t, version, sellerID)
	require.NotZero(t, bt.Changed)
	_, err = b.lab.StartShadow(ctx, rita, version)
	require.NoError(t, err)
	sub := map[string]string{"agent": "ana", "finance": "fin", "admin": "root", "seller": sellerID, "shopper": shopper,
		"rights_holder": w.holder, "enforcement": "inv", "risk": "rita"}
	extra := map[string][]string{
		"finance": {"/console/finance/reconciliations/" + run.ID, "/console/finance/chargebacks?seller_id=" + sellerID},
		"admin":   {"/console/finance/reconciliations/" + run.ID},
		"seller":  {"/console/seller/claims/" + closed},
	}

	for _, role := range consoleRoles {
		t.Run(role, func(t *testing.T) {
			s := b.signIn(t, role, sub[role])
			queue := append([]string{"/console"}, extra[role]...)
			from := map[string]string{}
			seen := map[string]bool{}
			for len(queue) > 0 && len(seen) < 150 {
				p := queue[0]
				queue = queue[1:]
				if seen[p] {
					continue
				}
				seen[p] = true
				r := b.do(t, http.MethodGet, p, s.cookie, nil)
				for hops := 0; r.Code == http.StatusSeeOther && hops < 3; hops++ {
					r = b.do(t, http.MethodGet, r.Header.Get("Location"), s.cookie, nil)
				}
				require.Less(t, r.Code, 400, "%s: %s, linked from %s", role, p, from[p])
				if !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
					continue
				}
				for _, l := range consoleLinks(t, r.Body) {
					if !seen[l] {
						if _, ok := from[l]; !ok {
							from[l] = p
						}
						queue = append(queue, l)
					}
				}
			}
			require.Greater(t, len(seen), 2, "the crawl found the role's pages")
		})
	}
}

// consoleLinks lists the hrefs of the page's links to the engine's own
// pages, without fragments.
func consoleLinks(t *testing.T, body string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	require.NoError(t, err)
	var out []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			for _, a := range n.Attr {
				if a.Key != "href" || !strings.HasPrefix(a.Val, "/") || strings.HasPrefix(a.Val, "//") {
					continue
				}
				u, err := url.Parse(a.Val)
				require.NoError(t, err, a.Val)
				u.Fragment = ""
				if u.Path != "" {
					out = append(out, u.String())
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}
