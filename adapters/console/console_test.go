package console_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/adapters/web"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/console"
	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

func TestLoginLinkSignsInOnceAndOnlyOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.loginPath(t, "agent", "ana")

	// Opening the link (a person, or a chat preview) does not spend it:
	// it sets only the page's nonce.
	for range 2 {
		r := b.do(t, http.MethodGet, p, nil, nil)
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		require.Contains(t, r.Body, "signs you in as <strong>ana</strong> (agent)")
		require.Contains(t, r.Body, `<form method="post" action="/console/login">`)
		require.Len(t, r.Cookies, 1)
		require.Equal(t, console.LoginNonceCookie, r.Cookies[0].Name)
		require.True(t, r.Cookies[0].HttpOnly)
		require.Equal(t, http.SameSiteStrictMode, r.Cookies[0].SameSite)
	}

	nonce, form := b.openLink(t, p)
	r := b.do(t, http.MethodPost, "/console/login", nonce, form)
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	require.Equal(t, "/console", r.Header.Get("Location"))
	var ck *http.Cookie
	for _, c := range r.Cookies {
		if c.Name == console.SessionCookie {
			ck = c
		} else {
			require.Equal(t, console.LoginNonceCookie, c.Name)
			require.Negative(t, c.MaxAge, "the nonce is cleared once used")
		}
	}
	require.NotNil(t, ck)
	require.Equal(t, console.SessionCookie, ck.Name)
	require.True(t, ck.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, ck.SameSite)
	require.Equal(t, "/", ck.Path)
	require.False(t, ck.Secure, "plain HTTP: a Secure cookie would never come back")
	require.InDelta(t, console.SessionTTL.Seconds(), float64(ck.MaxAge), 2)

	home := b.do(t, http.MethodGet, "/console", &http.Cookie{Name: ck.Name, Value: ck.Value}, nil)
	require.Equal(t, http.StatusSeeOther, home.Code)
	require.Equal(t, "/console/queue", home.Header.Get("Location"))
	queue := b.do(t, http.MethodGet, "/console/queue", &http.Cookie{Name: ck.Name, Value: ck.Value}, nil)
	require.Equal(t, http.StatusOK, queue.Code, queue.Body)
	require.Contains(t, queue.Body, "Signed in as <strong>ana</strong>")

	// The second use is refused, with a page that says why.
	again := b.do(t, http.MethodPost, "/console/login", nonce, form)
	require.Equal(t, http.StatusGone, again.Code)
	require.Contains(t, again.Body, "This sign-in link was already used")
	require.Empty(t, again.Cookies)
}

func TestLoginLinkRacedSignsInOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	nonce, form := b.openLink(t, b.loginPath(t, "agent", "ana"))
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = b.do(t, http.MethodPost, "/console/login", nonce, form).Code
		}()
	}
	wg.Wait()
	signedIn := 0
	for _, c := range codes {
		if c == http.StatusSeeOther {
			signedIn++
		} else {
			require.Equal(t, http.StatusGone, c)
		}
	}
	require.Equal(t, 1, signedIn, "codes %v", codes)
}

func TestLoginLinkRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	apiToken, err := b.keys.Mint("agent", "ana", time.Hour, b.clock.Now())
	require.NoError(t, err)
	other := auth.Keys{Secret: []byte("another-secret-another-secret-another!")}
	forgedURL, err := console.LoginURL(other, "http://console.test", "agent", "ana", time.Hour, b.clock.Now())
	require.NoError(t, err)
	forged, err := url.Parse(forgedURL)
	require.NoError(t, err)
	expiredURL, err := console.LoginURL(b.keys, "http://console.test", "agent", "ana", 15*time.Minute, b.clock.Now().Add(-time.Hour))
	require.NoError(t, err)
	expired, err := url.Parse(expiredURL)
	require.NoError(t, err)
	good, err := url.Parse(b.loginPath(t, "agent", "ana"))
	require.NoError(t, err)
	tampered := good.Query().Get("t")
	tampered = tampered[:len(tampered)-3] + "AAA"
	// A nonce from a good link's page, so the POSTs below are judged on
	// their links.
	nonce, nonceForm := b.openLink(t, b.loginPath(t, "agent", "ana"))

	for _, tc := range []struct {
		name   string
		give   string
		status int
		says   string
	}{
		{"expired", expired.Query().Get("t"), http.StatusGone, "This sign-in link has expired"},
		{"signed with another secret", forged.Query().Get("t"), http.StatusBadRequest, "This is not a valid sign-in link"},
		{"an API token is not a link", apiToken, http.StatusBadRequest, "This is not a valid sign-in link"},
		{"tampered", tampered, http.StatusBadRequest, "This is not a valid sign-in link"},
		{"missing", "", http.StatusBadRequest, "This is not a valid sign-in link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page := b.do(t, http.MethodGet, "/console/login?t="+url.QueryEscape(tc.give), nil, nil)
			require.Equal(t, tc.status, page.Code)
			require.Contains(t, page.Body, tc.says)
			require.NotContains(t, page.Body, `action="/console/login"`, "no sign-in button for a bad link")
			r := b.do(t, http.MethodPost, "/console/login", nonce, url.Values{"t": {tc.give}, "n": nonceForm["n"]})
			require.Equal(t, tc.status, r.Code)
			require.Contains(t, r.Body, tc.says)
			require.Empty(t, r.Cookies)
		})
	}

	// A sign-in link is not an API token either.
	req := b.do(t, http.MethodGet, "/v1/review-queue", nil, nil)
	require.Equal(t, http.StatusUnauthorized, req.Code)
	_, err = b.keys.Verify(good.Query().Get("t"), b.clock.Now())
	require.ErrorIs(t, err, auth.ErrTokenInvalid)

	// Service accounts have no console pages: no link signs them in, so
	// none lands on a page that is not there. Rights holders and
	// enforcement have theirs.
	_, err = console.LoginURL(b.keys, "http://console.test", "service", "someone", time.Hour, b.clock.Now())
	require.ErrorContains(t, err, "has no console")
	for _, role := range []string{"rights_holder", "enforcement"} {
		_, err = console.LoginURL(b.keys, "http://console.test", role, "someone", time.Hour, b.clock.Now())
		require.NoError(t, err, role)
	}
	_, err = console.LoginURL(b.keys, "ftp://console.test", "agent", "ana", time.Hour, b.clock.Now())
	require.ErrorContains(t, err, "base URL")
}

func TestLoginFromAnotherSiteIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	nonce, form := b.openLink(t, b.loginPath(t, "agent", "ana"))
	req, err := http.NewRequest(http.MethodPost, "/console/login", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := newRecorder(b, req)
	require.Equal(t, http.StatusForbidden, rec.Code)
	require.Empty(t, rec.Result().Cookies())

	// A browser that does not say where a form came from: another site's
	// page can post a link, but not the sign-in page's nonce, so nobody
	// is signed in, whether the nonce is missing, only in the form, or
	// only in the cookie.
	attacker, attackerForm := b.openLink(t, b.loginPath(t, "agent", "mallory"))
	for name, post := range map[string]func() response{
		"no nonce": func() response {
			return b.do(t, http.MethodPost, "/console/login", nil, url.Values{"t": attackerForm["t"]})
		},
		"form only":          func() response { return b.do(t, http.MethodPost, "/console/login", nil, attackerForm) },
		"another page's one": func() response { return b.do(t, http.MethodPost, "/console/login", nonce, attackerForm) },
	} {
		r := post()
		require.Equal(t, http.StatusForbidden, r.Code, name)
		require.Contains(t, r.Body, "did not come from your sign-in link", name)
		require.Empty(t, r.Cookies, name)
	}
	// Both links are still good for their owners.
	require.Equal(t, http.StatusSeeOther, b.do(t, http.MethodPost, "/console/login", nonce, form).Code)
	require.Equal(t, http.StatusSeeOther, b.do(t, http.MethodPost, "/console/login", attacker, attackerForm).Code)
}

func TestNoSessionRedirectsToSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.signIn(t, "agent", "ana")
	badSig := &http.Cookie{Name: console.SessionCookie, Value: s.cookie.Value[:len(s.cookie.Value)-2] + "xx"}
	// The same signature on a payload that says admin.
	payload, sig, ok := strings.Cut(s.cookie.Value, ".")
	require.True(t, ok)
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	require.NoError(t, err)
	require.Contains(t, string(raw), "|agent|ana|")
	admin := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "|agent|", "|admin|", 1)))
	otherRole := &http.Cookie{Name: console.SessionCookie, Value: admin + "." + sig}
	for _, tc := range []struct {
		name   string
		cookie *http.Cookie
	}{
		{"no cookie", nil},
		{"bad signature", badSig},
		{"tampered payload", otherRole},
		{"garbage", &http.Cookie{Name: console.SessionCookie, Value: "garbage"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, p := range []string{"/console", "/console/queue", "/console/claims/clm_x"} {
				r := b.do(t, http.MethodGet, p, tc.cookie, nil)
				require.Equal(t, http.StatusSeeOther, r.Code, p)
				require.Equal(t, "/console/signin", r.Header.Get("Location"))
			}
			r := b.do(t, http.MethodPost, "/console/claims/clm_x/override", tc.cookie, url.Values{"csrf": {s.csrf}})
			require.Equal(t, http.StatusSeeOther, r.Code)
		})
	}
	page := b.do(t, http.MethodGet, "/console/signin", nil, nil)
	require.Equal(t, http.StatusOK, page.Code)
	require.Contains(t, page.Body, "claimsd token --role agent --sub your-name --login-url")
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.signIn(t, "agent", "ana")
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/console/queue", s.cookie, nil).Code)
	b.clock.Add(console.SessionTTL + time.Minute)
	r := b.do(t, http.MethodGet, "/console/queue", s.cookie, nil)
	require.Equal(t, http.StatusSeeOther, r.Code)
	require.Equal(t, "/console/signin", r.Header.Get("Location"))
}

func TestOtherRolesCannotOpenAgentPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reviewClaim(t, "sel_roles")
	before, beforeEvents := b.get(t, id), b.events(t, id)
	for _, role := range []string{"shopper", "seller", "finance"} {
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			sub := b.name("someone")
			if role == "shopper" {
				sub = before.Claim.ShopperID() // even the claim's own shopper
			}
			s := b.signIn(t, role, sub)
			pages := map[string]string{"/console/queue": "this page is for agent, admin",
				"/console/claims/" + id: "this page is for agent, finance, admin"}
			if role == "finance" {
				// Finance may read a claim (its pages link to it), not work the queue.
				delete(pages, "/console/claims/"+id)
				r := b.do(t, http.MethodGet, "/console/claims/"+id, s.cookie, nil)
				require.Equal(t, http.StatusOK, r.Code)
				require.NotContains(t, r.Body, `action="/console/claims/`+id+`/override"`, "finance sees no form to act")
			}
			for p, msg := range pages {
				r := b.do(t, http.MethodGet, p, s.cookie, nil)
				require.Equal(t, http.StatusForbidden, r.Code, p)
				require.Contains(t, r.Header.Get("Content-Type"), "text/html")
				require.Contains(t, r.Body, msg)
				require.NotContains(t, r.Body, id)
			}
			r := b.post(t, s, "/console/claims/"+id+"/override", url.Values{"action": {"approve"}, "note": {"x"},
				"version": {strconv.FormatInt(before.Claim.Version(), 10)}})
			require.Equal(t, http.StatusForbidden, r.Code)
			b.requireUnchanged(t, id, before, beforeEvents)
		})
	}
}

func TestAdminMayLookButNotAct(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reviewClaim(t, "sel_admin")
	before, beforeEvents := b.get(t, id), b.events(t, id)
	s := b.signIn(t, "admin", "root")
	page := b.do(t, http.MethodGet, "/console/claims/"+id, s.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	require.Contains(t, page.Body, "Only agents act on claims")
	require.NotContains(t, page.Body, `action="/console/claims/`+id+`/override"`)
	r := b.post(t, s, "/console/claims/"+id+"/override", url.Values{"action": {"approve"}, "note": {"Looks right."},
		"version": {strconv.FormatInt(before.Claim.Version(), 10)}})
	require.Equal(t, http.StatusForbidden, r.Code)
	b.requireUnchanged(t, id, before, beforeEvents)
}

func TestFormsWithoutTheirTokenChangeNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reviewClaim(t, "sel_csrf")
	before, beforeEvents := b.get(t, id), b.events(t, id)
	ana := b.signIn(t, "agent", "ana")
	ben := b.signIn(t, "agent", "ben")
	form := func() url.Values {
		return url.Values{"action": {"approve"}, "note": {"Checked with the brand."}, "version": {strconv.FormatInt(before.Claim.Version(), 10)}}
	}
	for _, tc := range []struct {
		name  string
		token string
	}{
		{"missing", ""},
		{"wrong", "bm90LXRoZS10b2tlbg"},
		{"not base64", "%%%"},
		{"another session's", ben.csrf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := form()
			if tc.token != "" {
				f.Set("csrf", tc.token)
			}
			r := b.do(t, http.MethodPost, "/console/claims/"+id+"/override", ana.cookie, f)
			require.Equal(t, http.StatusForbidden, r.Code)
			require.Contains(t, r.Body, "nothing was done")
			r = b.do(t, http.MethodPost, "/console/claims/"+id+"/contest-resolution", ana.cookie,
				url.Values{"csrf": {tc.token}, "outcome": {"uphold"}, "note": {"x"}, "version": {"1"}})
			require.Equal(t, http.StatusForbidden, r.Code)
			b.requireUnchanged(t, id, before, beforeEvents)
		})
	}
}

