package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/workflows/claimflow"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/validation"
)

// SessionCookie is the name of the console's session cookie.
const SessionCookie = "claimsd_session"

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 12 * time.Hour

const sessionKey = "claimsd.console.session"

// session is who is signed in, as the cookie says.
type session struct {
	Role    claimflow.Role
	Subject string
	ID      string // random per sign-in; form tokens are bound to it
	Expires time.Time
}

// derive keys a secret for one purpose, so a key that signs one kind of
// thing (a cookie) never verifies another (an API token, a form token).
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("claimsd console " + purpose))
	return m.Sum(nil)
}

// loginKeys are the API's keys, each secret derived for sign-in links: a
// link's token is not an API bearer token, and an API token opens no
// console.
func loginKeys(k auth.Keys) auth.Keys {
	out := auth.Keys{Secret: derive(k.Secret, "login"), Issuer: k.Issuer, Audience: k.Audience}
	for _, p := range k.Previous {
		out.Previous = append(out.Previous, derive(p, "login"))
	}
	return out
}

// sessionKeys sign session cookies and form tokens with the current
// secret and accept cookies signed with a rotated-out one.
type sessionKeys struct {
	cookie [][]byte // current first
	form   [][]byte
}

func newSessionKeys(k auth.Keys) sessionKeys {
	var s sessionKeys
	for _, sec := range append([][]byte{k.Secret}, k.Previous...) {
		s.cookie = append(s.cookie, derive(sec, "session"))
		s.form = append(s.form, derive(sec, "form"))
	}
	return s
}

func mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// encode signs s: base64url("v1|role|subject|expires|id") "." base64url(mac).
func (k sessionKeys) encode(s session) string {
	payload := strings.Join([]string{"v1", string(s.Role), s.Subject, strconv.FormatInt(s.Expires.Unix(), 10), s.ID}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." +
		base64.RawURLEncoding.EncodeToString(mac(k.cookie[0], payload))
}

// decode returns the session a cookie holds, if it is signed by one of
// the keys, well formed and not expired at now.
func (k sessionKeys) decode(v string, now time.Time) (*session, bool) {
	p64, s64, ok := strings.Cut(v, ".")
	if !ok {
		return nil, false
	}
	payload, err1 := base64.RawURLEncoding.Strict().DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.Strict().DecodeString(s64)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	signed := false
	for _, key := range k.cookie {
		if hmac.Equal(sig, mac(key, string(payload))) {
			signed = true
			break
		}
	}
	if !signed {
		return nil, false
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) != 5 || parts[0] != "v1" || !allowed(claimflow.Role(parts[1]), consoleRoles) || validation.CheckID("sub", parts[2]) != nil {
		return nil, false
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || !now.Before(time.Unix(exp, 0)) || parts[4] == "" {
		return nil, false
	}
	return &session{Role: claimflow.Role(parts[1]), Subject: parts[2], Expires: time.Unix(exp, 0).UTC(), ID: parts[4]}, true
}

// csrf is the form token of a session: HMAC of its id.
func (k sessionKeys) csrf(sessionID string) string {
	return base64.RawURLEncoding.EncodeToString(mac(k.form[0], sessionID))
}

// validCSRF reports whether token is the session's form token (under the
// current key or a rotated-out one).
func (k sessionKeys) validCSRF(sessionID, token string) bool {
	got, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || token == "" {
		return false
	}
	for _, key := range k.form {
		if hmac.Equal(got, mac(key, sessionID)) {
			return true
		}
	}
	return false
}

func newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// setSession sets the session cookie: HttpOnly, SameSite=Strict, for the
// whole site (the console and the shopper's /app pages), Secure when the
// request came over TLS.
func (c *console) setSession(ec echo.Context, s session) {
	ec.SetCookie(&http.Cookie{
		Name: SessionCookie, Value: c.sessions.encode(s), Path: "/",
		Expires: s.Expires, MaxAge: int(s.Expires.Sub(c.Now()).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: ec.Scheme() == "https",
	})
}

func (c *console) clearSession(ec echo.Context) {
	ec.SetCookie(&http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: ec.Scheme() == "https",
	})
}

// sessionHash is how the session store knows a session: the SHA-256 of
// its id, in hex. The id itself stays in the cookie.
func sessionHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// currentSession returns the signed-in session: a cookie signed by one of
// the keys, not expired, whose sign-in the store still holds (not signed
// out, not revoked). hasCookie reports a session cookie that may be stale;
// err is the store's, when it cannot tell.
func (c *console) currentSession(ec echo.Context) (s *session, hasCookie bool, err error) {
	ck, err := ec.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return nil, false, nil
	}
	s, ok := c.sessions.decode(ck.Value, c.Now())
	if !ok {
		return nil, true, nil
	}
	active, err := c.Logins.ConsoleSessionActive(ec.Request().Context(), sessionHash(s.ID), string(s.Role), s.Subject, c.Now())
	if err != nil {
		return nil, true, err
	}
	if !active {
		return nil, true, nil
	}
	return s, true, nil
}

type forbiddenData struct {
	Message string
}

// requireSession lets through a signed-in person of one of roles. With no
// current session (none, a bad or expired cookie, or one signed out or
// revoked), a page redirects to the sign-in explanation and the stale
// cookie is dropped; another role gets a 403 page.
func (c *console) requireSession(roles []claimflow.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(ec echo.Context) error {
			s, hasCookie, err := c.currentSession(ec)
			if err != nil {
				return c.failed(ec, err)
			}
			if s == nil {
				if hasCookie {
					c.clearSession(ec)
				}
				return ec.Redirect(http.StatusSeeOther, "/console/signin")
			}
			ec.Set(sessionKey, s)
			if !allowed(s.Role, roles) {
				return c.render(ec, http.StatusForbidden, "forbidden", pageData{Title: "Not allowed",
					Data: forbiddenData{Message: "You are signed in as " + s.Subject + " (" + string(s.Role) + "); this page is for " + claimflow.JoinRoles(roles, ", ") + "."}})
			}
			return next(ec)
		}
	}
}

// checkForm refuses a form without the session's token: 403, and the
// handler never runs.
func (c *console) checkForm(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		s := ec.Get(sessionKey).(*session)
		if !c.sessions.validCSRF(s.ID, ec.FormValue("csrf")) {
			return c.formExpired(ec)
		}
		return next(ec)
	}
}
