package console_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// browserHarness is the real router on a real HTTP server, driven by a
// headless Chromium on a fresh profile. Each person gets a browser context
// of their own (their own cookies), as two people on two machines would.
type browserHarness struct {
	*testBundle
	url     string
	browser context.Context
}

// chromiumPath finds Chromium. The browser tests do not skip without it:
// they fail and say how to install it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CLAIMSD_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("CLAIMSD_CHROMIUM is %s, which is not a program that runs: %v", p, err)
		}
		return p
	}
	if p := findChromium(); p != "" {
		return p
	}
	// As root on Debian, install it, as the README's test command promises
	// to set up what the tests need.
	if err := installChromium(); err != nil {
		t.Logf("installing Chromium: %v", err)
	} else if p := findChromium(); p != "" {
		return p
	}
	t.Fatal("the browser tests need Chromium and it is not installed: run `apt-get install -y chromium` " +
		"(Debian; /usr/bin/chromium), or set CLAIMSD_CHROMIUM to a Chrome or Chromium binary")
	return ""
}

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// installChromium installs Debian's chromium package, once per test
// binary, when running as root with apt-get.
var installChromium = sync.OnceValue(func() error {
	if os.Geteuid() != 0 {
		return errors.New("not root")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return errors.New("no apt-get")
	}
	install := func() error {
		cmd := exec.Command("apt-get", "install", "-y", "chromium")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get install chromium: %w: %s", err, out)
		}
		return nil
	}
	if install() == nil {
		return nil
	}
	if out, err := exec.Command("apt-get", "update").CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get update: %w: %s", err, out)
	}
	return install()
})

func newBrowserHarness(t *testing.T) *browserHarness {
	t.Helper()
	return startBrowser(t, setup(t))
}

// startBrowser serves b's router and starts a headless Chromium for it.
func startBrowser(t *testing.T, b *testBundle) *browserHarness {
	t.Helper()
	srv := httptest.NewServer(b.e)
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
	// The first run starts the browser; it must not carry a timeout.
	require.NoError(t, chromedp.Do(browser), "start Chromium")
	return &browserHarness{testBundle: b, url: srv.URL, browser: browser}
}

// person opens a browser context of its own, with a time limit for all it
// does.
func (h *browserHarness) person(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(h.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// signIn opens a fresh sign-in link and presses the button, as the person
// would, and waits for their first page.
func (h *browserHarness) signIn(t *testing.T, ctx context.Context, role, sub, shot string) {
	t.Helper()
	link := h.url + h.loginPath(t, role, sub)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`main form button[type="submit"]`)),
	))
	h.screenshot(t, ctx, shot)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`header .who`)),
	))
}

// text returns the visible text of the first element matching css.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	require.NoError(t, err, css)
	return s
}

// screenshotDir is where screenshots go when asked for: the repository's
// docs/screenshots, for the README.
const screenshotDir = "../../docs/screenshots"

// wantScreenshot reports whether the screenshot called name is to be
// written, by CLAIMSD_SCREENSHOTS (asked): "1" writes every one, a
// comma-separated list of names ("claim,claim-phone") only those, and
// anything else (unset, in particular) none, so a plain test run never
// rewrites the committed pictures.
func wantScreenshot(name, asked string) bool {
	if name == "" {
		return false
	}
	if asked == "1" {
		return true
	}
	for _, n := range strings.Split(asked, ",") {
		if strings.TrimSpace(n) == name {
			return true
		}
	}
	return false
}

// screenshot saves the whole page as docs/screenshots/<name>.png when
// CLAIMSD_SCREENSHOTS asks for it (see wantScreenshot).
func (h *browserHarness) screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !wantScreenshot(name, os.Getenv("CLAIMSD_SCREENSHOTS")) {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(screenshotDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644))
}

// TestScreenshotsOnlyWhenAsked: without CLAIMSD_SCREENSHOTS no picture is
// written; with it, all of them or only those named.
func TestScreenshotsOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, asked string
		want        bool
	}{
		{"claim", "", false},
		{"claim", "0", false},
		{"claim", "true", false},
		{"claim", "1", true},
		{"", "1", false},
		{"claim", "claim,claim-phone", true},
		{"claim-phone", "claim, claim-phone", true},
		{"claim-conflict", "claim,claim-phone", false},
		{"queue", "claim", false},
	} {
		require.Equal(t, tc.want, wantScreenshot(tc.name, tc.asked), "%q with CLAIMSD_SCREENSHOTS=%q", tc.name, tc.asked)
	}
}

// phone makes the viewport a 390-pixel-wide phone's.
func phone() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))
}

// pageWidth is how wide the page lays out, once it has loaded and been
// painted.
func pageWidth(t *testing.T, ctx context.Context) int {
	t.Helper()
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`new Promise(done => {
		const measure = () => document.readyState === "complete"
			? requestAnimationFrame(() => requestAnimationFrame(() => done(document.documentElement.scrollWidth)))
			: setTimeout(measure, 20);
		measure();
	})`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	return w
}

