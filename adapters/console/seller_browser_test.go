package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
)

func TestBrowserSellerContestsACharge(t *testing.T) {
	t.Parallel()
	h := newBrowserHarness(t)
	now := h.clock.Now()
	sellerID := h.name("sel_acme")
	soon := h.chargedClaim(t, "sel_acme", now.Add(-50*time.Hour))
	later := h.chargedClaim(t, "sel_acme", now.Add(-2*time.Hour))
	h.reviewClaim(t, "sel_acme")
	shopper := h.get(t, soon).Claim.ShopperID()
	seller := h.person(t)

	h.signIn(t, seller, "seller", sellerID, "")
	loc, err := chromedp.Run(seller, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(loc, "/console/seller"), loc)
	require.Contains(t, text(t, seller, `.seller-owed`), "20.00 EUR")
	windows := text(t, seller, `table.seller-windows`)
	require.Contains(t, windows, "2 charges open to contest")
	require.Less(t, strings.Index(windows, soon), strings.Index(windows, later), "soonest to close first")
	require.Contains(t, windows, "22 h left")
	require.Contains(t, text(t, seller, `table.seller-claims`), "in review")
	h.screenshot(t, seller, "seller-overview")

	// Open the charge closest to its deadline and contest it.
	require.NoError(t, chromedp.Do(seller,
		chromedp.Click(chromedp.CSS(`table.seller-windows a[href="/console/seller/claims/`+soon+`#contest"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#contest-statement`)),
	))
	require.Contains(t, text(t, seller, `h1`), soon)
	require.Contains(t, text(t, seller, `#charge`), "open")
	require.NotContains(t, text(t, seller, `main`), shopper, "the shopper is not named")
	h.screenshot(t, seller, "seller-claim")

	require.NoError(t, chromedp.Do(seller,
		chromedp.SendKeys(chromedp.CSS(`#contest-statement`), "Bought from the brand's distributor; the invoice is linked."),
		chromedp.SetValue(chromedp.CSS(`#contest-evidence-kind-1`), "document"),
		chromedp.SendKeys(chromedp.CSS(`#contest-evidence-url-1`), "https://docs.example/invoice-2291.pdf"),
		chromedp.Click(chromedp.CSS(`form[action$="/contest"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	))
	require.Contains(t, text(t, seller, `p.notice`), "Your contest is recorded")
	charge := text(t, seller, `#charge`)
	require.Contains(t, charge, "contested")
	require.Contains(t, text(t, seller, `.seller-standing`), "You contested the charge of")
	require.Contains(t, charge, "https://docs.example/invoice-2291.pdf")
	require.Contains(t, text(t, seller, `#timeline`), "chargeback contested")
	n, err := chromedp.Run(seller, chromedp.Evaluate[int](`document.querySelectorAll('form[action$="/contest"]').length`))
	require.NoError(t, err)
	require.Zero(t, n, "the form is gone once contested")
	h.screenshot(t, seller, "seller-contested")
	require.Equal(t, claim.ChargebackContested, h.get(t, soon).Claim.Chargeback().Status)

	// Back on the overview only the other charge is open to contest.
	require.NoError(t, chromedp.Do(seller, chromedp.Navigate(h.url+"/console/seller"), chromedp.WaitVisible(chromedp.CSS(`table.seller-windows`))))
	windows = text(t, seller, `table.seller-windows`)
	require.Contains(t, windows, "1 charge open to contest")
	require.NotContains(t, windows, soon)

	// Their statement for this month, through the header's link.
	require.NoError(t, chromedp.Do(seller,
		chromedp.Click(chromedp.CSS(`header nav a[href="/console/seller/statement"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#totals-h`)),
	))
	require.Contains(t, text(t, seller, `#lines-caption`), "2 entries")
	h.screenshot(t, seller, "seller-statement")

	// The same pages on a phone.
	require.NoError(t, chromedp.Do(seller, phone(), chromedp.Navigate(h.url+"/console/seller"), chromedp.WaitVisible(chromedp.CSS(`table.seller-windows`))))
	h.screenshot(t, seller, "seller-overview-phone")
	require.LessOrEqual(t, pageWidth(t, seller), 390, "the page itself does not scroll sideways on a phone")
	require.NoError(t, chromedp.Do(seller, chromedp.Navigate(h.url+"/console/seller/claims/"+later), chromedp.WaitVisible(chromedp.CSS(`#contest-statement`))))
	h.screenshot(t, seller, "seller-claim-phone")
	require.LessOrEqual(t, pageWidth(t, seller), 390)
}
