package console_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
	"github.com/claimsd/claimsd/workflows/webhookflow"
)

// TestPagesAreAccessible renders every page of every role with real data
// and checks the markup a screen reader and a keyboard depend on: a
// language, one main landmark and one h1, headings that do not skip a
// level, a label for every form control, a name for every link, button
// and chart, header cells in every table, and no id used twice.
func TestPagesAreAccessible(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_a11y")
	closed := b.fileClaim(t, "sel_a11y", shopper, 3000)
	review := b.reviewClaim(t, "sel_a11y")
	sellerID := b.name("sel_a11y")
	w := b.seedIntel(t, store)
	caseID := b.ringCase(t, w)
	_, _, err := b.intel.PutVerdict(context.Background(), claimflow.Viewer{Role: "rights_holder", Subject: w.holder}, w.brand,
		w.confirmed[0].ID, intel.VerdictParams{Verdict: "counterfeit", Note: "Not ours.", DocumentURL: "https://acme.example/r.pdf"})
	require.NoError(t, err)
	// Files on the claims the pages show: a photo and a PDF of the
	// shopper's, a photo of the seller's on a charge they may contest.
	charged := b.chargedClaim(t, "sel_a11y", b.clock.Now())
	for _, f := range []struct {
		v     claimflow.Viewer
		claim string
		file  string
	}{
		{claimflow.Viewer{Role: "shopper", Subject: shopper}, closed, "photo-gps.jpg"},
		{claimflow.Viewer{Role: "shopper", Subject: shopper}, closed, "receipt.pdf"},
		{claimflow.Viewer{Role: "seller", Subject: sellerID}, charged, "photo-ii.jpg"},
		{claimflow.Viewer{Role: "shopper", Subject: w.confirmed[0].Shopper}, w.confirmed[0].ID, "photo-gps.jpg"},
	} {
		up, err := b.proofs.Begin(context.Background(), f.v, f.claim)
		require.NoError(t, err)
		require.NoError(t, up.Store(context.Background(), bytes.NewReader(mediaFile(t, f.file))))
		_, err = up.Commit(context.Background(), "", "")
		require.NoError(t, err)
	}
	hook := b.newEndpoint(t, "a11y", "claim.submitted")
	seedDeliveries(t, store.DB(), hook.ID, closed, "pending", 1, "<html>busy</html>")
	off := b.newEndpoint(t, "a11y_off")
	on := false
	_, err = b.hooks.Update(context.Background(), off.ID, webhookflow.Patch{Enabled: &on})
	require.NoError(t, err)
	// The policy lab: a version in shadow, with a completed backtest that
	// changes claims, deciding beside the active one.
	version := b.draft(t, "a11y", stricter)
	bt := b.backtestNow(t, version, sellerID)
	require.NotZero(t, bt.Changed)
	queued, err := b.lab.StartBacktest(context.Background(), rita, version, policyflow.BacktestRequest{From: b.today(), To: b.today().Add(day)})
	require.NoError(t, err)
	_, err = b.lab.StartShadow(context.Background(), rita, version)
	require.NoError(t, err)
	pages := []struct{ role, sub, path string }{
		{"risk", "rita", "/console/policies"},
		{"risk", "rita", "/console/policies/new"},
		{"risk", "rita", "/console/policies/versions/" + version},
		{"risk", "rita", "/console/policies/versions/" + version + "/activate"},
		{"risk", "rita", "/console/policies/versions/" + version + "/shadow"},
		{"risk", "rita", "/console/policies/backtests/" + bt.ID},
		{"risk", "rita", "/console/policies/backtests/" + queued.ID},
		{"admin", "root", "/console/policies/backtests/" + bt.ID + "?change=instant_refund:manual_review"},
		{"admin", "root", "/console/policies/versions/" + b.draft(t, "a11y_untried", nil) + "/activate"},
		{"", "", "/console/signin"},
		{"", "", b.loginPath(t, "agent", "ana")},
		{"agent", "ana", "/console/queue"},
		{"agent", "ana", "/console/claims/" + review},
		{"agent", "ana", "/console/claims/" + closed},
		{"finance", "fin", "/console/finance"},
		{"finance", "fin", "/console/finance/chargebacks"},
		{"finance", "fin", "/console/finance/sellers/" + sellerID + "/statement"},
		{"finance", "fin", "/console/finance/reconciliations"},
		{"finance", "fin", "/console/finance/trial-balance"},
		{"seller", sellerID, "/console/seller"},
		{"seller", sellerID, "/console/seller/claims/" + closed},
		{"seller", sellerID, "/console/seller/claims/" + charged},
		{"agent", "ana", "/console/claims/" + charged},
		{"seller", sellerID, "/console/seller/statement"},
		{"shopper", shopper, "/app/claims"},
		{"shopper", shopper, "/app/claims/new"},
		{"shopper", shopper, "/app/claims/" + closed},
		{"admin", "root", "/console/admin/sessions"},
		{"admin", "root", "/console/admin/events"},
		{"admin", "root", "/console/admin/webhooks"},
		{"admin", "root", "/console/admin/webhooks/" + hook.ID},
		{"admin", "root", "/console/admin/webhooks/" + off.ID},
		{"rights_holder", w.holder, "/console/brands"},
		{"rights_holder", w.holder, "/console/brands/" + w.brand},
		{"rights_holder", w.holder, "/console/brands/" + w.brand + "?status=all"},
		{"rights_holder", w.holder, "/console/brands/" + w.brand + "/claims/" + w.confirmed[0].ID + "/photos"},
		{"admin", "root", "/console/brands/" + w.brand},
		{"enforcement", "inv", "/console/cases"},
		{"enforcement", "inv", "/console/cases/" + caseID},
		{"admin", "root", "/console/cases/" + caseID},
		{"admin", "root", "/console/intelligence/access-log"},
		{"agent", "ana", "/console/claims/" + w.confirmed[0].ID},
		{"shopper", shopper, "/console/queue"}, // the 403 page
		{"agent", "ana", "/console/nothing"},   // the 404 page
	}
	for _, p := range pages {
		var cookie *http.Cookie
		if p.role != "" {
			cookie = b.signIn(t, p.role, p.sub).cookie
		}
		r := b.do(t, http.MethodGet, p.path, cookie, nil)
		want := http.StatusOK
		switch p.path {
		case "/console/queue":
			if p.role == "shopper" {
				want = http.StatusForbidden
			}
		case "/console/nothing":
			want = http.StatusNotFound
		}
		require.Equal(t, want, r.Code, "%s as %s", p.path, p.role)
		require.Contains(t, r.Header.Get("Content-Type"), "text/html", p.path)
		doc, err := html.Parse(strings.NewReader(r.Body))
		require.NoError(t, err, p.path)
		for _, problem := range accessibilityProblems(doc) {
			t.Errorf("%s as %s: %s", p.path, p.role, problem)
		}
	}
}