func TestQueuePageShowsWaitingClaims(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.reviewClaim(t, "sel_queue")
	second := b.reviewClaim(t, "sel_queue")
	other := b.reviewClaim(t, "sel_elsewhere")
	instant := b.fileClaim(t, "sel_queue", b.name("shp_fast"), instantAmount)
	s := b.signIn(t, "agent", "ana")
	sellerID := b.name("sel_queue")

	r := b.do(t, http.MethodGet, "/console/queue?seller_id="+sellerID, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, r.Body, `href="/console/claims/`+first+`"`)
	require.Contains(t, r.Body, `href="/console/claims/`+second+`"`)
	require.NotContains(t, r.Body, other, "filtered by seller")
	require.NotContains(t, r.Body, instant, "refunded at once: nothing to review")
	require.Contains(t, r.Body, "200.00 EUR")
	require.Contains(t, r.Body, "counterfeit")
	require.Contains(t, r.Body, "in 24 h")
	require.Regexp(t, `value="`+regexp.QuoteMeta(sellerID)+`"`, r.Body, "the filter keeps what was typed")
	require.NotContains(t, r.Body, `class="overdue"`)

	// One per page: the first page links to the second, which holds the other claim.
	// (Both have the same deadline, so the queue orders them by id.)
	if second < first {
		first, second = second, first
	}
	r = b.do(t, http.MethodGet, "/console/queue?limit=1&seller_id="+sellerID, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body, first)
	require.NotContains(t, r.Body, second)
	m := regexp.MustCompile(`href="(/console/queue\?[^"]+)" rel="next"`).FindStringSubmatch(r.Body)
	require.NotNil(t, m, "no next page link")
	next := strings.ReplaceAll(m[1], "&amp;", "&")
	r = b.do(t, http.MethodGet, next, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body, second)
	require.NotContains(t, r.Body, `href="/console/claims/`+first+`"`)
	require.Contains(t, r.Body, `href="/console/queue">First page</a>`)

	// Amount filters are typed in major units of the currency.
	r = b.do(t, http.MethodGet, "/console/queue?currency=EUR&min_amount=200.01&seller_id="+sellerID, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.NotContains(t, r.Body, first)
	r = b.do(t, http.MethodGet, "/console/queue?currency=eur&min_amount=200&max_amount=200.00&seller_id="+sellerID, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body, first)

	// Past the deadline the claims are highlighted as overdue.
	b.clock.Add(25 * time.Hour)
	s = b.signIn(t, "agent", "ana")
	r = b.do(t, http.MethodGet, "/console/queue?seller_id="+sellerID, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body, `<tr class="overdue">`)
	require.Contains(t, r.Body, "1 h overdue")
}

func TestQueueFiltersRefusedWithTheirField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.signIn(t, "agent", "ana")
	for _, tc := range []struct {
		give, field, says string
	}{
		{"reason=stolen", "q-reason", "Claim reason must be one of the listed reasons"},
		{"seller_id=has+space", "q-seller-id", "Seller may hold only letters"},
		{"currency=XXX", "q-currency", "Currency must be a currency code"},
		{"min_amount=10", "q-currency", "Currency is needed to filter by amount"},
		{"currency=EUR&min_amount=1.234", "q-min-amount", "Minimum amount must be an amount in EUR"},
		{"currency=EUR&max_amount=-5", "q-max-amount", "Maximum amount must be an amount in EUR"},
		{"currency=EUR&min_amount=20&max_amount=10", "q-min-amount", "Minimum amount must not be more than the maximum amount"},
		{"currency=EUR&max_amount=10000000000.01", "q-max-amount", "Maximum amount must be at most 10000000000.00 EUR"},
		{"currency=JPY&min_amount=999999999999999", "q-min-amount", "Minimum amount must be at most 1000000000000 JPY"},
		{"cursor=nonsense", "", "Page is not a page this console made"},
		{"limit=0", "", "Rows per page must be a whole number from 1 to 200"},
	} {
		t.Run(tc.give, func(t *testing.T) {
			t.Parallel()
			r := b.do(t, http.MethodGet, "/console/queue?"+tc.give, s.cookie, nil)
			require.Equal(t, http.StatusBadRequest, r.Code)
			require.Contains(t, r.Body, tc.says)
			if tc.field != "" {
				require.Contains(t, r.Body, `id="`+tc.field+`-error"`)
				require.Contains(t, r.Body, `aria-invalid="true"`)
			}
		})
	}
}

