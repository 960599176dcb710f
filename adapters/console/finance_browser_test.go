package console_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/console"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// newFinanceBrowser is newBrowserHarness on a database of the test's own,
// so a reconciliation run finds exactly the exception the test planted.
func newFinanceBrowser(t *testing.T) (*browserHarness, *financeBundle) {
	t.Helper()
	fb := setupFinance(t, utcToday().Add(9*time.Hour))
	return startBrowser(t, fb.testBundle), fb
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

// monthSeed is what seedMonth filed, for the checks on the pages.
type monthSeed struct {
	claims    int               // filed
	instant   []string          // refunded at once, refunded and charged: ids
	instantOn map[time.Time]int // how many of them on each day
	refunded  int64             // EUR minor units
	recovered int64             // EUR minor units
	days      int               // days with claims
}

// seedMonth files a month of claims before the test's own, so the
// overview has something to draw: on each of the last 29 days before
// today, a few small claims refunded at once (the refund made and the
// seller charged, as the workflow's steps do), now and then one sent to a
// person or rejected, and every few days a seller paying back what it
// owes. It moves the test clock back and returns it to where it was; the
// sandbox's records are dated when the refund was made, so a
// reconciliation of today sees only today's.
func (b *financeBundle) seedMonth(t *testing.T) monthSeed {
	t.Helper()
	ctx := context.Background()
	start := b.clock.Now()
	today := utcToday()
	rng := rand.New(rand.NewPCG(2026, 11))
	sellers := []string{"sel_northwind", "sel_harbor", "sel_lumen", "sel_fjord"}
	owed := map[string]int64{}
	s := monthSeed{instantOn: map[time.Time]int{}}
	at := func(tm time.Time) { b.clock.Add(tm.Sub(b.clock.Now())) }
	for back := 29; back >= 1; back-- {
		day := today.AddDate(0, 0, -back)
		at(day.Add(8 * time.Hour))
		kinds := slices.Repeat([]claim.Status{claim.StatusApproved}, 1+rng.IntN(4))
		if rng.IntN(2) == 0 {
			kinds = append(kinds, claim.StatusInReview)
		}
		if rng.IntN(4) == 0 {
			kinds = append(kinds, claim.StatusRejected)
		}
		rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
		for _, k := range kinds {
			b.clock.Add(time.Duration(20+rng.IntN(60)) * time.Minute)
			sel := sellers[rng.IntN(len(sellers))]
			switch k {
			case claim.StatusApproved: // up to 50.00 EUR: refunded at once
				amount := int64(500+rng.IntN(45)*100) + []int64{0, 50, 90, 99}[rng.IntN(4)]
				id := b.closed(t, sel, amount, "EUR")
				_, err := b.st.DB().Exec(`UPDATE sandbox_refunds SET created_at = $2 WHERE claim_id = $1`, id, b.clock.Now())
				require.NoError(t, err)
				s.instant = append(s.instant, id)
				s.instantOn[day]++
				s.refunded += amount
				owed[sel] += amount
			case claim.StatusInReview: // above the instant and the raised limit
				rec := b.file(t, claimSpec{seller: sel, amount: int64(16000 + rng.IntN(160)*100), reason: "damaged"})
				require.Equal(t, claim.StatusInReview, rec.Claim.Status())
			case claim.StatusRejected: // not delivered yet
				rec := b.file(t, claimSpec{seller: sel, amount: int64(1500 + rng.IntN(65)*100), reason: "not_received", notYetDue: true})
				require.Equal(t, claim.StatusRejected, rec.Claim.Status())
			}
			s.claims++
		}
		s.days++
		// Every few days a seller pays back what it owes.
		if back%4 == 1 {
			sel := sellers[(back/4)%len(sellers)]
			if owed[sel] > 0 {
				b.clock.Add(time.Hour)
				_, err := b.fin.RecordRecovery(ctx, claimflow.Viewer{Role: "finance", Subject: "fin"}, financeflow.RecoveryInput{
					SellerID: b.name(sel), Amount: owed[sel], Currency: "EUR", Method: "payment_received",
					Reference: fmt.Sprintf("bank-%d", back)})
				require.NoError(t, err)
				s.recovered += owed[sel]
				owed[sel] = 0
			}
		}
	}
	at(start)
	return s
}

// barDays counts, per chart and series, the days with a bar above zero.
func barDays(t *testing.T, ctx context.Context, charts ...string) map[string]map[string]int {
	t.Helper()
	ids := `["` + strings.Join(charts, `","`) + `"]`
	days, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]map[string]int](`Object.fromEntries(`+ids+`.map(id => {
		const days = {};
		for (const r of document.querySelectorAll("#" + id + "-h ~ svg rect.bar:not([data-value='0'])")) {
			(days[r.dataset.series] ??= new Set()).add(r.dataset.label);
			(days[""] ??= new Set()).add(r.dataset.label);
		}
		return [id, Object.fromEntries(Object.entries(days).map(([k, v]) => [k, v.size]))];
	}))`))
	require.NoError(t, err)
	return days
}

