package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/console"
)

// newFinanceBrowser is newBrowserHarness on a database of the test's own,
// so a reconciliation run finds exactly the exception the test planted.
func newFinanceBrowser(t *testing.T) (*browserHarness, *financeBundle) {
	t.Helper()
	fb := setupFinance(t, utcToday().Add(9*time.Hour))
	srv := httptest.NewServer(fb.e)
	t.Cleanup(srv.Close)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	require.NoError(t, chromedp.Do(browser), "start Chromium")
	return &browserHarness{testBundle: fb.testBundle, url: srv.URL, browser: browser}, fb
}

// download GETs href as the browser's signed-in person would: with the
// session cookie the browser holds.
func (h *browserHarness) download(t *testing.T, ctx context.Context, href string) response {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{h.url}})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, h.url+href, nil)
	require.NoError(t, err)
	found := false
	for _, c := range res.Cookies {
		if c.Name == console.SessionCookie {
			require.True(t, c.HTTPOnly)
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
			found = true
		}
	}
	require.True(t, found, "the browser holds the session cookie")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{Code: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

func TestBrowserFinanceDownloadsAndResolves(t *testing.T) {
	t.Parallel()
	h, fb := newFinanceBrowser(t)
	lost := fb.closed(t, "sel_books", 1000, "EUR")
	kept := fb.closed(t, "sel_books", 2500, "EUR")
	fb.file(t, claimSpec{seller: "sel_books", amount: reviewAmount})
	// The provider loses one refund: the reconciliation will find it.
	_, err := fb.st.DB().Exec(`DELETE FROM sandbox_refunds WHERE claim_id = $1`, lost)
	require.NoError(t, err)
	fb.clock.Add(time.Minute)
	today := utcToday()
	fin := h.person(t)

	// Finance signs in and lands on the overview, charts drawn.
	h.signIn(t, fin, "finance", "fin", "")
	loc, err := chromedp.Run(fin, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(loc, "/console/finance"), loc)
	require.NoError(t, chromedp.Do(fin, chromedp.WaitVisible(chromedp.CSS(`svg.chart rect.bar`))))
	instant, err := chromedp.Run(fin, chromedp.AttributeValue(chromedp.CSS(
		`#chart-claims-h ~ svg rect[data-label="`+today.Format("2 Jan")+`"][data-series="instant refund"]`), "data-value"))
	require.NoError(t, err)
	require.Equal(t, "2", instant.Value)
	height, err := chromedp.Run(fin, chromedp.Evaluate[float64](
		`document.querySelector('#chart-claims-h ~ svg rect[data-series="instant refund"][data-value="2"]').getBoundingClientRect().height`))
	require.NoError(t, err)
	require.Greater(t, height, 10.0, "the day's bar is drawn, not just written down")
	require.Contains(t, text(t, fin, `dl.figures`), "35.00 EUR")
	h.screenshot(t, fin, "finance-overview")

	// The chargebacks, and their CSV through the page's link.
	require.NoError(t, chromedp.Do(fin,
		chromedp.Click(chromedp.CSS(`header nav a[href="/console/finance/chargebacks"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.chargebacks`)),
	))
	require.Contains(t, text(t, fin, `table.chargebacks caption`), "2 chargebacks")
	h.screenshot(t, fin, "finance-chargebacks")
	href, err := chromedp.Run(fin, chromedp.AttributeValue(chromedp.CSS(`a[download][href^="/console/finance/chargebacks.csv"]`), "href"))
	require.NoError(t, err)
	require.True(t, href.Exists)
	dl := h.download(t, fin, href.Value)
	require.Equal(t, http.StatusOK, dl.Code, dl.Body)
	require.Equal(t, "text/csv; charset=utf-8; header=present", dl.Header.Get("Content-Type"))
	require.Contains(t, dl.Header.Get("Content-Disposition"), `attachment; filename="chargebacks-`)
	recs := readCSV(t, dl.Body)
	require.Equal(t, "record", recs[0][0])
	var ids []string
	for _, r := range recs[1:] {
		if r[0] == "chargeback" {
			ids = append(ids, r[column(t, recs[0], "claim_id")])
		}
	}
	require.ElementsMatch(t, []string{lost, kept}, ids)

	// The seller's statement, from the table.
	require.NoError(t, chromedp.Do(fin,
		chromedp.Click(chromedp.CSS(`table.chargebacks a[href$="/statement"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.statement`)),
	))
	require.Contains(t, text(t, fin, `.owed`), "35.00 EUR")
	h.screenshot(t, fin, "finance-statement")

	// Reconcile today through the form; the job runs; resolve the exception.
	d := today.Format(time.DateOnly)
	require.NoError(t, chromedp.Do(fin,
		chromedp.Navigate(h.url+"/console/finance/reconciliations"),
		chromedp.WaitVisible(chromedp.CSS(`#run-from`)),
		chromedp.SetValue(chromedp.CSS(`#run-from`), d),
		chromedp.SetValue(chromedp.CSS(`#run-to`), d),
		chromedp.Click(chromedp.CSS(`form[action="/console/finance/reconciliations"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.status-line`)),
	))
	loc, err = chromedp.Run(fin, chromedp.Location())
	require.NoError(t, err)
	_, runID, ok := strings.Cut(loc, "/console/finance/reconciliations/")
	require.True(t, ok, loc)
	require.Contains(t, text(t, fin, `.status-line`), "queued")
	require.NoError(t, fb.fin.RunReconciliation(context.Background(), runID, false)) // as its job does
	require.NoError(t, chromedp.Do(fin, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`form.resolve textarea`))))
	require.Contains(t, text(t, fin, `.exception`), "missing at provider")
	require.Contains(t, text(t, fin, `.exception`), lost)
	h.screenshot(t, fin, "finance-reconciliation")

	const note = "Sandbox lost the refund record; re-sent by hand, ticket FIN-7."
	require.NoError(t, chromedp.Do(fin,
		chromedp.SendKeys(chromedp.CSS(`form.resolve textarea`), note),
		chromedp.Click(chromedp.CSS(`form.resolve button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice[role="status"]`)),
	))
	require.Contains(t, text(t, fin, `p.notice[role="status"]`), "The exception is resolved")
	require.Contains(t, text(t, fin, `.exception.resolved`), note)
	require.Contains(t, text(t, fin, `.exception.resolved`), "Resolved by finance:fin")
	h.screenshot(t, fin, "finance-reconciliation-resolved")
	require.Zero(t, fb.count(t, `SELECT open_exceptions FROM reconciliation_runs WHERE id = $1`, runID))

	require.NoError(t, chromedp.Do(fin,
		chromedp.Click(chromedp.CSS(`header nav a[href="/console/finance/trial-balance"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.trial`)),
	))
	require.Contains(t, text(t, fin, `main`), "balanced")
	h.screenshot(t, fin, "finance-trial-balance")

	// The overview on a phone: the charts shrink, the page does not scroll sideways.
	require.NoError(t, chromedp.Do(fin, phone(), chromedp.Navigate(h.url+"/console/finance"),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart`))))
	h.screenshot(t, fin, "finance-overview-phone")
	require.LessOrEqual(t, pageWidth(t, fin), 390)
}
