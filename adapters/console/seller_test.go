package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/console"
	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// chargedClaim files a claim a new shopper is refunded for at once (10.00
// EUR) against the seller sellerShort, then runs the refund and
// charge-seller steps as the workers would, at chargedAt: the seller's
// contest window closes 72 hours after it. It returns the claim's id.
func (b *testBundle) chargedClaim(t *testing.T, sellerShort string, chargedAt time.Time) string {
	t.Helper()
	ctx := context.Background()
	id := b.fileClaim(t, sellerShort, b.name(fmt.Sprintf("shp_%d", time.Now().UnixNano())), instantAmount)
	at := func() time.Time { return chargedAt }
	refund := &claimflow.RefundStep{Store: store, Now: at,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(store.DB(), sandbox.Config{})}}
	require.NoError(t, refund.Run(ctx, id, 1, 10))
	require.NoError(t, (&claimflow.ChargeSellerStep{Store: store, Now: at}).Run(ctx, id, 1, 10))
	cb := b.get(t, id).Claim.Chargeback()
	require.Equal(t, claim.ChargebackOpen, cb.Status)
	require.Equal(t, chargedAt.Add(72*time.Hour), cb.ContestBy)
	return id
}

// owed is what the seller owes by the ledger, as finance would read it.
func (b *testBundle) owed(t *testing.T, sellerID string) []money.Money {
	t.Helper()
	bal, err := b.svc.SellerBalance(context.Background(), agent, sellerID)
	require.NoError(t, err)
	return bal
}

func eur(t *testing.T, minor int64) money.Money {
	t.Helper()
	m, err := money.New(minor, "EUR")
	require.NoError(t, err)
	return m
}

// contestForm is a filled-in contest form.
func contestForm(statement string, links ...string) url.Values {
	f := url.Values{"statement": {statement}}
	for i, l := range links {
		n := fmt.Sprint(i + 1)
		f.Set("evidence_kind_"+n, "document")
		f.Set("evidence_url_"+n, l)
	}
	return f
}

