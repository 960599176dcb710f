package console_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/evidence"
)

// imageLoaded reports whether the first image matching css has loaded and
// decoded (the page runs no script; the driver asks).
func imageLoaded(t *testing.T, ctx context.Context, css string) bool {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise(done => {
		const img = document.querySelector(`+"`"+css+"`"+`);
		if (!img) return done(false);
		const check = () => img.complete ? done(img.naturalWidth > 0) : setTimeout(check, 20);
		img.loading = "eager";
		check();
	})`, chromedp.EvalAwaitPromise))
	require.NoError(t, err, css)
	return ok
}

func TestBrowserShopperSendsAPhotoAndTheAgentSeesIt(t *testing.T) {
	t.Parallel()
	h := newBrowserHarness(t)
	shopper := h.name("shp_lena")
	h.shopperOrder(t, "sel_harbor", shopper, sneakers(4000), 3*day, day)
	lena := h.person(t)
	photo, err := filepath.Abs(filepath.Join("..", "media", "testdata", "photo-gps.jpg"))
	require.NoError(t, err)

	h.signIn(t, lena, "shopper", shopper, "")
	require.NoError(t, chromedp.Do(lena,
		chromedp.Navigate(h.url+"/app/claims/new"),
		chromedp.WaitVisible(chromedp.CSS(`#app-form`)),
		chromedp.Click(chromedp.CSS(`label[for="app-order-0"]`)),
		chromedp.Click(chromedp.CSS(`label[for="app-reason-counterfeit"]`)),
		chromedp.SendKeys(chromedp.CSS(`#app-description`), "The logo on the tongue is misprinted; photo attached."),
		chromedp.SetUploadFiles(chromedp.CSS(`#app-new-files`), []string{photo}),
	))
	h.screenshot(t, lena, "app-new-files")
	require.NoError(t, chromedp.Do(lena,
		chromedp.Click(chromedp.CSS(`button.app-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`.app-verdict`)),
	))
	loc, err := chromedp.Run(lena, chromedp.Location())
	require.NoError(t, err)
	require.Contains(t, loc, "/app/claims/clm_")
	require.Contains(t, text(t, lena, `p.notice`), "Your claim was sent.")
	require.Contains(t, text(t, lena, `#main`), "1 file was added.")
	require.True(t, imageLoaded(t, lena, `#evidence img`), "the thumbnail loads under the page's CSP")
	h.screenshot(t, lena, "app-claim-files")

	recs := h.shopperClaims(t, shopper)
	require.Len(t, recs, 1)
	id := recs[0].Claim.ID()
	files := h.files(t, id)
	require.Len(t, files, 1)
	require.Equal(t, evidence.TypeJPEG, files[0].ContentType)

	// The agent opens the claim: the thumbnail loads and leads to the
	// photo, which loads too.
	ana := h.person(t)
	h.signIn(t, ana, "agent", "ana", "")
	require.NoError(t, chromedp.Do(ana,
		chromedp.Navigate(h.url+"/console/claims/"+id),
		chromedp.WaitVisible(chromedp.CSS(`#evidence-files`)),
	))
	require.True(t, imageLoaded(t, ana, `#evidence-files img`))
	h.screenshot(t, ana, "claim-files")
	href, err := chromedp.Run(ana, chromedp.Evaluate[string](`document.querySelector("#evidence-files a.evidence-thumb").getAttribute("href")`))
	require.NoError(t, err)
	require.Equal(t, "/console/claims/"+id+"/evidence/"+files[0].ID, href)
	require.NoError(t, chromedp.Do(ana,
		chromedp.Click(chromedp.CSS(`#evidence-files a.evidence-thumb`)),
		chromedp.WaitReady(chromedp.CSS(`img`)),
	))
	loc, err = chromedp.Run(ana, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(loc, href), loc)
	require.True(t, imageLoaded(t, ana, `img`), "the full photo loads")
}
