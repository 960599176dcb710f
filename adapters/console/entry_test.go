package console_test

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/console"
)

// TestTheEngineAddressLeadsToPeoplesPages: GET / on the engine is no
// JSON 404 but leads each person to their start page, and anyone else to
// the sign-in explanation.
func TestTheEngineAddressLeadsToPeoplesPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		role, sub, want string
	}{
		{"", "", "/console/signin"},
		{"shopper", b.name("shp_root"), "/app/claims"},
		{"seller", b.name("sel_root"), "/console/seller"},
		{"agent", "ana", "/console/queue"},
		{"finance", "fin", "/console/finance"},
		{"admin", "root", "/console/queue"},
	} {
		var cookie *http.Cookie
		if tc.role != "" {
			cookie = b.signIn(t, tc.role, tc.sub).cookie
		}
		r := b.do(t, http.MethodGet, "/", cookie, nil)
		require.Equal(t, http.StatusSeeOther, r.Code, "%s: %s", tc.role, r.Body)
		require.Equal(t, tc.want, r.Header.Get("Location"), tc.role)
		if cookie != nil {
			require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, tc.want, cookie, nil).Code, tc.want)
		}
	}
	r := b.do(t, http.MethodGet, "/", &http.Cookie{Name: console.SessionCookie, Value: "garbage"}, nil)
	require.Equal(t, "/console/signin", r.Header.Get("Location"))
}

// TestAppIsTheShoppersEntry: /app, the address the README gives
// shoppers, opens their claims.
func TestAppIsTheShoppersEntry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_entry")
	id := b.fileClaim(t, "sel_entry", shopper, instantAmount)
	s := b.signIn(t, "shopper", shopper)

	r := b.do(t, http.MethodGet, "/app", s.cookie, nil)
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	require.Equal(t, "/app/claims", r.Header.Get("Location"))
	page := b.do(t, http.MethodGet, "/app/claims", s.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	require.Contains(t, page.Body, `href="/app/claims/`+id+`"`)

	r = b.do(t, http.MethodGet, "/app", nil, nil)
	require.Equal(t, http.StatusSeeOther, r.Code)
	require.Equal(t, "/console/signin", r.Header.Get("Location"))
	r = b.do(t, http.MethodPost, "/app", s.cookie, nil)
	require.Equal(t, http.StatusNotFound, r.Code)
	require.Contains(t, r.Header.Get("Content-Type"), "text/html")
}

// TestFavicon: the icon browsers ask for by themselves is there, cached,
// and the pages name it too.
func TestFavicon(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, http.MethodGet, "/favicon.ico", nil, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Equal(t, "image/x-icon", r.Header.Get("Content-Type"))
	require.Equal(t, "public, max-age=86400", r.Header.Get("Cache-Control"))
	require.Equal(t, "\x00\x00\x01\x00", r.Body[:4], "an ICO file")

	page := b.do(t, http.MethodGet, "/console/signin", nil, nil)
	m := regexp.MustCompile(`<link rel="icon" href="([^"]+)" type="image/svg\+xml">`).FindStringSubmatch(page.Body)
	require.NotNil(t, m, "the page names no icon")
	svg := b.do(t, http.MethodGet, m[1], nil, nil)
	require.Equal(t, http.StatusOK, svg.Code)
	require.Equal(t, "image/svg+xml", svg.Header.Get("Content-Type"))
	require.Contains(t, svg.Header.Get("Cache-Control"), "immutable")
	require.Contains(t, svg.Body, "<svg")
}