func TestClaimPageShowsEverythingThatExplainsIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_new")
	earlier := b.fileClaim(t, "sel_detail", shopper, instantAmount)
	id := b.reviewClaim(t, "sel_detail")
	rec := b.get(t, id)
	s := b.signIn(t, "agent", "ana")

	r := b.do(t, http.MethodGet, "/console/claims/"+id, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	body := r.Body
	require.Contains(t, body, "<h1>Claim <span class=\"mono\">"+id+"</span></h1>")
	require.Contains(t, body, "in review")
	require.Contains(t, body, "200.00 EUR")
	for _, reason := range rec.Decision.Reasons {
		require.Contains(t, body, escaped(reason.Message), "the decision's reason sentences")
		require.Contains(t, body, reason.Code)
	}
	require.Contains(t, body, "policy "+rec.Decision.PolicyVersion)
	require.Contains(t, body, "The facts the decision used")
	require.Contains(t, body, "<dt>Seller risk score</dt><dd>10 of 100</dd>")
	require.Contains(t, body, "The logo is misprinted and the sole is glued, not stitched.")
	require.Contains(t, body, "https://img.example/")
	// The shopper's and the seller's history: the earlier claim, refunded at once.
	require.Contains(t, body, `href="/console/claims/`+earlier+`"`)
	require.Contains(t, body, "1 other claim")
	require.Contains(t, body, "<dt>Name</dt><dd>Seller sel_detail</dd>")
	require.Contains(t, body, "<dt>amount</dt><dd>200.00 EUR</dd>", "amounts in the timeline read as money")
	// The timeline and the form, on the version shown.
	require.Contains(t, body, `id="timeline"`)
	require.Contains(t, body, "<strong>submitted</strong>")
	require.Contains(t, body, "<strong>decided</strong>")
	require.Contains(t, body, `name="version" value="`+strconv.FormatInt(rec.Claim.Version(), 10)+`"`)
	require.Contains(t, body, `value="approve"`)
	require.Contains(t, body, `value="reject"`)
	require.Contains(t, body, `<label for="override-note">Note</label>`)
	require.NotContains(t, body, "Settle the seller")

	r = b.do(t, http.MethodGet, "/console/claims/clm_nothing_here", s.cookie, nil)
	require.Equal(t, http.StatusNotFound, r.Code)
	require.Contains(t, r.Body, "Not found")
	require.Contains(t, r.Body, "Signed in as <strong>ana</strong>")
	r = b.do(t, http.MethodGet, "/console/claims/bad%20id", s.cookie, nil)
	require.Equal(t, http.StatusNotFound, r.Code)
}

// escaped escapes s as html/template writes text.
func escaped(s string) string {
	r := strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "+", "&#43;")
	return r.Replace(s)
}

