package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

func TestBrowserShopperFilesAClaimAndSeesTheDecision(t *testing.T) {
	t.Parallel()
	h := newBrowserHarness(t)
	shopper := h.name("shp_mia")
	h.shopperOrder(t, "sel_harbor", shopper, []order.Item{
		{SKU: "sku_bag", Name: "Leather tote bag", Quantity: 1, UnitAmount: 3500},
		{SKU: "sku_wallet", Name: "Card wallet", Quantity: 1, UnitAmount: 1200},
	}, 12*day, 9*day)
	orderID := h.shopperOrder(t, "sel_northwind", shopper, sneakers(4000), 3*day, day)
	mia := h.person(t)

	h.signIn(t, mia, "shopper", shopper, "")
	loc, err := chromedp.Run(mia, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(loc, "/app/claims"), loc)
	h.screenshot(t, mia, "app-claims-empty")

	require.NoError(t, chromedp.Do(mia,
		chromedp.Click(chromedp.CSS(`a.app-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#app-form`)),
	))
	h.screenshot(t, mia, "app-new")

	// Sent empty: the summary names each field, the form stays.
	require.NoError(t, chromedp.Do(mia,
		chromedp.Click(chromedp.CSS(`button.app-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`.app-errors`)),
	))
	summary := text(t, mia, `.app-errors`)
	require.Contains(t, summary, "Choose the order the problem is with.")
	require.Contains(t, summary, "Choose what is wrong with the order.")
	require.Contains(t, summary, "Describe what is wrong.")
	focused, err := chromedp.Run(mia, chromedp.Evaluate[string](`document.activeElement.id || document.activeElement.className`))
	require.NoError(t, err)
	require.Contains(t, focused, "app-errors", "the summary takes the focus, so it is read first")
	h.screenshot(t, mia, "app-new-errors")
	require.Empty(t, h.shopperClaims(t, shopper))

	// Pick the order by its label, say what is wrong, describe it, link a photo.
	require.NoError(t, chromedp.Do(mia,
		chromedp.Click(chromedp.CSS(`label[for="app-order-0"]`)),
		chromedp.Click(chromedp.CSS(`label[for="app-reason-counterfeit"]`)),
		chromedp.SendKeys(chromedp.CSS(`#app-description`), "The swoosh is crooked and the insole has no brand print."),
		chromedp.SendKeys(chromedp.CSS(`#app-evidence-url-0`), "https://photos.example/sneaker-logo.jpg"),
		chromedp.Click(chromedp.CSS(`button.app-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`.app-verdict`)),
	))
	require.Contains(t, text(t, mia, `p.notice`), "Your claim was sent.")
	require.Equal(t, "Approved: your refund is on its way", text(t, mia, `.app-verdict h1`), "a small claim of a new shopper is refunded at once")

	recs := h.shopperClaims(t, shopper)
	require.Len(t, recs, 1)
	rec := recs[0]
	require.Equal(t, orderID, rec.Claim.OrderID())
	require.Equal(t, claim.StatusApproved, rec.Claim.Status())
	require.Equal(t, []claim.Evidence{{Kind: "photo", URL: "https://photos.example/sneaker-logo.jpg"}}, rec.Claim.Evidence())
	ex := claimflow.Explain(rec)
	require.Equal(t, ex.Summary, text(t, mia, `.app-summary`))
	helps, err := chromedp.Run(mia, chromedp.Evaluate[bool](`document.querySelector(".app-helps") !== null`))
	require.NoError(t, err)
	require.False(t, helps, "nothing to add to an approved claim")
	require.NoError(t, chromedp.Do(mia, chromedp.Click(chromedp.CSS(`details summary`))))
	require.Contains(t, text(t, mia, `details .reasons`), rec.Decision.Reasons[0].Message)
	timeline := text(t, mia, `#timeline`)
	require.Contains(t, timeline, "You filed the claim.")
	require.Contains(t, timeline, "Approved at once; the refund was started.")
	h.screenshot(t, mia, "app-claim")

	// On a phone: the form and the decision fit the screen.
	require.NoError(t, chromedp.Do(mia, phone(),
		chromedp.Navigate(h.url+"/app/claims/new"),
		chromedp.WaitVisible(chromedp.CSS(`#app-form`)),
	))
	require.LessOrEqual(t, pageWidth(t, mia), 390, "nothing scrolls sideways on a phone")
	h.screenshot(t, mia, "app-new-phone")
	require.NoError(t, chromedp.Do(mia,
		chromedp.Navigate(h.url+"/app/claims/"+rec.Claim.ID()),
		chromedp.WaitVisible(chromedp.CSS(`.app-verdict`)),
	))
	require.LessOrEqual(t, pageWidth(t, mia), 390)
	h.screenshot(t, mia, "app-claim-phone")
	require.NoError(t, chromedp.Do(mia,
		chromedp.Navigate(h.url+"/app/claims"),
		chromedp.WaitVisible(chromedp.CSS(`.app-claims`)),
	))
	require.Contains(t, text(t, mia, `.app-claims`), "Refund on its way")
	require.LessOrEqual(t, pageWidth(t, mia), 390)
	h.screenshot(t, mia, "app-claims-phone")
}