func TestBrowserFinanceDownloadsAndResolves(t *testing.T) {
	t.Parallel()
	h, fb := newFinanceBrowser(t)
	seed := fb.seedMonth(t)
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
	refunded, err := chromedp.Run(fin, chromedp.AttributeValue(chromedp.CSS(
		`#chart-money-eur-h ~ svg rect[data-label="`+today.Format("2 Jan")+`"][data-series="refunded"]`), "data-value"))
	require.NoError(t, err)
	require.Equal(t, "3500", refunded.Value, "35.00 EUR refunded today")
	eur := money.MustCurrency("EUR")
	page := h.download(t, fin, "/console/finance")
	require.Contains(t, page.Body, fmt.Sprintf("<dt>Claims filed</dt><dd>%d</dd>", seed.claims+3))
	require.Contains(t, page.Body, "<dt>Refunded to shoppers</dt><dd>"+money.Of(seed.refunded+3500, eur).String()+"</dd>")
	require.Contains(t, page.Body, "<dt>Recovered from sellers</dt><dd>"+money.Of(seed.recovered, eur).String()+"</dd>")
	// A month of activity: bars on most days, in every series.
	days := barDays(t, fin, "chart-claims", "chart-money-eur", "chart-share")
	for _, id := range []string{"chart-claims", "chart-money-eur", "chart-share"} {
		require.GreaterOrEqual(t, days[id][""], 10, "%s has bars on many days: %v", id, days)
	}
	require.Equal(t, seed.days+1, days["chart-claims"]["instant refund"], "claims refunded at once every day: %v", days)
	require.GreaterOrEqual(t, days["chart-claims"]["sent to review"], 5, "%v", days)
	require.GreaterOrEqual(t, days["chart-claims"]["rejected"], 3, "%v", days)
	require.GreaterOrEqual(t, days["chart-money-eur"]["recovered"], 3, "%v", days)
	h.screenshot(t, fin, "finance-overview")

	// The chargebacks, and their CSV through the page's link.
	require.NoError(t, chromedp.Do(fin,
		chromedp.Click(chromedp.CSS(`header nav a[href="/console/finance/chargebacks"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.chargebacks`)),
	))
	require.Contains(t, text(t, fin, `table.chargebacks caption`), fmt.Sprintf("%d chargebacks", len(seed.instant)+2))
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
	require.ElementsMatch(t, append([]string{lost, kept}, seed.instant...), ids)

	// The last three days, through the filter form.
	from := today.AddDate(0, 0, -2)
	require.NoError(t, chromedp.Do(fin,
		chromedp.SetValue(chromedp.CSS(`#cb-from`), from.Format(time.DateOnly)),
		chromedp.SetValue(chromedp.CSS(`#cb-to`), today.Format(time.DateOnly)),
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)),
		// The new page's CSV link carries the filter; the old page's did not.
		chromedp.WaitVisible(chromedp.CSS(`a[download][href*="from=`+from.Format(time.DateOnly)+`"]`)),
	))
	recent := 2 + seed.instantOn[from] + seed.instantOn[from.AddDate(0, 0, 1)]
	require.Contains(t, text(t, fin, `table.chargebacks caption`), fmt.Sprintf("%d chargebacks", recent))
	h.screenshot(t, fin, "finance-chargebacks")

	// The seller's statement, from the table.
	require.NoError(t, chromedp.Do(fin,
		chromedp.Click(chromedp.CSS(`table.chargebacks a[href="/console/finance/sellers/`+fb.name("sel_books")+`/statement"]`)),
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