func TestOverrideThroughTheForm(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		action string
		extra  url.Values
		status claim.Status
		done   string
	}{
		{"approve", nil, claim.StatusApproved, "You approved the claim"},
		{"reject", url.Values{"reason_code": {"item_authentic"}}, claim.StatusRejected, "You rejected the claim"},
	} {
		t.Run(tc.action, func(t *testing.T) {
			t.Parallel()
			id := b.reviewClaim(t, "sel_form_"+tc.action)
			before := b.get(t, id)
			s := b.signIn(t, "agent", "ana")
			form := url.Values{"action": {tc.action}, "note": {"Serial number checked with the brand."},
				"version": {strconv.FormatInt(before.Claim.Version(), 10)}, "reason_code": {"duplicate"}}
			for k, v := range tc.extra {
				form[k] = v
			}
			r := b.post(t, s, "/console/claims/"+id+"/override", form)
			require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
			require.Equal(t, "/console/claims/"+id+"?done="+tc.action+"#timeline", r.Header.Get("Location"))

			after := b.get(t, id)
			require.Equal(t, tc.status, after.Claim.Status())
			if tc.action == "reject" {
				require.Equal(t, "item_authentic", after.Claim.Rejection().String())
			}
			evs := b.events(t, id)
			last := evs[len(evs)-1]
			require.Equal(t, "override", last.Type)
			require.Equal(t, claim.Actor{Kind: "agent", ID: "ana"}, last.Actor)
			require.Equal(t, "Serial number checked with the brand.", last.Note)

			page := b.do(t, http.MethodGet, withoutFragment(r.Header.Get("Location")), s.cookie, nil)
			require.Equal(t, http.StatusOK, page.Code)
			require.Contains(t, page.Body, tc.done)
			require.Contains(t, page.Body, "<strong>override</strong>")
			require.Contains(t, page.Body, "Serial number checked with the brand.")
			require.Contains(t, page.Body, `<span class="mono">ana</span>`)
		})
	}
}

func TestStaleFormShowsTheClaimAsItIsNow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reviewClaim(t, "sel_stale")
	seen := strconv.FormatInt(b.get(t, id).Claim.Version(), 10)
	ana := b.signIn(t, "agent", "ana")
	ben := b.signIn(t, "agent", "ben")

	r := b.post(t, ana, "/console/claims/"+id+"/override", url.Values{"action": {"approve"}, "note": {"Genuine fake."}, "version": {seen}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	after, afterEvents := b.get(t, id), b.events(t, id)

	// Ben acts on the page he loaded before Ana's decision.
	r = b.post(t, ben, "/console/claims/"+id+"/override", url.Values{"action": {"reject"}, "reason_code": {"item_authentic"},
		"note": {"Looks genuine to me."}, "version": {seen}})
	require.Equal(t, http.StatusConflict, r.Code)
	require.Contains(t, r.Body, "Someone else acted on this claim first; here is what it is now: approved, version "+strconv.FormatInt(after.Claim.Version(), 10))
	require.Contains(t, r.Body, "<strong>override</strong>", "the timeline as it is now, with Ana's decision")
	require.Contains(t, r.Body, "Genuine fake.")
	require.Contains(t, r.Body, "Looks genuine to me.", "Ben's note is kept")
	require.Contains(t, r.Body, "No action is open on a claim that is approved")
	b.requireUnchanged(t, id, after, afterEvents)
}

func TestActionThatNoLongerFitsIsExplained(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.fileClaim(t, "sel_fits", b.name("shp_fast"), instantAmount)
	before, beforeEvents := b.get(t, id), b.events(t, id)
	require.Equal(t, claim.StatusApproved, before.Claim.Status())
	s := b.signIn(t, "agent", "ana")
	r := b.post(t, s, "/console/claims/"+id+"/override", url.Values{"action": {"approve"}, "note": {"Again."},
		"version": {strconv.FormatInt(before.Claim.Version(), 10)}})
	require.Equal(t, http.StatusConflict, r.Code)
	require.Contains(t, r.Body, "That action does not fit the claim as it is now (approved)")
	b.requireUnchanged(t, id, before, beforeEvents)
}

func TestBadFormInputNamesTheFieldAndChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reviewClaim(t, "sel_bad")
	before, beforeEvents := b.get(t, id), b.events(t, id)
	version := strconv.FormatInt(before.Claim.Version(), 10)
	s := b.signIn(t, "agent", "ana")
	for _, tc := range []struct {
		name    string
		give    url.Values
		fieldID string
		says    string
	}{
		{"missing note", url.Values{"action": {"approve"}, "note": {"  "}, "version": {version}}, "override-note", "Note is required"},
		{"unknown decision", url.Values{"action": {"frobnicate"}, "note": {"x"}, "version": {version}}, "override-action", "Decision must be approve, reject"},
		{"no decision", url.Values{"note": {"x"}, "version": {version}}, "override-action", "Decision is required"},
		{"reject without a reason", url.Values{"action": {"reject"}, "note": {"x"}, "version": {version}}, "override-reason-code", "Reason shown to the shopper is required"},
		{"unknown reason", url.Values{"action": {"reject"}, "reason_code": {"vibes"}, "note": {"x"}, "version": {version}}, "override-reason-code", "Reason shown to the shopper must be one of"},
		{"no version", url.Values{"action": {"approve"}, "note": {"x"}}, "", "Version is missing from the form"},
		{"bad version", url.Values{"action": {"approve"}, "note": {"x"}, "version": {"abc"}}, "", "Version is missing from the form"},
		{"note too long", url.Values{"action": {"approve"}, "note": {strings.Repeat("n", claim.MaxNote+1)}, "version": {version}}, "override-note", "Note must be at most 2000 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := b.post(t, s, "/console/claims/"+id+"/override", tc.give)
			require.Equal(t, http.StatusUnprocessableEntity, r.Code, r.Body)
			require.Contains(t, r.Body, tc.says)
			require.Contains(t, r.Body, "Check the form:")
			if tc.fieldID != "" {
				require.Contains(t, r.Body, `id="`+tc.fieldID+`-error"`)
			}
			// The page is the claim again, with the form as typed.
			require.Contains(t, r.Body, `id="timeline"`)
			if n := tc.give.Get("note"); n == "x" {
				require.Contains(t, r.Body, ">x</textarea>")
			}
			b.requireUnchanged(t, id, before, beforeEvents)
		})
	}
	r := b.post(t, s, "/console/claims/clm_nothing_here/override", url.Values{"action": {"approve"}, "note": {"x"}, "version": {"1"}})
	require.Equal(t, http.StatusNotFound, r.Code)
}