func TestSellerOverviewShowsBalanceAndOpenWindows(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := b.clock.Now()
	sellerID := b.name("sel_over")
	sooner := b.chargedClaim(t, "sel_over", now.Add(-50*time.Hour)) // 22 hours left
	later := b.chargedClaim(t, "sel_over", now)                     // 3 days left
	closed := b.chargedClaim(t, "sel_over", now.Add(-80*time.Hour)) // closed 8 hours ago
	review := b.reviewClaim(t, "sel_over")
	elsewhere := b.chargedClaim(t, "sel_elsewhere", now)
	s := b.signIn(t, "seller", sellerID)

	r := b.do(t, http.MethodGet, "/console", s.cookie, nil)
	require.Equal(t, http.StatusSeeOther, r.Code)
	require.Equal(t, "/console/seller", r.Header.Get("Location"), "a seller lands on their overview")

	r = b.do(t, http.MethodGet, "/console/seller", s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	body := r.Body
	require.Contains(t, body, `<span class="amount">30.00 EUR</span>`, "three charges of 10.00 EUR stand")
	require.Equal(t, []money.Money{eur(t, 3000)}, b.owed(t, sellerID))

	// The open windows, soonest first; not the closed one, not another seller's.
	windows := section(t, body, "windows-h")
	require.Contains(t, windows, "2 charges open to contest")
	require.Contains(t, windows, sooner)
	require.Contains(t, windows, later)
	require.Less(t, strings.Index(windows, sooner), strings.Index(windows, later), "soonest to close first")
	require.NotContains(t, windows, closed)
	require.NotContains(t, windows, review)
	require.Contains(t, windows, "22 h left")
	require.Contains(t, windows, "3 d left")
	require.Contains(t, windows, `<tr class="seller-soon">`, "less than a day left is marked")
	require.Contains(t, windows, `href="/console/seller/claims/`+sooner+`#contest"`)

	// The claims against them, with status and the charge's.
	claims := section(t, body, "claims-h")
	for _, id := range []string{sooner, later, closed, review} {
		require.Contains(t, claims, `href="/console/seller/claims/`+id+`"`)
	}
	require.Contains(t, claims, "in review")
	require.Contains(t, claims, "not charged")
	require.Contains(t, claims, `<span class="badge chargeback-open">open</span>`)
	require.NotContains(t, body, elsewhere)

	// One claim per page: four pages, each linking to the next.
	seen := map[string]bool{}
	next := "/console/seller?limit=1"
	for page := 0; next != ""; page++ {
		require.Less(t, page, 5, "paging does not end")
		r = b.do(t, http.MethodGet, next, s.cookie, nil)
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		rows := regexp.MustCompile(`<td><a href="/console/seller/claims/([^"#]+)">`).FindAllStringSubmatch(section(t, r.Body, "claims-h"), -1)
		require.Len(t, rows, 1)
		seen[rows[0][1]] = true
		next = ""
		if m := regexp.MustCompile(`href="(/console/seller\?[^"]+)" rel="next"`).FindStringSubmatch(r.Body); m != nil {
			next = withoutFragment(strings.ReplaceAll(m[1], "&amp;", "&"))
		}
	}
	require.Equal(t, map[string]bool{sooner: true, later: true, closed: true, review: true}, seen)

	// An hour before the soonest window closes it shows the minutes.
	b.clock.Add(21*time.Hour + 20*time.Minute)
	s = b.signIn(t, "seller", sellerID)
	r = b.do(t, http.MethodGet, "/console/seller", s.cookie, nil)
	require.Contains(t, section(t, r.Body, "windows-h"), "40 min left")
	// Past it, only the later window is open.
	b.clock.Add(time.Hour)
	r = b.do(t, http.MethodGet, "/console/seller", s.cookie, nil)
	windows = section(t, r.Body, "windows-h")
	require.Contains(t, windows, "1 charge open to contest")
	require.NotContains(t, windows, sooner)
	require.Contains(t, windows, later)
}

func TestSellerOverviewOfAnUnknownSellerAndBadPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.signIn(t, "seller", b.name("sel_never_seen"))
	r := b.do(t, http.MethodGet, "/console/seller", s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, r.Body, "The platform has no seller account")

	b.chargedClaim(t, "sel_pages", b.clock.Now())
	s = b.signIn(t, "seller", b.name("sel_pages"))
	for _, tc := range []struct{ give, says string }{
		{"after=has%20space", "Page is not a page this console made"},
		{"limit=0", "Rows per page must be a whole number from 1 to 100"},
		{"limit=lots", "Rows per page must be a whole number from 1 to 100"},
	} {
		r := b.do(t, http.MethodGet, "/console/seller?"+tc.give, s.cookie, nil)
		require.Equal(t, http.StatusBadRequest, r.Code, tc.give)
		require.Contains(t, r.Body, tc.says)
	}
}