func TestBrowserAgentApprovesFromTheQueue(t *testing.T) {
	t.Parallel()
	h := newBrowserHarness(t)
	id := h.reviewClaim(t, "sel_northwind")
	h.fileClaim(t, "sel_northwind", h.name("shp_other"), reviewAmount)
	sellerID := h.name("sel_northwind")
	ana := h.person(t)

	h.signIn(t, ana, "agent", "ana", "sign-in")
	loc, err := chromedp.Run(ana, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(loc, "/console/queue"), loc)

	// Filter the queue to the seller, through the form. The unfiltered
	// queue has a table too: the filtered page is the one whose field
	// the server filled in (typing sets the field's value, not its
	// attribute).
	require.NoError(t, chromedp.Do(ana,
		chromedp.SendKeys(chromedp.CSS(`#q-seller-id`), sellerID),
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#q-seller-id[value="`+sellerID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.queue`)),
	))
	require.Contains(t, text(t, ana, `table.queue caption`), "2 claims waiting")
	require.Contains(t, text(t, ana, `table.queue`), "200.00 EUR")
	h.screenshot(t, ana, "queue")

	require.NoError(t, chromedp.Do(ana,
		chromedp.Click(chromedp.CSS(`a[href="/console/claims/`+id+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#timeline`)),
	))
	require.Contains(t, text(t, ana, `h1`), id)
	require.Contains(t, text(t, ana, `.reasons`), "A person will review this claim.")
	require.NotContains(t, text(t, ana, `#timeline`), "override")
	h.screenshot(t, ana, "claim")

	require.NoError(t, chromedp.Do(ana,
		chromedp.Click(chromedp.CSS(`#override-action-approve`)),
		chromedp.SendKeys(chromedp.CSS(`#override-note`), "Serial number checked with the brand: not theirs."),
		chromedp.Click(chromedp.CSS(`form[action$="/override"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	))
	require.Contains(t, text(t, ana, `p.notice`), "You approved the claim")
	require.Contains(t, text(t, ana, `.status-line`), "approved")
	timeline := text(t, ana, `#timeline`)
	require.Contains(t, timeline, "override")
	require.Contains(t, timeline, "in review → approved")
	require.Contains(t, timeline, "Serial number checked with the brand: not theirs.")
	h.screenshot(t, ana, "claim-approved")

	// The same pages on a phone.
	require.NoError(t, chromedp.Do(ana, phone(), chromedp.Navigate(h.url+"/console/queue?seller_id="+sellerID),
		chromedp.WaitVisible(chromedp.CSS(`table.queue`))))
	h.screenshot(t, ana, "queue-phone")
	require.LessOrEqual(t, pageWidth(t, ana), 390, "the page itself does not scroll sideways on a phone; wide tables scroll in their own box")
	require.NoError(t, chromedp.Do(ana, chromedp.Navigate(h.url+"/console/claims/"+id), chromedp.WaitVisible(chromedp.CSS(`#timeline`))))
	h.screenshot(t, ana, "claim-phone")
	require.LessOrEqual(t, pageWidth(t, ana), 390)
}

func TestBrowserStaleFormGetsTheConflictMessage(t *testing.T) {
	t.Parallel()
	h := newBrowserHarness(t)
	id := h.reviewClaim(t, "sel_stale")
	ana, ben := h.person(t), h.person(t)
	h.signIn(t, ana, "agent", "ana", "")
	h.signIn(t, ben, "agent", "ben", "")

	// Both open the claim; Ana decides first.
	for _, p := range []context.Context{ana, ben} {
		require.NoError(t, chromedp.Do(p, chromedp.Navigate(h.url+"/console/claims/"+id), chromedp.WaitVisible(chromedp.CSS(`#override-note`))))
	}
	require.NoError(t, chromedp.Do(ana,
		chromedp.Click(chromedp.CSS(`#override-action-approve`)),
		chromedp.SendKeys(chromedp.CSS(`#override-note`), "Brand confirmed the serial is fake."),
		chromedp.Click(chromedp.CSS(`form[action$="/override"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	))

	// Ben's page still shows the claim in review; his rejection is refused.
	require.NoError(t, chromedp.Do(ben,
		chromedp.Click(chromedp.CSS(`#override-action-reject`)),
		chromedp.SetValue(chromedp.CSS(`#override-reason-code`), "item_authentic"),
		chromedp.SendKeys(chromedp.CSS(`#override-note`), "Looks genuine to me."),
		chromedp.Click(chromedp.CSS(`form[action$="/override"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.alert.conflict`)),
	))
	conflict := text(t, ben, `.alert.conflict`)
	require.Contains(t, conflict, "Someone else acted on this claim first; here is what it is now: approved")
	require.Contains(t, conflict, "Looks genuine to me.")
	require.Contains(t, text(t, ben, `#timeline`), "Brand confirmed the serial is fake.")
	require.Contains(t, text(t, ben, `.status-line`), "approved")
	h.screenshot(t, ben, "claim-conflict")

	rec := h.get(t, id)
	require.Equal(t, "approved", rec.Claim.Status().String())
	require.Empty(t, rec.Claim.Rejection().String())
}
