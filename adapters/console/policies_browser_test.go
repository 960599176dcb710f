package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/policylab"
)

// TestBrowserRiskActivatesAStricterPolicy: a risk analyst drafts a
// stricter version from the active one (a broken draft first, refused
// with its problem), backtests it over a seller's claims (River works the
// run while its page reloads itself), reads the matrix, and activates it
// through the confirmation that shows that backtest; the next claim is
// decided by it.
func TestBrowserRiskActivatesAStricterPolicy(t *testing.T) {
	t.Parallel()
	b, st := setupLab(t)
	b.workBacktests(t, st)
	h := startBrowser(t, b)
	sellerID := h.name("sel_lab")
	for range 2 {
		h.fileClaim(t, "sel_lab", h.name("shp_new"), instantAmount)
	}
	h.reviewClaim(t, "sel_lab")
	version := h.name("stricter")
	rita := h.person(t)

	h.signIn(t, rita, "risk", "rita", "")
	loc, err := chromedp.Run(rita, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(loc, "/console/policies"), loc)
	require.Equal(t, "Policy lab", text(t, rita, `header nav`), "risk sees the lab alone")

	// A draft that is not JSON is refused on the form, kept as typed.
	require.NoError(t, chromedp.Do(rita,
		chromedp.Click(chromedp.CSS(`main a[href="/console/policies/new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#policy-document`)),
	))
	start, err := chromedp.Run(rita, chromedp.Value(chromedp.CSS(`#policy-document`)))
	require.NoError(t, err)
	require.Contains(t, start, `"version": "2026-12-06.1"`, "the form starts from the active version")
	broken := strings.Replace(policyDoc(t, version, stricter), `"frequent_claims_90d": 3`, `"frequent_claims_90d": 0`, 1)
	require.NoError(t, chromedp.Do(rita,
		chromedp.SetValue(chromedp.CSS(`#policy-document`), broken),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#policy-problems`)),
	))
	require.Contains(t, text(t, rita, `#policy-problems`), "frequent_claims_90d: must be at least 1")
	kept, err := chromedp.Run(rita, chromedp.Value(chromedp.CSS(`#policy-document`)))
	require.NoError(t, err)
	require.Equal(t, broken, kept)

	require.NoError(t, chromedp.Do(rita,
		chromedp.SetValue(chromedp.CSS(`#policy-document`), policyDoc(t, version, stricter)),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	))
	require.Contains(t, text(t, rita, `p.notice`), "stored as a draft")
	require.Contains(t, text(t, rita, `table.diff`), "tiers[0].instant_limits.EUR\t5000\t500")

	// The backtest, over the seller's claims of the last 30 days.
	require.NoError(t, chromedp.Do(rita,
		chromedp.SendKeys(chromedp.CSS(`#backtest-seller-id`), sellerID),
		chromedp.Click(chromedp.CSS(`form.backtest-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.matrix`)), // once River has worked it and the page reloaded
	))
	require.Contains(t, text(t, rita, `.status-line`), "completed")
	changed := text(t, rita, `td.matrix-cell.changed[data-got="instant_refund"][data-candidate="manual_review"]`)
	require.Contains(t, changed, "2 claims")
	require.Contains(t, changed, "20.00 EUR")
	require.Contains(t, text(t, rita, `table.changed-claims`), "Refunded at once → Sent to a person")
	h.screenshot(t, rita, "policy-backtest")
	loc, err = chromedp.Run(rita, chromedp.Location())
	require.NoError(t, err)
	runID := loc[strings.LastIndex(loc, "/")+1:]

	// Activate, through the confirmation.
	require.NoError(t, chromedp.Do(rita,
		chromedp.Click(chromedp.CSS(`main a[href="/console/policies/versions/`+version+`/activate"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#activate-confirm`)),
	))
	require.Contains(t, text(t, rita, `main`), "Its last backtest")
	require.Contains(t, text(t, rita, `main`), runID)
	require.Contains(t, text(t, rita, `td.matrix-cell.changed`), "2 claims")
	h.screenshot(t, rita, "policy-activate")
	require.NoError(t, chromedp.Do(rita,
		chromedp.Click(chromedp.CSS(`#activate-confirm`)),
		chromedp.Click(chromedp.CSS(`main form button.danger`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	))
	require.Contains(t, text(t, rita, `p.notice`), "The version is active")
	require.Contains(t, text(t, rita, `.status-line`), "Active")
	require.Contains(t, text(t, rita, `table.trail`), "Activated, replacing 2026-12-06.1")
	h.screenshot(t, rita, "policy-version")

	v, _, err := h.lab.Get(context.Background(), version)
	require.NoError(t, err)
	require.Equal(t, policylab.StatusActive, v.Status)
	next := h.fileClaim(t, "sel_lab", h.name("shp_new"), instantAmount)
	require.Equal(t, claim.StatusInReview, h.get(t, next).Claim.Status(), "the new version decides the next claim")
}