func TestSellerClaimPageHidesTheShopper(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.chargedClaim(t, "sel_view", b.clock.Now())
	rec := b.get(t, id)
	shopper := rec.Claim.ShopperID()
	evidenceURL := rec.Claim.Evidence()[0].URL
	require.NotEmpty(t, evidenceURL)
	s := b.signIn(t, "seller", b.name("sel_view"))

	r := b.do(t, http.MethodGet, "/console/seller/claims/"+id, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	body := r.Body
	require.NotContains(t, body, shopper, "a seller does not see who the shopper is")
	require.NotContains(t, body, evidenceURL, "evidence links are the shopper's")
	require.NotContains(t, body, "https://img.example/")
	require.NotContains(t, body, "The facts the decision used", "the facts hold the shopper's history")
	require.NotContains(t, body, "Seller risk score")

	require.Contains(t, body, "<h1>Claim <span class=\"mono\">"+id+"</span></h1>")
	require.Contains(t, body, "The logo is misprinted and the sole is glued, not stitched.")
	require.Contains(t, body, "The shopper attached 1 photo.")
	// The outcome in words written for sellers, not the reasons written
	// to the shopper (one rule with the API: claimflow's visibility).
	for _, reason := range rec.Decision.Reasons {
		require.NotContains(t, body, escaped(reason.Message), "the decision's reasons are the shopper's")
		require.NotContains(t, body, reason.Code)
	}
	require.Contains(t, section(t, body, "decision-h"), "The shopper was refunded 10.00 EUR and the same amount was charged to you.")
	// The timeline: the shopper's submission without who; the system's steps.
	timeline := section(t, body, "timeline-h")
	require.Contains(t, timeline, "<strong>submitted</strong>")
	require.Contains(t, timeline, "· shopper</div>", "the shopper is not named")
	require.Contains(t, timeline, "<strong>seller charged</strong>")
	// The charge and the form, while the window is open.
	charge := section(t, body, "charge-h")
	require.Contains(t, charge, "10.00 EUR")
	require.Contains(t, charge, `<span class="badge chargeback-open">open</span>`)
	require.Contains(t, charge, "3 d left")
	require.Contains(t, charge, `action="/console/seller/claims/`+id+`/contest"`)
	require.Contains(t, charge, `<label for="contest-statement">Statement</label>`)
	require.Contains(t, charge, `<label for="contest-evidence-url-3">Evidence link 3</label>`)

	// A claim not charged yet says so, without a form.
	review := b.reviewClaim(t, "sel_view")
	r = b.do(t, http.MethodGet, "/console/seller/claims/"+review, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body, "You are not charged unless it is approved")
	require.NotContains(t, r.Body, "/contest\"")
	require.NotContains(t, r.Body, b.get(t, review).Claim.ShopperID())

	r = b.do(t, http.MethodGet, "/console/seller/claims/clm_nothing_here", s.cookie, nil)
	require.Equal(t, http.StatusNotFound, r.Code)
}

func TestSellerContestsThroughTheForm(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	sellerID := b.name("sel_contest")
	id := b.chargedClaim(t, "sel_contest", b.clock.Now())
	owedBefore := b.owed(t, sellerID)
	s := b.signIn(t, "seller", sellerID)

	// The first line left empty, a link on the second.
	form := contestForm("Bought from the brand's distributor; the invoice is linked.", "", "https://docs.example/invoice.pdf")
	r := b.post(t, s, "/console/seller/claims/"+id+"/contest", form)
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	require.Equal(t, "/console/seller/claims/"+id+"?done=contested#charge", r.Header.Get("Location"))

	after := b.get(t, id)
	cb := after.Claim.Chargeback()
	require.Equal(t, claim.ChargebackContested, cb.Status)
	require.Equal(t, "Bought from the brand's distributor; the invoice is linked.", cb.Contest.Statement)
	require.Equal(t, []claim.Evidence{{Kind: "document", URL: "https://docs.example/invoice.pdf"}}, cb.Contest.Evidence)
	evs := b.events(t, id)
	require.Equal(t, "chargeback_contested", evs[len(evs)-1].Type)
	require.Equal(t, claim.Actor{Kind: "seller", ID: sellerID}, evs[len(evs)-1].Actor)
	require.Equal(t, owedBefore, b.owed(t, sellerID), "the charge stands until an agent settles it")

	page := b.do(t, http.MethodGet, withoutFragment(r.Header.Get("Location")), s.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	require.Contains(t, page.Body, "Your contest is recorded.")
	require.Contains(t, section(t, page.Body, "timeline-h"), "<strong>chargeback contested</strong>")
	charge := section(t, page.Body, "charge-h")
	require.Contains(t, charge, `<span class="badge chargeback-contested">contested</span>`)
	require.Contains(t, charge, "Bought from the brand&#39;s distributor; the invoice is linked.")
	require.Contains(t, charge, "https://docs.example/invoice.pdf", "the seller's own links are theirs to see")
	require.Contains(t, section(t, page.Body, "decision-h"), "You contested the charge of 10.00 EUR on")
	require.NotContains(t, page.Body, `/contest"`, "no second form")

	// A second contest is refused and changes nothing.
	before, beforeEvents := b.get(t, id), b.events(t, id)
	r = b.post(t, s, "/console/seller/claims/"+id+"/contest", contestForm("Again."))
	require.Equal(t, http.StatusConflict, r.Code)
	require.Contains(t, r.Body, "This charge is already contested; an agent will settle it, so your contest was not recorded. Nothing was changed.")
	b.requireUnchanged(t, id, before, beforeEvents)

	// An agent reverses it: the balance drops; the seller reads why, not who.
	_, err := b.svc.ResolveContest(ctx, claimflow.Viewer{Role: "agent", Subject: "ana"}, id, claimflow.ContestReverse,
		"Invoice confirmed with the distributor.", before.Claim.Version())
	require.NoError(t, err)
	require.Equal(t, []money.Money{eur(t, 0)}, b.owed(t, sellerID))
	page = b.do(t, http.MethodGet, "/console/seller/claims/"+id, s.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	require.Contains(t, page.Body, "An agent reversed the charge of 10.00 EUR after your contest")
	require.Contains(t, page.Body, "Invoice confirmed with the distributor.")
	require.Contains(t, page.Body, "by an agent on")
	require.NotRegexp(t, `\bana\b`, page.Body, "sellers see that an agent decided, not who")
	over := b.do(t, http.MethodGet, "/console/seller", s.cookie, nil)
	require.Contains(t, over.Body, `<span class="amount">0.00 EUR</span>`)
	require.Contains(t, over.Body, "No charge is open to contest right now.")
}

func TestSellerCannotSeeOrContestAnotherSellersClaim(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.chargedClaim(t, "sel_owner", b.clock.Now())
	b.chargedClaim(t, "sel_intruder", b.clock.Now())
	before, beforeEvents := b.get(t, id), b.events(t, id)
	s := b.signIn(t, "seller", b.name("sel_intruder"))

	r := b.do(t, http.MethodGet, "/console/seller/claims/"+id, s.cookie, nil)
	require.Equal(t, http.StatusNotFound, r.Code)
	require.Contains(t, r.Body, "Not found")
	require.NotContains(t, r.Body, "10.00 EUR")
	r = b.post(t, s, "/console/seller/claims/"+id+"/contest", contestForm("Not mine, but let me try."))
	require.Equal(t, http.StatusNotFound, r.Code)
	require.Contains(t, r.Body, "There is no such page, or nothing here you may see.")
	b.requireUnchanged(t, id, before, beforeEvents)
	require.NotContains(t, b.do(t, http.MethodGet, "/console/seller", s.cookie, nil).Body, id)
}

func TestOtherRolesCannotOpenSellerPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.chargedClaim(t, "sel_roles", b.clock.Now())
	before, beforeEvents := b.get(t, id), b.events(t, id)
	for _, role := range []string{"shopper", "agent", "finance", "admin"} {
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			sub := b.name("someone")
			if role == "shopper" {
				sub = before.Claim.ShopperID() // even the claim's own shopper
			}
			s := b.signInOn(t, role, sub, "/console/seller")
			for _, p := range []string{"/console/seller", "/console/seller/claims/" + id} {
				r := b.do(t, http.MethodGet, p, s.cookie, nil)
				require.Equal(t, http.StatusForbidden, r.Code, p)
				require.Contains(t, r.Body, "this page is for seller")
				require.NotContains(t, r.Body, id)
			}
			r := b.post(t, s, "/console/seller/claims/"+id+"/contest", contestForm("Not a seller."))
			require.Equal(t, http.StatusForbidden, r.Code)
			b.requireUnchanged(t, id, before, beforeEvents)
		})
	}
	// And a seller cannot open the agents' pages.
	s := b.signIn(t, "seller", b.name("sel_roles"))
	require.Equal(t, http.StatusForbidden, b.do(t, http.MethodGet, "/console/claims/"+id, s.cookie, nil).Code)
	require.Equal(t, http.StatusForbidden, b.do(t, http.MethodGet, "/console/queue", s.cookie, nil).Code)
}

func TestSellerContestWithoutItsFormTokenChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.name("sel_csrf")
	id := b.chargedClaim(t, "sel_csrf", b.clock.Now())
	before, beforeEvents := b.get(t, id), b.events(t, id)
	s := b.signIn(t, "seller", sellerID)
	other := b.signIn(t, "seller", sellerID) // the same seller, another sign-in
	for _, tc := range []struct{ name, token string }{
		{"missing", ""},
		{"wrong", "bm90LXRoZS10b2tlbg"},
		{"another sign-in's", other.csrf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := contestForm("The item was genuine.")
			if tc.token != "" {
				f.Set("csrf", tc.token)
			}
			r := b.do(t, http.MethodPost, "/console/seller/claims/"+id+"/contest", s.cookie, f)
			require.Equal(t, http.StatusForbidden, r.Code)
			require.Contains(t, r.Body, "nothing was done")
			b.requireUnchanged(t, id, before, beforeEvents)
			require.Equal(t, claim.ChargebackOpen, b.get(t, id).Claim.Chargeback().Status)
		})
	}
}

func TestSellerContestAfterTheWindowIsExplained(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.name("sel_late")
	id := b.chargedClaim(t, "sel_late", b.clock.Now())
	// The window closes; the seller had the page open from before.
	b.clock.Add(72*time.Hour + time.Minute)
	before, beforeEvents := b.get(t, id), b.events(t, id)
	require.Equal(t, claim.ChargebackOpen, before.Claim.Chargeback().Status, "the timer that makes it final has not run")
	s := b.signIn(t, "seller", sellerID)

	r := b.post(t, s, "/console/seller/claims/"+id+"/contest", contestForm("Sorry, I was away."))
	require.Equal(t, http.StatusConflict, r.Code, r.Body)
	require.Contains(t, r.Body, "The window to contest this charge has closed, so your contest was not recorded. Nothing was changed.")
	require.Contains(t, r.Body, "The window to contest it closed on")
	require.NotContains(t, r.Body, `/contest"`, "no form once the window has closed")
	b.requireUnchanged(t, id, before, beforeEvents)

	page := b.do(t, http.MethodGet, "/console/seller/claims/"+id, s.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	require.Contains(t, page.Body, "The window to contest it closed on")
	require.NotContains(t, page.Body, `/contest"`)
	require.NotContains(t, section(t, b.do(t, http.MethodGet, "/console/seller", s.cookie, nil).Body, "windows-h"), id)

	// Once the timer has made it final, the page says so.
	step := &claimflow.DeadlineStep{Store: store, Policy: b.svc.Policy(), Now: b.clock.Now}
	_, err := step.RunContest(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, claim.ChargebackFinal, b.get(t, id).Claim.Chargeback().Status)
	page = b.do(t, http.MethodGet, "/console/seller/claims/"+id, s.cookie, nil)
	require.Contains(t, page.Body, "did not contest it within the window")
	require.Contains(t, page.Body, "<strong>chargeback final</strong>")
}

func TestSellerContestBadInputNamesTheField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.name("sel_bad")
	id := b.chargedClaim(t, "sel_bad", b.clock.Now())
	before, beforeEvents := b.get(t, id), b.events(t, id)
	s := b.signIn(t, "seller", sellerID)
	withKind := func(f url.Values, n, kind string) url.Values { f.Set("evidence_kind_"+n, kind); return f }
	for _, tc := range []struct {
		name    string
		give    url.Values
		fieldID string
		says    string
	}{
		{"empty statement", contestForm(""), "contest-statement", "Statement is required"},
		{"blank statement", contestForm(" \n "), "contest-statement", "Statement is required"},
		{"statement too long", contestForm(strings.Repeat("s", claim.MaxStatement+1)), "contest-statement", "Statement must be at most 4000 characters"},
		{"not a link", contestForm("Genuine.", "invoice.pdf"), "contest-evidence-url-1", "Evidence link 1 must be an http or https link"},
		{"ftp link on the second line", contestForm("Genuine.", "", "ftp://docs.example/x"), "contest-evidence-url-2", "Evidence link 2 must be an http or https link"},
		{"link with a space", contestForm("Genuine.", "https://docs.example/a b"), "contest-evidence-url-1", "Evidence link 1 must be an http or https link"},
		{"unknown kind", withKind(contestForm("Genuine.", "", "", "https://docs.example/x"), "3", "hologram"), "contest-evidence-kind-3", "Kind of evidence 3 must be photo, video, document or link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := b.post(t, s, "/console/seller/claims/"+id+"/contest", tc.give)
			require.Equal(t, http.StatusUnprocessableEntity, r.Code, r.Body)
			require.Contains(t, r.Body, tc.says)
			require.Contains(t, r.Body, "Check the form:")
			require.Contains(t, r.Body, `id="`+tc.fieldID+`-error"`)
			require.Contains(t, r.Body, `aria-invalid="true"`)
			// The form as typed, on the claim as it is.
			if st := tc.give.Get("statement"); st == "Genuine." {
				require.Contains(t, r.Body, ">Genuine.</textarea>")
			}
			require.Contains(t, r.Body, `id="timeline"`)
			b.requireUnchanged(t, id, before, beforeEvents)
			require.Equal(t, claim.ChargebackOpen, b.get(t, id).Claim.Chargeback().Status)
		})
	}
}

