package console_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/intel"
)

func TestBrowserRightsHolderRecordsAVerdict(t *testing.T) {
	t.Parallel()
	h := newBrowserHarness(t)
	w := h.seedIntel(t, store)
	id := w.confirmed[0].ID
	rh := h.person(t)

	h.signIn(t, rh, "rights_holder", w.holder, "")
	loc, err := chromedp.Run(rh, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(loc, "/console/brands"), loc)
	require.NoError(t, chromedp.Do(rh,
		chromedp.Click(chromedp.CSS(`main a[href="/console/brands/`+w.brand+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart`)),
	))
	totals := text(t, rh, `dl.brand-totals`)
	require.Contains(t, totals, "30.00 EUR")
	require.Contains(t, totals, "Shoppers\n3")
	bars, err := chromedp.Run(rh, chromedp.Evaluate[int](`document.querySelectorAll('svg.chart rect.bar[data-value="3"]').length`))
	require.NoError(t, err)
	require.Equal(t, 1, bars, "this month's bar holds the three confirmed claims")
	require.NotContains(t, text(t, rh, `main`), w.confirmed[0].Shopper, "the shopper is not named")
	h.screenshot(t, rh, "brand")

	// A link that is not https is refused next to its field; what was
	// typed stays, and nothing is recorded.
	form := `#claim-` + id + ` `
	require.NoError(t, chromedp.Do(rh,
		chromedp.Click(chromedp.CSS(form+`details.verdict-form summary`)),
		chromedp.Click(chromedp.CSS(`#verdict-`+id+`-verdict-counterfeit`)),
		chromedp.SendKeys(chromedp.CSS(`#verdict-`+id+`-note`), "The serial number is not one of ours."),
		chromedp.SendKeys(chromedp.CSS(`#verdict-`+id+`-document-url`), "http://acme.example/report.pdf"),
		chromedp.Click(chromedp.CSS(form+`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#verdict-`+id+`-document-url-error`)),
	))
	require.Contains(t, text(t, rh, `#verdict-`+id+`-document-url-error`), "must be an absolute https URL")
	note, err := chromedp.Run(rh, chromedp.Value(chromedp.CSS(`#verdict-`+id+`-note`)))
	require.NoError(t, err)
	require.Equal(t, "The serial number is not one of ours.", note)
	checked, err := chromedp.Run(rh, chromedp.Evaluate[bool](`document.getElementById("verdict-`+id+`-verdict-counterfeit").checked`))
	require.NoError(t, err)
	require.True(t, checked, "the verdict chosen stays chosen")
	vs, err := h.intel.ClaimVerdicts(context.Background(), id)
	require.NoError(t, err)
	require.Empty(t, vs)
	h.screenshot(t, rh, "brand-verdict-refused")

	require.NoError(t, chromedp.Do(rh,
		chromedp.SetValue(chromedp.CSS(`#verdict-`+id+`-document-url`), "https://acme.example/report.pdf"),
		chromedp.Click(chromedp.CSS(form+`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	))
	require.Contains(t, text(t, rh, `p.notice`), "Your verdict is recorded")
	require.Contains(t, text(t, rh, form+`dd.verdict`), "counterfeit: The serial number is not one of ours.")
	vs, err = h.intel.ClaimVerdicts(context.Background(), id)
	require.NoError(t, err)
	require.Len(t, vs, 1)
	require.Equal(t, "https://acme.example/report.pdf", vs[0].DocumentURL)

	// Another brand's page is not found.
	require.NoError(t, chromedp.Do(rh, chromedp.Navigate(h.url+"/console/brands/"+w.other), chromedp.WaitVisible(chromedp.CSS(`main h1`))))
	require.Equal(t, "Not found", text(t, rh, `main h1`))

	// On a phone.
	require.NoError(t, chromedp.Do(rh, phone(), chromedp.Navigate(h.url+"/console/brands/"+w.brand), chromedp.WaitVisible(chromedp.CSS(`svg.chart`))))
	h.screenshot(t, rh, "brand-phone")
	require.LessOrEqual(t, pageWidth(t, rh), 390, "the page itself does not scroll sideways on a phone")
}

// download clicks the link css names in ctx and returns the file the
// browser saved.
func download(t *testing.T, ctx context.Context, css string) []byte {
	t.Helper()
	dir := t.TempDir()
	done := make(chan string, 1)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	require.NoError(t, chromedp.ListenBrowser(lctx, func(ev any) {
		if e, ok := ev.(*browser.EventDownloadProgress); ok && e.State == browser.DownloadProgressStateCompleted {
			select {
			case done <- e.GUID:
			default:
			}
		}
	}))
	on := true
	_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
		DownloadPath: dir, EventsEnabled: &on})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(css))))
	select {
	case guid := <-done:
		b, err := os.ReadFile(filepath.Join(dir, guid))
		require.NoError(t, err)
		return b
	case <-time.After(20 * time.Second):
		t.Fatal("the download did not complete")
	}
	return nil
}

func TestBrowserInvestigatorTakesTheSignedPacket(t *testing.T) {
	t.Parallel()
	h := newBrowserHarness(t)
	w := h.seedIntel(t, store)
	caseID := h.ringCase(t, w)
	root, inv := h.person(t), h.person(t)

	// The admin refers the case.
	h.signIn(t, root, "admin", "root", "")
	require.NoError(t, chromedp.Do(root,
		chromedp.Navigate(h.url+"/console/cases/"+caseID),
		chromedp.WaitVisible(chromedp.CSS(`#move-status-referred`)),
		chromedp.Click(chromedp.CSS(`#move-status-referred`)),
		chromedp.SendKeys(chromedp.CSS(`#move-note`), "Two sellers paid into one account."),
		chromedp.Click(chromedp.CSS(`form[action$="/status"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	))
	require.Contains(t, text(t, root, `p.notice`), "You referred the case")
	require.Contains(t, text(t, root, `#funnel`), "open → referred")
	h.screenshot(t, root, "case-referred")

	// The investigator finds it among the cases, opens it and takes the
	// packet.
	h.signIn(t, inv, "enforcement", h.name("inv"), "")
	require.NoError(t, chromedp.Do(inv,
		chromedp.Click(chromedp.CSS(`table.cases a[href="/console/cases/`+caseID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#signing-key-id`)),
	))
	require.Equal(t, h.intel.Signer().KeyID(), text(t, inv, `#signing-key-id`))
	require.Contains(t, text(t, inv, `#links-h + ul`), "share a payment account")
	h.screenshot(t, inv, "case")
	zipped := download(t, inv, `a[href="/console/cases/`+caseID+`/packet.zip?format=json"]`)
	files := readPacket(t, string(zipped))
	name := "packet-" + caseID + ".json"
	require.True(t, intel.Verify(h.intel.Signer().PublicKey(), files[name], files[name+".sig"]), "the packet verifies with the published key")

	// Enforcement accepts it.
	require.NoError(t, chromedp.Do(inv,
		chromedp.Click(chromedp.CSS(`#move-status-accepted`)),
		chromedp.Click(chromedp.CSS(`form[action$="/status"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	))
	require.Contains(t, text(t, inv, `#funnel`), "referred → accepted")

	// The admin reads, in the access log, who took what.
	require.NoError(t, chromedp.Do(root,
		chromedp.Click(chromedp.CSS(`header nav a[href="/console/intelligence/access-log"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.access-log`)),
	))
	log := text(t, root, `table.access-log`)
	require.Contains(t, log, h.name("inv"))
	require.Contains(t, log, "case packet")
	h.screenshot(t, root, "access-log")

	require.NoError(t, chromedp.Do(inv, phone(), chromedp.Navigate(h.url+"/console/cases/"+caseID), chromedp.WaitVisible(chromedp.CSS(`#signing-key-id`))))
	h.screenshot(t, inv, "case-phone")
	require.LessOrEqual(t, pageWidth(t, inv), 390)
}