func TestContestSettledThroughTheForm(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	id := b.fileClaim(t, "sel_contest", b.name("shp_fast"), instantAmount)
	now := b.clock.Now
	refund := &claimflow.RefundStep{Store: store, Now: now,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(store.DB(), sandbox.Config{})}}
	require.NoError(t, refund.Run(ctx, id, 1, 10))
	require.NoError(t, (&claimflow.ChargeSellerStep{Store: store, Now: now}).Run(ctx, id, 1, 10))
	sellerID := b.name("sel_contest")
	_, err := b.svc.Contest(ctx, claimflow.Viewer{Role: "seller", Subject: sellerID}, id,
		claimflow.ContestRequest{Statement: "Bought from the brand distributor; invoice attached."})
	require.NoError(t, err)
	before, beforeEvents := b.get(t, id), b.events(t, id)
	s := b.signIn(t, "agent", "ana")

	page := b.do(t, http.MethodGet, "/console/claims/"+id, s.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	require.Contains(t, page.Body, "Settle the seller")
	require.Contains(t, page.Body, "Bought from the brand distributor; invoice attached.")
	require.Contains(t, page.Body, "contested")

	version := strconv.FormatInt(before.Claim.Version(), 10)
	r := b.post(t, s, "/console/claims/"+id+"/contest-resolution", url.Values{"outcome": {"maybe"}, "note": {"x"}, "version": {version}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Code)
	require.Contains(t, r.Body, "Outcome must be uphold or reverse")
	require.Contains(t, r.Body, `id="contest-outcome-error"`)
	r = b.post(t, s, "/console/claims/"+id+"/contest-resolution", url.Values{"outcome": {"reverse"}, "note": {""}, "version": {version}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Code)
	require.Contains(t, r.Body, `id="contest-note-error"`)
	b.requireUnchanged(t, id, before, beforeEvents)

	r = b.post(t, s, "/console/claims/"+id+"/contest-resolution", url.Values{"outcome": {"reverse"},
		"note": {"Invoice confirmed with the distributor."}, "version": {version}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	after := b.get(t, id)
	require.Equal(t, claim.ChargebackReversed, after.Claim.Chargeback().Status)
	page = b.do(t, http.MethodGet, withoutFragment(r.Header.Get("Location")), s.cookie, nil)
	require.Contains(t, page.Body, "You reversed the charge")
	require.Contains(t, page.Body, "<strong>contest reversed</strong>")
	require.NotContains(t, page.Body, "Settle the seller")
}

func TestSecurityHeadersOnEveryPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reviewClaim(t, "sel_headers")
	ana := b.signIn(t, "agent", "ana")
	shopper := b.signIn(t, "shopper", b.name("shp_x"))
	for _, tc := range []struct {
		name   string
		method string
		path   string
		cookie *http.Cookie
		form   url.Values
		status int
	}{
		{"sign-in explanation", http.MethodGet, "/console/signin", nil, nil, 200},
		{"link page", http.MethodGet, b.loginPath(t, "agent", "ana"), nil, nil, 200},
		{"redirect to sign in", http.MethodGet, "/console/queue", nil, nil, 303},
		{"queue", http.MethodGet, "/console/queue", ana.cookie, nil, 200},
		{"claim", http.MethodGet, "/console/claims/" + id, ana.cookie, nil, 200},
		{"forbidden", http.MethodGet, "/console/queue", shopper.cookie, nil, 403},
		{"home redirects", http.MethodGet, "/console", shopper.cookie, nil, 303},
		{"shopper's claims", http.MethodGet, "/app/claims", shopper.cookie, nil, 200},
		{"shopper's new claim", http.MethodGet, "/app/claims/new", shopper.cookie, nil, 200},
		{"form without token", http.MethodPost, "/console/claims/" + id + "/override", ana.cookie, url.Values{}, 403},
		{"no such page", http.MethodGet, "/console/nothing", ana.cookie, nil, 404},
		{"no such app page", http.MethodGet, "/app/nothing", nil, nil, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := b.do(t, tc.method, tc.path, tc.cookie, tc.form)
			require.Equal(t, tc.status, r.Code, r.Body)
			require.Equal(t, "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
				r.Header.Get("Content-Security-Policy"))
			require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
			require.Equal(t, "no-referrer", r.Header.Get("Referrer-Policy"))
			require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
			require.Equal(t, "DENY", r.Header.Get("X-Frame-Options"))
			if tc.status != 303 {
				require.Contains(t, r.Header.Get("Content-Type"), "text/html")
				require.NotContains(t, r.Body, "<script", "no script, and no inline style, under this policy")
				require.NotContains(t, r.Body, "style=")
			}
		})
	}

	page := b.do(t, http.MethodGet, "/console/signin", nil, nil)
	m := regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)">`).FindStringSubmatch(page.Body)
	require.NotNil(t, m)
	css := b.do(t, http.MethodGet, m[1], nil, nil)
	require.Equal(t, http.StatusOK, css.Code)
	require.Equal(t, "text/css; charset=utf-8", css.Header.Get("Content-Type"))
	require.Equal(t, "nosniff", css.Header.Get("X-Content-Type-Options"))
	require.Contains(t, css.Body, ":focus-visible")
	require.Equal(t, http.StatusNotFound, b.do(t, http.MethodGet, "/console/static/../console.go", nil, nil).Code)
}

// TestOversizedHeadersGetTheErrorPage: a browser whose cookies are over
// the engine's header limit gets the console's own page saying what to do,
// not the API's JSON, and a form sent that way changes nothing.
func TestOversizedHeadersGetTheErrorPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reviewClaim(t, "sel_big")
	before, beforeEvents := b.get(t, id), b.events(t, id)
	ana := b.signIn(t, "agent", "ana")
	junk := &http.Cookie{Name: "junk", Value: strings.Repeat("j", web.MaxHeaderBytes)}
	for _, tc := range []struct {
		method, path string
		form         url.Values
	}{
		{method: http.MethodGet, path: "/console/queue"},
		{method: http.MethodGet, path: "/console/signin"},
		{method: http.MethodGet, path: "/console/nothing"},
		{method: http.MethodGet, path: "/app/claims"},
		{method: http.MethodGet, path: "/console/static/console.css"},
		{method: http.MethodPost, path: "/console/claims/" + id + "/override", form: url.Values{"action": {"approve"}, "note": {"x"},
			"version": {strconv.FormatInt(before.Claim.Version(), 10)}, "csrf": {ana.csrf}}},
	} {
		var body io.Reader
		if tc.form != nil {
			body = strings.NewReader(tc.form.Encode())
		}
		req := httptest.NewRequest(tc.method, tc.path, body)
		if tc.form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.AddCookie(ana.cookie)
		req.AddCookie(junk)
		rec := newRecorder(b, req)
		require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, rec.Code, "%s %s: %s", tc.method, tc.path, rec.Body)
		require.Contains(t, rec.Header().Get("Content-Type"), "text/html", tc.path)
		require.Contains(t, rec.Body.String(), "Clear this site&#39;s cookies", tc.path)
		require.Equal(t, "no-store", rec.Header().Get("Cache-Control"), tc.path)
	}
	b.requireUnchanged(t, id, before, beforeEvents)
}

// withoutFragment drops the #fragment a browser keeps to itself.
func withoutFragment(u string) string {
	p, _, _ := strings.Cut(u, "#")
	return p
}
