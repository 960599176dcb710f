package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/webhookflow"
)

// cutOff lists what the page in ctx cuts off, with every <details> open:
// the page wider than the window, and each table wider than its box (it
// scrolls, so some of its columns are hidden until scrolled to). With
// tablesToo false only the page itself is measured.
func cutOff(t *testing.T, ctx context.Context, tablesToo bool) []string {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`(() => {
		for (const d of document.querySelectorAll("details")) d.open = true;
		const out = [];
		const doc = document.documentElement;
		if (doc.scrollWidth > doc.clientWidth + 1) out.push("the page is " + doc.scrollWidth + " px wide in a " + doc.clientWidth + " px window");
		if (!%t) return out;
		for (const el of document.querySelectorAll(".table-wrap")) {
			if (el.scrollWidth <= el.clientWidth + 1) continue;
			const caption = el.querySelector("caption");
			const name = el.getAttribute("aria-label") || (caption ? caption.textContent : el.querySelector("th").textContent);
			out.push("table " + JSON.stringify(name.trim()) + " needs " + el.scrollWidth + " px and has " + el.clientWidth);
		}
		return out;
	})()`, tablesToo)))
	require.NoError(t, err)
	return got
}

// TestBrowserNoTableIsCutOff opens every page of every role, with data,
// at the widths of common laptops (1280 and 1024 px) and of a phone (390
// px): on a laptop no page is wider than the window and no table hides
// columns behind a scroll bar; on a phone no page is wider than the
// window, and the pages about one claim (made for reading on a phone)
// show their tables whole too. Wide lists (the queue, finance's tables)
// may scroll in their own box on a phone.
func TestBrowserNoTableIsCutOff(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(9*time.Hour))
	ctx := context.Background()
	shopper, sellerID := b.name("shp_wide"), b.name("sel_wide")
	// A shopper and a seller with history, so the claim pages list it.
	closed := b.closed(t, "sel_wide", 1999, "EUR")
	b.closed(t, "sel_wide", 1500, "JPY")
	earlier := b.fileClaim(t, "sel_wide", shopper, instantAmount)
	review := b.fileClaim(t, "sel_wide", shopper, reviewAmount)
	_, err := sandbox.New(b.st.DB(), sandbox.Config{}).StrayRefund(ctx, "clm_nobody", money.Of(1250, money.MustCurrency("EUR")))
	require.NoError(t, err)
	b.clock.Add(time.Minute)
	run, err := b.fin.RequestReconciliation(ctx, claimflow.Viewer{Role: "finance", Subject: "fin"}, finance.Day(b.clock.Now()))
	require.NoError(t, err)
	require.NoError(t, b.fin.RunReconciliation(ctx, run.ID, false))
	w := b.seedIntel(t, b.st)
	caseID := b.ringCase(t, w)
	_, _, err = b.intel.PutVerdict(ctx, claimflow.Viewer{Role: "rights_holder", Subject: w.holder}, w.brand, w.confirmed[0].ID,
		intel.VerdictParams{Verdict: "counterfeit", Note: "Not ours: the serial number does not exist.", DocumentURL: "https://acme.example/reports/2026/authentication-report-17.pdf"})
	require.NoError(t, err)
	hook := b.newEndpoint(t, "wide", "claim.submitted", "claim.refunded", "claim.closed", "chargeback.contested")
	seedDeliveries(t, b.st.DB(), hook.ID, closed, "pending", 3,
		`{"error":"the receiver is busy","detail":"`+strings.Repeat("a-long-unbroken-answer-", 40)+`"}`)
	off := b.newEndpoint(t, "wide_off")
	disabled := false
	_, err = b.hooks.Update(ctx, off.ID, webhookflow.Patch{Enabled: &disabled})
	require.NoError(t, err)
	h := startBrowser(t, b.testBundle)

	type page struct {
		path string
		// onPhone: its tables must fit a phone too.
		onPhone bool
	}
	for _, who := range []struct {
		role, sub string
		pages     []page
	}{
		{"agent", "ana", []page{{"/console/queue", false}, {"/console/claims/" + review, true}, {"/console/claims/" + closed, true},
			{"/console/claims/" + w.confirmed[0].ID, true}}},
		{"finance", "fin", []page{{"/console/finance", false}, {"/console/finance/chargebacks", false},
			{"/console/finance/sellers/" + sellerID + "/statement", false}, {"/console/finance/reconciliations", false},
			{"/console/finance/reconciliations/" + run.ID, true}, {"/console/finance/trial-balance", false},
			{"/console/claims/" + closed, true}}},
		{"admin", "root", []page{{"/console/admin/sessions", true}, {"/console/admin/webhooks", false}, {"/console/admin/webhooks/" + hook.ID, true},
			{"/console/admin/webhooks/" + off.ID, true}, {"/console/brands", true}, {"/console/brands/" + w.brand + "?status=all", false},
			{"/console/cases", false}, {"/console/cases/" + caseID, false}, {"/console/intelligence/access-log", false}}},
		{"rights_holder", w.holder, []page{{"/console/brands", true}, {"/console/brands/" + w.brand, false},
			{"/console/brands/" + w.brand + "?status=all", false}}},
		{"enforcement", "inv", []page{{"/console/cases", false}, {"/console/cases/" + caseID, false}}},
		{"seller", sellerID, []page{{"/console/seller", false}, {"/console/seller/claims/" + closed, true},
			{"/console/seller/claims/" + review, true}, {"/console/seller/statement", false}}},
		{"shopper", shopper, []page{{"/app/claims", true}, {"/app/claims/new", true}, {"/app/claims/" + earlier, true},
			{"/app/claims/" + review, true}}},
	} {
		p := h.person(t)
		h.signIn(t, p, who.role, who.sub, "")
		for _, size := range []struct {
			name          string
			width, height int64
			phone         bool
		}{{"1280 px", 1280, 900, false}, {"1024 px", 1024, 768, false}, {"a phone", 390, 844, true}} {
			opts := []chromedp.EmulateViewportOption{}
			if size.phone {
				opts = append(opts, chromedp.EmulateScale(2))
			}
			require.NoError(t, chromedp.Do(p, chromedp.EmulateViewport(size.width, size.height, opts...)))
			for _, pg := range who.pages {
				require.NoError(t, chromedp.Do(p, chromedp.Navigate(h.url+pg.path), chromedp.WaitVisible(chromedp.CSS(`main h1`))))
				for _, problem := range cutOff(t, p, !size.phone || pg.onPhone) {
					t.Errorf("%s at %s, as %s: %s", pg.path, size.name, who.role, problem)
				}
			}
		}
	}
}
