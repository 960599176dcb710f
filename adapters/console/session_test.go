package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/console"
	"github.com/claimsd/claimsd/domain/validation"
)

// requireOpensNothing checks that cookie opens no page and acts on no
// form of the console: every route for signed-in people sends it to sign
// in, and the pages anyone may open do not show anyone signed in.
func (b *testBundle) requireOpensNothing(t *testing.T, s signedIn) {
	t.Helper()
	for _, r := range b.routes {
		path := strings.NewReplacer(":id", "clm_nobody", ":seq", "1").Replace(r.Path)
		var form url.Values
		if r.Method == http.MethodPost {
			form = url.Values{"csrf": {s.csrf}}
		}
		res := b.do(t, r.Method, path, s.cookie, form)
		if len(r.Roles) == 0 {
			require.NotContains(t, res.Body, "Signed in as", "%s %s shows someone signed in", r.Method, r.Path)
			continue
		}
		require.Equal(t, http.StatusSeeOther, res.Code, "%s %s: %s", r.Method, r.Path, res.Body)
		require.Equal(t, "/console/signin", res.Header.Get("Location"), "%s %s", r.Method, r.Path)
	}
}

// newRequest is a form sent with the cookies given.
func newRequest(t *testing.T, method, path string, form url.Values, cookies ...*http.Cookie) *http.Request {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return req
}

// requireOpens checks that the session still opens its role's start page.
func (b *testBundle) requireOpens(t *testing.T, s signedIn, path string) {
	t.Helper()
	res := b.do(t, http.MethodGet, path, s.cookie, nil)
	require.Equal(t, http.StatusOK, res.Code, "%s: %s", path, res.Body)
	require.Contains(t, res.Body, "Signed in as")
}

func TestSignOutClearsTheCookie(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.signIn(t, "agent", "ana")
	require.Equal(t, http.StatusForbidden, b.do(t, http.MethodPost, "/console/logout", s.cookie, url.Values{}).Code, "sign-out needs the form token too")
	r := b.post(t, s, "/console/logout", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.Code)
	require.Equal(t, "/console/signin?out=1", r.Header.Get("Location"))
	require.Len(t, r.Cookies, 1)
	require.Equal(t, console.SessionCookie, r.Cookies[0].Name)
	require.Empty(t, r.Cookies[0].Value)
	require.Negative(t, r.Cookies[0].MaxAge)
	page := b.do(t, http.MethodGet, "/console/signin?out=1", nil, nil)
	require.Contains(t, page.Body, "You signed out.")
}

// TestSignOutEndsTheSession: a copy of the cookie kept from before
// signing out (another tab's, a stolen one) opens nothing afterwards, on
// any page; other people's sign-ins, and the same person's other ones,
// go on.
func TestSignOutEndsTheSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_out")
	for _, tc := range []struct{ role, sub, home string }{
		{"agent", b.name("ana"), "/console/queue"},
		{"finance", b.name("fin"), "/console/finance"},
		{"seller", b.name("sel_out"), "/console/seller"},
		{"shopper", shopper, "/app/claims"},
		{"admin", b.name("root"), "/console/admin/sessions"},
	} {
		t.Run(tc.role, func(t *testing.T) {
			t.Parallel()
			s := b.signIn(t, tc.role, tc.sub)
			elsewhere := b.signIn(t, tc.role, tc.sub) // the same person on another device
			other := b.signIn(t, tc.role, tc.sub+"_other")
			b.requireOpens(t, s, tc.home)

			r := b.post(t, s, "/console/logout", url.Values{})
			require.Equal(t, http.StatusSeeOther, r.Code)
			b.requireOpensNothing(t, s)
			b.requireOpens(t, elsewhere, tc.home)
			b.requireOpens(t, other, tc.home)
		})
	}
}

// TestSigningInAgainEndsTheEarlierSession: a new sign-in in the same
// browser replaces its cookie, and the replaced one stops working.
func TestSigningInAgainEndsTheEarlierSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.signIn(t, "agent", b.name("ana"))
	nonce, form := b.openLink(t, b.loginPath(t, "finance", b.name("fin")))
	r := b.do(t, http.MethodPost, "/console/login", first.cookie, form)
	require.Equal(t, http.StatusForbidden, r.Code, "the link page's nonce is needed")
	req := newRequest(t, http.MethodPost, "/console/login", form, first.cookie, nonce)
	rec := newRecorder(b, req)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	b.requireOpensNothing(t, first)
}

// TestRevokedSessionsOpenNothing: an administrator ends every sign-in of
// a person, on the Sign-ins page; each of that person's cookies opens
// nothing afterwards, and everyone else's still work.
func TestRevokedSessionsOpenNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ana, ben := b.name("ana"), b.name("ben")
	admin := b.signIn(t, "admin", b.name("root"))
	anaAgent, anaAgentToo, anaFinance := b.signIn(t, "agent", ana), b.signIn(t, "agent", ana), b.signIn(t, "finance", ana)
	benAgent := b.signIn(t, "agent", ben)

	page := b.do(t, http.MethodGet, "/console/admin/sessions", admin.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	require.Contains(t, page.Body, `<a href="/console/admin/sessions" aria-current="page">Sign-ins</a>`)

	// One role first.
	r := b.post(t, admin, "/console/admin/sessions", url.Values{"sub": {ana}, "role": {"agent"}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	done := b.do(t, http.MethodGet, r.Header.Get("Location"), admin.cookie, nil)
	require.Contains(t, done.Body, "Ended 2 sign-ins of "+ana+" (agent).")
	b.requireOpensNothing(t, anaAgent)
	b.requireOpensNothing(t, anaAgentToo)
	b.requireOpens(t, anaFinance, "/console/finance")
	b.requireOpens(t, benAgent, "/console/queue")

	// Then every role.
	r = b.post(t, admin, "/console/admin/sessions", url.Values{"sub": {ana}, "role": {""}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	done = b.do(t, http.MethodGet, r.Header.Get("Location"), admin.cookie, nil)
	require.Contains(t, done.Body, "Ended 1 sign-in of "+ana+".")
	b.requireOpensNothing(t, anaFinance)
	b.requireOpens(t, benAgent, "/console/queue")
	b.requireOpens(t, admin, "/console/admin/sessions")

	r = b.post(t, admin, "/console/admin/sessions", url.Values{"sub": {ana}})
	done = b.do(t, http.MethodGet, r.Header.Get("Location"), admin.cookie, nil)
	require.Contains(t, done.Body, ana+" had no sign-in open; nothing was ended.")

	// A new link signs the person in again.
	b.requireOpens(t, b.signIn(t, "agent", ana), "/console/queue")
}

func TestRevokeBadInputNamesTheField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.signIn(t, "admin", b.name("root"))
	for _, tc := range []struct {
		give url.Values
		want string
	}{
		{give: url.Values{"sub": {""}}, want: "Person is required"},
		{give: url.Values{"sub": {"has space"}}, want: "Person may hold only letters"},
		{give: url.Values{"sub": {"ana"}, "role": {"service"}}, want: "Role must be one of"},
	} {
		r := b.post(t, admin, "/console/admin/sessions", tc.give)
		require.Equal(t, http.StatusUnprocessableEntity, r.Code, tc.give)
		require.Contains(t, r.Body, tc.want)
	}
	_, err := console.RevokeSessions(context.Background(), store, "", "")
	var ve *validation.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "sub", ve.Field)
}