// accessibilityProblems lists what is wrong with doc's markup.
func accessibilityProblems(doc *html.Node) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	attr := func(n *html.Node, key string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val, true
			}
		}
		return "", false
	}
	var text func(n *html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		if n.Type == html.ElementNode && n.Data == "img" {
			alt, _ := attr(n, "alt")
			return alt // an image names the link it is in by its text alternative
		}
		var sb strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			sb.WriteString(text(c))
		}
		return sb.String()
	}
	named := func(n *html.Node) bool {
		if v, _ := attr(n, "aria-label"); strings.TrimSpace(v) != "" {
			return true
		}
		if _, ok := attr(n, "aria-labelledby"); ok {
			return true
		}
		return strings.TrimSpace(text(n)) != ""
	}
	var all []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			all = append(all, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)

	ids, labelled := map[string]int{}, map[string]bool{}
	var h1, mains int
	last := 0
	for _, n := range all {
		if id, ok := attr(n, "id"); ok {
			ids[id]++
		}
		if n.Data == "label" {
			if f, ok := attr(n, "for"); ok {
				labelled[f] = true
			}
		}
	}
	for id, count := range ids {
		if count > 1 {
			add("id %q is used %d times", id, count)
		}
	}
	inLabel := func(n *html.Node) bool {
		for p := n.Parent; p != nil; p = p.Parent {
			if p.Type == html.ElementNode && p.Data == "label" {
				return true
			}
		}
		return false
	}
	for _, n := range all {
		switch n.Data {
		case "html":
			if lang, _ := attr(n, "lang"); lang == "" {
				add("<html> has no lang")
			}
		case "main":
			mains++
		case "h1", "h2", "h3", "h4", "h5", "h6":
			level := int(n.Data[1] - '0')
			if level == 1 {
				h1++
			}
			if last > 0 && level > last+1 {
				add("<%s> %q follows an <h%d>: a level is skipped", n.Data, strings.TrimSpace(text(n)), last)
			}
			last = level
		case "input", "select", "textarea":
			typ, _ := attr(n, "type")
			if typ == "hidden" || typ == "submit" || typ == "button" {
				continue
			}
			id, _ := attr(n, "id")
			_, aria := attr(n, "aria-label")
			_, ariaBy := attr(n, "aria-labelledby")
			if (id == "" || !labelled[id]) && !inLabel(n) && !aria && !ariaBy {
				name, _ := attr(n, "name")
				add("<%s name=%q> has no label", n.Data, name)
			}
		case "a":
			if !named(n) {
				href, _ := attr(n, "href")
				add("link to %q has no text", href)
			}
		case "button":
			if !named(n) {
				add("a button has no text")
			}
		case "img":
			alt, ok := attr(n, "alt")
			if !ok {
				src, _ := attr(n, "src")
				add("image %q has no alt", src)
			}
			_, w := attr(n, "width")
			_, h := attr(n, "height")
			if alt != "" && (!w || !h) {
				src, _ := attr(n, "src")
				add("image %q has no width and height: the page jumps as it loads", src)
			}
		case "svg":
			role, _ := attr(n, "role")
			hidden, _ := attr(n, "aria-hidden")
			if hidden == "true" {
				continue
			}
			hasTitle := false
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.Data == "title" && strings.TrimSpace(text(c)) != "" {
					hasTitle = true
				}
			}
			_, aria := attr(n, "aria-label")
			_, ariaBy := attr(n, "aria-labelledby")
			if role != "img" || (!hasTitle && !aria && !ariaBy) {
				add("a chart (<svg>) is not an image with a name")
			}
		case "table":
			th := false
			var find func(m *html.Node)
			find = func(m *html.Node) {
				if m.Type == html.ElementNode && m.Data == "th" {
					th = true
				}
				for c := m.FirstChild; c != nil; c = c.NextSibling {
					find(c)
				}
			}
			find(n)
			if !th {
				add("a table has no header cells")
			}
		}
	}
	if mains != 1 {
		add("%d <main> landmarks, want 1", mains)
	}
	if h1 != 1 {
		add("%d <h1> headings, want 1", h1)
	}
	return problems
}

