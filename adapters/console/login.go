package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/workflows/claimflow"

	"github.com/labstack/echo/v4"
)

// LoginTTL is how long a sign-in link is valid by default.
const LoginTTL = 15 * time.Minute

// LoginURL returns a one-time sign-in link for role and subject at
// baseURL (the engine's address, e.g. "http://127.0.0.1:8080"), valid for
// ttl. keys are the API's token keys.
//
//	link, err := console.LoginURL(keys, "http://127.0.0.1:8080", "agent", "ana", console.LoginTTL, time.Now())
func LoginURL(keys auth.Keys, baseURL, role, subject string, ttl time.Duration, now time.Time) (string, error) {
	if !allowed(claimflow.Role(role), consoleRoles) {
		return "", fmt.Errorf("role %q has no console: use one of %s", role, claimflow.JoinRoles(consoleRoles, ", "))
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("base URL %q: must be http:// or https:// and a host, e.g. http://127.0.0.1:8080", baseURL)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id) // crypto/rand.Read never fails
	tok, err := loginKeys(keys).MintWithID(claimflow.Role(role), subject, hex.EncodeToString(id), ttl, now)
	if err != nil {
		return "", err
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/console/login"
	u.RawQuery = url.Values{"t": {tok}}.Encode()
	return u.String(), nil
}

func (c *console) loginRoutes() {
	c.get("/console/signin", c.signinPage)
	c.get("/console/login", c.loginPage)
	c.post("/console/login", c.loginPost)
	c.post("/console/logout", c.logoutPost, consoleRoles...)
}

type signinData struct {
	SignedOut bool
}

// signinPage explains how to sign in: with a link someone with access to
// the engine makes.
func (c *console) signinPage(ec echo.Context) error {
	return c.render(ec, http.StatusOK, "signin", pageData{Title: "Sign in",
		Data: signinData{SignedOut: ec.QueryParam("out") == "1"}})
}

type loginData struct {
	Token   string
	Nonce   string // the form's copy of the page's nonce cookie
	Role    claimflow.Role
	Subject string
	// Problem says why the link cannot sign anyone in ("" when it can).
	Problem string
}

// The ways a sign-in link can be refused, as the person reads them.
const (
	loginExpired = "This sign-in link has expired. Ask for a new one."
	loginInvalid = "This is not a valid sign-in link. Check that it was copied whole, or ask for a new one."
	loginUsed    = "This sign-in link was already used. Each link signs in once; ask for a new one."
	loginForeign = "This sign-in did not come from your sign-in link's page, so nobody was signed in. Open the link again and press Sign in there."
)

// LoginNonceCookie carries a random value the sign-in page also puts in
// its form. The sign-in POST needs both to match: a page on another site
// can post a link of its own, but cannot set or read this cookie (it is
// SameSite=Strict), so it cannot sign someone in as somebody else.
const LoginNonceCookie = "claimsd_login"

// checkLink verifies a sign-in link's token, without spending it.
func (c *console) checkLink(raw string) (auth.Token, int, string) {
	if raw == "" {
		return auth.Token{}, http.StatusBadRequest, loginInvalid
	}
	tok, err := c.login.Verify(raw, c.Now())
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		return tok, http.StatusGone, loginExpired
	case err != nil, tok.ID == "", !allowed(tok.Role, consoleRoles):
		return tok, http.StatusBadRequest, loginInvalid
	}
	return tok, http.StatusOK, ""
}

// loginPage shows who the link signs in, with a button: the link is spent
// only by the POST, so a mail scanner or chat preview opening it does not
// use it up.
func (c *console) loginPage(ec echo.Context) error {
	raw := ec.QueryParam("t")
	tok, status, problem := c.checkLink(raw)
	d := loginData{Token: raw, Role: tok.Role, Subject: tok.Subject, Problem: problem}
	if problem == "" {
		d.Nonce = newSessionID()
		c.setLoginNonce(ec, d.Nonce, int(LoginTTL.Seconds()))
	}
	return c.render(ec, status, "login", pageData{Title: "Sign in", Data: d})
}

func (c *console) setLoginNonce(ec echo.Context, v string, maxAge int) {
	ec.SetCookie(&http.Cookie{Name: LoginNonceCookie, Value: v, Path: "/console/login", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: ec.Scheme() == "https"})
}

// fromLoginPage reports whether the sign-in POST carries the nonce its
// page set, in the cookie and in the form alike.
func fromLoginPage(ec echo.Context) bool {
	ck, err := ec.Cookie(LoginNonceCookie)
	n := ec.FormValue("n")
	return err == nil && ck.Value != "" && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(n)) == 1
}

// loginPost spends the link once and sets the session cookie.
func (c *console) loginPost(ec echo.Context) error {
	if !fromLoginPage(ec) {
		return c.render(ec, http.StatusForbidden, "login", pageData{Title: "Sign in",
			Data: loginData{Problem: loginForeign}})
	}
	raw := ec.FormValue("t")
	tok, status, problem := c.checkLink(raw)
	if problem == "" {
		first, err := c.Logins.UseConsoleLogin(ec.Request().Context(), tok.ID, string(tok.Role), tok.Subject, tok.Expires, c.Now())
		if err != nil {
			return err
		}
		if !first {
			status, problem = http.StatusGone, loginUsed
		}
	}
	if problem != "" {
		return c.render(ec, status, "login", pageData{Title: "Sign in",
			Data: loginData{Role: tok.Role, Subject: tok.Subject, Problem: problem}})
	}
	ctx := ec.Request().Context()
	// A sign-in in this browser before this one ends: its cookie is
	// replaced, and nobody should hold a copy that still works.
	if old, _, err := c.currentSession(ec); err != nil {
		return err
	} else if old != nil {
		if err := c.Logins.EndConsoleSession(ctx, sessionHash(old.ID)); err != nil {
			return err
		}
	}
	s := session{Role: tok.Role, Subject: tok.Subject, ID: newSessionID(), Expires: c.Now().Add(SessionTTL).UTC()}
	if err := c.Logins.StartConsoleSession(ctx, sessionHash(s.ID), string(s.Role), s.Subject, s.Expires, c.Now()); err != nil {
		return err
	}
	c.setSession(ec, s)
	c.setLoginNonce(ec, "", -1)
	c.Logger.InfoContext(ctx, "console sign-in", "role", s.Role, "sub", s.Subject)
	return ec.Redirect(http.StatusSeeOther, "/console")
}

// logoutPost ends the sign-in, so its cookie opens nothing even where a
// copy of it is kept, and clears the cookie.
func (c *console) logoutPost(ec echo.Context) error {
	s := ec.Get(sessionKey).(*session)
	if err := c.Logins.EndConsoleSession(ec.Request().Context(), sessionHash(s.ID)); err != nil {
		return err
	}
	c.Logger.InfoContext(ec.Request().Context(), "console sign-out", "role", s.Role, "sub", s.Subject)
	c.clearSession(ec)
	return ec.Redirect(http.StatusSeeOther, "/console/signin?out=1")
}