func TestSellerStatement(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	sellerID := b.name("sel_statement")
	kept := b.chargedClaim(t, "sel_statement", b.clock.Now())
	reversed := b.chargedClaim(t, "sel_statement", b.clock.Now())
	_, err := b.svc.Contest(ctx, claimflow.Viewer{Role: "seller", Subject: sellerID}, reversed, claimflow.ContestRequest{Statement: "Genuine."})
	require.NoError(t, err)
	_, err = b.svc.ResolveContest(ctx, claimflow.Viewer{Role: "agent", Subject: "ana"}, reversed, claimflow.ContestReverse,
		"Invoice checked.", b.get(t, reversed).Claim.Version())
	require.NoError(t, err)
	s := b.signIn(t, "seller", sellerID)

	r := b.do(t, http.MethodGet, "/console/seller/statement", s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	totals := section(t, r.Body, "totals-h")
	require.Contains(t, totals, "<th scope=\"row\">EUR</th>")
	require.Contains(t, totals, "<strong>10.00 EUR</strong>", "owed at the end: one charge of two stands")
	require.Contains(t, r.Body, "3 entries, oldest first", "two charges and a reversal")
	require.Contains(t, r.Body, `href="/console/seller/claims/`+kept+`"`)
	require.Contains(t, r.Body, `href="/console/seller/claims/`+reversed+`"`)
	require.Contains(t, r.Body, `value="`+b.clock.Now().Format("2006-01")+`-01"`, "this month by default")

	// A period before any of it: nothing owed, nothing happened.
	r = b.do(t, http.MethodGet, "/console/seller/statement?from=2020-01-01&to=2020-01-31", s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body, "Nothing was owed and nothing happened in this period.")
	require.NotContains(t, r.Body, kept)

	for _, tc := range []struct{ give, fieldID, says string }{
		{"from=2026-13-01", "st-from", "From must be a date such as 2026-01-31"},
		{"from=yesterday", "st-from", "From must be a date such as 2026-01-31"},
		{"from=2026-02-01&to=2026-01-01", "st-to", "To must not be before From"},
		{"from=2020-01-01&to=2026-01-01", "st-to", "To must be within 366 days of From"},
		{"from=0001-01-01&to=0001-01-31", "st-from", "From must be on or after 1970-01-01"},
		{"from=9999-12-01&to=9999-12-31", "st-to", "To must be on or before 9999-12-30"},
	} {
		r := b.do(t, http.MethodGet, "/console/seller/statement?"+tc.give, s.cookie, nil)
		require.Equal(t, http.StatusBadRequest, r.Code, tc.give)
		require.Contains(t, r.Body, tc.says)
		require.Contains(t, r.Body, `id="`+tc.fieldID+`-error"`)
	}
	// Another role has no statement of its own here.
	fin := b.signInOn(t, "finance", "fin", "/console/seller/statement")
	require.Equal(t, http.StatusForbidden, b.do(t, http.MethodGet, "/console/seller/statement", fin.cookie, nil).Code)
}

// signInOn spends a sign-in link for role and sub and reads the form
// token from page (whatever its status: a 403 page carries it too), so
// the test does not depend on the role's own start page.
func (b *testBundle) signInOn(t *testing.T, role, sub, page string) signedIn {
	t.Helper()
	nonce, form := b.openLink(t, b.loginPath(t, role, sub))
	r := b.do(t, http.MethodPost, "/console/login", nonce, form)
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	var ck *http.Cookie
	for _, c := range r.Cookies {
		if c.Name == console.SessionCookie {
			ck = &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	require.NotNil(t, ck, "no session cookie set")
	m := csrfField.FindStringSubmatch(b.do(t, http.MethodGet, page, ck, nil).Body)
	require.NotNil(t, m, "no form token on %s", page)
	return signedIn{cookie: ck, csrf: m[1]}
}

// section returns the HTML of the page's section headed by the heading
// with id headingID: from the section's start to its end.
func section(t *testing.T, body, headingID string) string {
	t.Helper()
	i := strings.Index(body, `aria-labelledby="`+headingID+`"`)
	require.GreaterOrEqual(t, i, 0, "no section %s", headingID)
	j := strings.Index(body[i:], "</section>")
	require.GreaterOrEqual(t, j, 0)
	return body[i : i+j]
}