// TestAccessibilityChecksCatchProblems: the checker itself finds each
// kind of problem in a page made to have them, and none in a clean one.
func TestAccessibilityChecksCatchProblems(t *testing.T) {
	t.Parallel()
	bad := `<!doctype html><html><body><h1>A</h1><h1>B</h1><h3>skipped</h3>
		<input name="q"><select name="s"></select><a href="/x"></a><button></button>
		<svg><rect/></svg><table><tr><td>1</td></tr></table><p id="x"></p><p id="x"></p>
		<a href="/photo"><img src="/t.jpg"></a><img src="/u.jpg" alt="A photo"></body></html>`
	doc, err := html.Parse(strings.NewReader(bad))
	require.NoError(t, err)
	got := strings.Join(accessibilityProblems(doc), "\n")
	for _, want := range []string{"no lang", "a level is skipped", `<input name="q"> has no label`,
		`<select name="s"> has no label`, `link to "/x" has no text`, "a button has no text",
		"not an image with a name", "no header cells", `id "x" is used 2 times`, "0 <main>", "2 <h1>",
		`image "/t.jpg" has no alt`, `link to "/photo" has no text`, `image "/u.jpg" has no width and height`} {
		require.Contains(t, got, want)
	}
	good := `<!doctype html><html lang="en"><body><main><h1>A</h1><h2>B</h2>
		<label for="q">Search</label><input id="q" name="q"><label>Kind <select name="s"></select></label>
		<a href="/x">Next</a><a href="/p"><img src="/p.jpg" alt="Photo 1" width="160" height="120"></a><button>Go</button><svg role="img"><title>Claims per day</title></svg>
		<table><tr><th>Day</th></tr></table></main></body></html>`
	doc, err = html.Parse(strings.NewReader(good))
	require.NoError(t, err)
	require.Empty(t, accessibilityProblems(doc))
}
