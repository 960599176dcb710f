// Package console is claimsd's web console: server-rendered pages for
// agents, finance, sellers, rights holders, enforcement and risk (under
// /console) and shoppers (under /app), on the engine's echo router, calling
// the workflow services directly. Templates and the style sheet are embedded; no script runs in the page.
//
// People sign in with a one-time link (see LoginURL) that sets a signed,
// HttpOnly, SameSite=Strict session cookie; every form carries a token
// bound to that session; every page is sent with a strict
// Content-Security-Policy.
//
//	e := httpapi.New(httpapi.Deps{...})
//	console.Mount(e, console.Deps{Claims: svc, Finance: fin, Keys: keys, Logins: store})
//
// Each group of pages lives in its own file (finance's in finance*.go, a
// file a page) and registers its routes from one method (agentRoutes,
// financeRoutes, sellerRoutes, shopperRoutes, intelRoutes, policiesRoutes), with one
// template per page under templates/ (and the parts several pages share in
// templates/part_*.html). Downloads stream through package export, as the API's
// exports do.
package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/adapters/web"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
	"github.com/claimsd/claimsd/workflows/intelflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
	"github.com/claimsd/claimsd/workflows/standingflow"
	"github.com/claimsd/claimsd/workflows/webhookflow"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Roles of the people who sign in to the console. Service accounts do not.
const (
	RoleShopper = claimflow.RoleShopper
	RoleSeller  = claimflow.RoleSeller
	RoleAgent   = claimflow.RoleAgent
	RoleFinance = claimflow.RoleFinance
	RoleAdmin   = claimflow.RoleAdmin
	// RoleRightsHolder speaks for brands: their subject is the one the
	// brands list (see brandflow).
	RoleRightsHolder = claimflow.RoleRightsHolder
	// RoleEnforcement works the cases of linked counterfeit sellers.
	RoleEnforcement = claimflow.RoleEnforcement
	// RoleRisk tunes the decision policy: it reaches the policy lab alone.
	RoleRisk = claimflow.RoleRisk
)

var consoleRoles = []claimflow.Role{RoleShopper, RoleSeller, RoleAgent, RoleFinance, RoleAdmin, RoleRightsHolder, RoleEnforcement, RoleRisk}

// LoginStore spends one-time sign-in links and holds the sign-ins they
// start, so that signing out, or an administrator revoking someone's
// sign-ins, ends them for good: a session cookie opens pages only while
// its sign-in is held here. Sessions are known by the SHA-256 of their
// random id, in hex (idHash). pgstore.Store implements it.
type LoginStore interface {
	// UseConsoleLogin records the first use of the link with token id jti:
	// first is true for the one call that spent it, false for every later
	// one (and for all but one of calls racing).
	UseConsoleLogin(ctx context.Context, jti, role, subject string, expires, now time.Time) (first bool, err error)
	// StartConsoleSession holds a new sign-in of role and subject until
	// expires.
	StartConsoleSession(ctx context.Context, idHash, role, subject string, expires, now time.Time) error
	// ConsoleSessionActive reports whether the sign-in is held for role
	// and subject and not expired at now. It runs on every console
	// request, so it must be one indexed lookup.
	ConsoleSessionActive(ctx context.Context, idHash, role, subject string, now time.Time) (bool, error)
	// EndConsoleSession lets go of one sign-in; one not held is no error.
	EndConsoleSession(ctx context.Context, idHash string) error
	SessionRevoker
}

// Deps are what the console needs.
type Deps struct {
	// Policies is the policy lab: versions, backtests, shadow.
	Policies *policyflow.Service
	Claims   *claimflow.Service
	Finance  *financeflow.Service
	// Standing shows sellers their standing and agents both parties'.
	Standing *standingflow.Service
	// Intel is counterfeit intelligence: brands' pages for rights
	// holders, cases for enforcement, verdicts on agents' claim pages.
	// Without it those pages are not mounted.
	Intel *intelflow.Service
	// Events shows administrators how far outbound events have gone;
	// without it that page is not mounted.
	Events EventsStatus
	// Webhooks lets administrators manage the endpoints events are sent
	// to and read their deliveries; without it those pages are not
	// mounted.
	Webhooks *webhookflow.Service
	// Evidence takes the photos and documents shoppers and sellers add
	// to claims, and serves them to those who may see them; without it
	// the forms take no files and the pages show none.
	Evidence *evidenceflow.Service
	// Keys are the API's token keys: sign-in links, session cookies and
	// form tokens are all keyed from them (each for its own purpose).
	Keys   auth.Keys
	Logins LoginStore
	Logger *slog.Logger
	Now    func() time.Time
}

// console is the mounted console: its dependencies, parsed pages and the
// navigation each page group adds for its roles.
type console struct {
	Deps
	e        *echo.Echo
	pages    map[string]*template.Template
	styleURL string
	iconURL  string
	sessions sessionKeys
	login    auth.Keys
	// nav lists, per role, the links in the header; home is where a role
	// lands after signing in. Page groups fill both in.
	nav  map[claimflow.Role][]navItem
	home map[claimflow.Role]string
	// routes is every page and form registered, with its roles.
	routes []Route
	// downloads holds a slot per download streaming now.
	downloads *export.Slots
}

type navItem struct {
	Label, Path string
}

// Route is one page or form of the console and the roles it admits (none:
// anyone, signed in or not). Tests walk the table Mount returns so no
// route goes without a rule.
type Route struct {
	Method, Path string
	Roles        []claimflow.Role
}

// Mount registers the console's routes under /console and /app on e and
// returns their table. It panics if an embedded template does not parse,
// which tests catch.
func Mount(e *echo.Echo, d Deps) []Route {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	c := &console{
		Deps: d, e: e,
		pages:     map[string]*template.Template{},
		styleURL:  staticURL("console.css"),
		iconURL:   staticURL("favicon.svg"),
		sessions:  newSessionKeys(d.Keys),
		login:     loginKeys(d.Keys),
		nav:       map[claimflow.Role][]navItem{},
		home:      map[claimflow.Role]string{},
		downloads: export.NewSlots(maxDownloads),
	}
	c.parsePages()

	e.GET("/console/static/*", c.static, c.headers(false))
	// Browsers ask for /favicon.ico by themselves, also for the API's
	// addresses; the pages name the SVG (see base.html).
	e.GET("/favicon.ico", c.favicon, c.headers(false))
	// The engine's own address leads people to their pages, or to sign in.
	c.get("/", c.rootPage)
	c.loginRoutes()
	c.agentRoutes()
	c.financeRoutes()
	c.sellerRoutes()
	c.shopperRoutes()
	c.adminRoutes()
	c.eventsRoutes()
	c.webhooksRoutes()
	c.intelRoutes()
	c.evidenceRoutes()
	c.policiesRoutes()
	c.get("/console", c.homePage, consoleRoles...)
	// Anything else under the console is an HTML page too, not the API's
	// JSON error.
	notFound := c.page(func(ec echo.Context) error { return errNotFound })
	for _, p := range []string{"/console/*", "/app/*"} {
		e.Any(p, notFound, c.headers(true))
	}
	// /app itself is the shopper's entry (shopperRoutes); other methods
	// on it are not found either.
	e.Match([]string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}, "/app", notFound, c.headers(true))
	return c.routes
}

// staticURL is the address of an embedded static file, with its content's
// hash, so a new build gets a new address and the old one may be cached
// for good. It panics if the file is not embedded, which tests catch.
func staticURL(name string) string {
	b, err := fs.ReadFile(staticFS, "static/"+name)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return "/console/static/" + name + "?v=" + hex.EncodeToString(sum[:6])
}

// favicon serves the console's icon at the address browsers ask for
// without being told. Its address has no hash, so it is cached for a day.
func (c *console) favicon(ec echo.Context) error {
	b, err := fs.ReadFile(staticFS, "static/favicon.ico")
	if err != nil {
		return err
	}
	ec.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return ec.Blob(http.StatusOK, "image/x-icon", b)
}

// rootPage sends whoever opens the engine's own address to their start
// page, or to the sign-in explanation.
func (c *console) rootPage(ec echo.Context) error {
	s, ok := ec.Get(sessionKey).(*session)
	if !ok {
		var err error
		if s, _, err = c.currentSession(ec); err != nil {
			return err
		}
	}
	if s == nil {
		return ec.Redirect(http.StatusSeeOther, "/console/signin")
	}
	if h, ok := c.home[s.Role]; ok {
		return ec.Redirect(http.StatusSeeOther, h)
	}
	return ec.Redirect(http.StatusSeeOther, "/console")
}

// parsePages parses each page's template with the shared layout and the
// parts pages share (templates/part_*.html, each defining templates of its
// own).
func (c *console) parsePages() {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	shared := []string{"templates/base.html"}
	for _, f := range files {
		if strings.HasPrefix(path.Base(f), "part_") {
			shared = append(shared, f)
		}
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "base" || strings.HasPrefix(name, "part_") {
			continue
		}
		c.pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, append(shared, f)...))
	}
}

// get registers a page for the roles given (none: anyone, signed in or not).
func (c *console) get(p string, h echo.HandlerFunc, roles ...claimflow.Role) {
	c.routes = append(c.routes, Route{Method: http.MethodGet, Path: p, Roles: roles})
	c.e.GET(p, c.page(h), c.chain(roles)...)
}

// The console's downloads: long streams, which the engine's router gives
// its export timeout rather than the request timeout (see DownloadPaths).
const (
	pathChargebacksCSV = "/console/finance/chargebacks.csv"
	pathStatementCSV   = "/console/finance/sellers/:id/statement.csv"
	pathRunItemsCSV    = "/console/finance/reconciliations/:id/items.csv"
	pathBrandCSV       = "/console/brands/:id/counterfeits.csv"
	pathCasePacket     = "/console/cases/:id/packet.zip"
	pathBacktestCSV    = "/console/policies/backtests/:id/claims.csv"
)

// DownloadPaths are the console's download routes, for
// httpapi.Deps.ExportPaths: they stream for as long as an export may.
func DownloadPaths() []string {
	return []string{pathChargebacksCSV, pathStatementCSV, pathRunItemsCSV, pathBrandCSV, pathCasePacket, pathBacktestCSV}
}

// maxDownloads is how many downloads may stream at once; each holds a
// database connection.
const maxDownloads = 4

// download registers a download page: at most maxDownloads stream at
// once; more get a 429 page saying when to try again.
func (c *console) download(p string, h echo.HandlerFunc, roles ...claimflow.Role) {
	c.get(p, func(ec echo.Context) error {
		release, ok := c.downloads.Take()
		if !ok {
			ec.Response().Header().Set("Retry-After", "30")
			return c.render(ec, http.StatusTooManyRequests, "error", pageData{Title: "Try again shortly",
				Data: errorData{Heading: "Try again shortly", Message: "Other downloads are being prepared right now. Try again in half a minute."}})
		}
		defer release()
		return h(ec)
	}, roles...)
}

// post registers a form's target for the roles given; the form's token
// is checked before h runs.
func (c *console) post(p string, h echo.HandlerFunc, roles ...claimflow.Role) {
	c.routes = append(c.routes, Route{Method: http.MethodPost, Path: p, Roles: roles})
	mw := c.chain(roles)
	if len(roles) > 0 {
		mw = append(mw, c.checkForm)
	}
	c.e.POST(p, c.page(h), mw...)
}

func (c *console) chain(roles []claimflow.Role) []echo.MiddlewareFunc {
	mw := []echo.MiddlewareFunc{c.headers(true), c.sameSite}
	if len(roles) > 0 {
		mw = append(mw, c.requireSession(roles))
	}
	return mw
}

// addNav adds a header link for each role given.
func (c *console) addNav(label, p string, roles ...claimflow.Role) {
	for _, r := range roles {
		c.nav[r] = append(c.nav[r], navItem{Label: label, Path: p})
	}
}

// contentSecurityPolicy admits nothing but the console's own style sheet
// and forms; no script, no frames, no other origin.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// headers sets the security headers every console response carries;
// pages (not the style sheet) are never cached. A request whose headers
// are over the API's limit gets the error page (the API leaves routes it
// does not own to their owner).
func (c *console) headers(page bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(ec echo.Context) error {
			h := ec.Response().Header()
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			if page {
				h.Set("Cache-Control", "no-store")
			}
			if web.HeaderBytes(ec.Request()) > web.MaxHeaderBytes {
				h.Set("Cache-Control", "no-store")
				return c.render(ec, http.StatusRequestHeaderFieldsTooLarge, "error", pageData{Title: "Request too large",
					Data: errorData{Heading: "Request too large", Message: "Your browser sent more headers than the console takes, often because of too many or too large cookies. Clear this site's cookies and try again."}})
			}
			return next(ec)
		}
	}
}

// sameSite refuses a form another site's page sent (browsers say so in
// Sec-Fetch-Site); it keeps another site from signing someone in with a
// link of its own.
func (c *console) sameSite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		if ec.Request().Method == http.MethodPost {
			if s := ec.Request().Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
				return c.render(ec, http.StatusForbidden, "forbidden", pageData{Title: "Not allowed",
					Data: forbiddenData{Message: "This form was sent from another site, so nothing was done."}})
			}
		}
		return next(ec)
	}
}

func (c *console) static(ec echo.Context) error {
	name := ec.Param("*")
	b, err := fs.ReadFile(staticFS, path.Join("static", path.Clean("/"+name)))
	if err != nil {
		return c.notFound(ec)
	}
	ct := "application/octet-stream"
	switch path.Ext(name) {
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	case ".png":
		ct = "image/png"
	case ".ico":
		ct = "image/x-icon"
	}
	// The URL carries the content's hash, so a new build gets a new URL.
	ec.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	return ec.Blob(http.StatusOK, ct, b)
}

// pageData is what the layout renders around a page's own content.
type pageData struct {
	Title string
	// Data is the page's own.
	Data any
	// Set by render.
	Session  *session
	CSRF     string
	Nav      []navItem
	Path     string
	StyleURL string
	IconURL  string
	Status   int
}

// render writes the page with status; it renders into a buffer first, so
// a template error never sends half a page.
func (c *console) render(ec echo.Context, status int, name string, d pageData) error {
	t, ok := c.pages[name]
	if !ok {
		return errors.New("console: no page template " + name)
	}
	s, ok := ec.Get(sessionKey).(*session)
	if !ok {
		// Pages anyone may open still show who is signed in; when the
		// store cannot tell, they show the page as to nobody.
		var err error
		if s, _, err = c.currentSession(ec); err != nil {
			c.Logger.WarnContext(ec.Request().Context(), "console session not checked", "err", err, "path", ec.Path())
		}
		ok = s != nil
		if ok {
			ec.Set(sessionKey, s)
		}
	}
	if ok {
		d.Session = s
		d.CSRF = c.sessions.csrf(s.ID)
		d.Nav = c.nav[s.Role]
	}
	d.Path = ec.Request().URL.Path
	d.StyleURL = c.styleURL
	d.IconURL = c.iconURL
	d.Status = status
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "base", d); err != nil {
		return err
	}
	return ec.HTMLBlob(status, buf.Bytes())
}

// errNotFound renders the not-found page.
var errNotFound = errors.New("console: not found")

// page turns a handler's error into an HTML page: a missing claim or
// route is 404, bad input 400, anything else 500 with nothing of its
// cause shown (it is logged with the request id).
func (c *console) page(h echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		err := h(ec)
		if err == nil || ec.Response().Committed {
			return nil
		}
		return c.failed(ec, err)
	}
}

// failed renders the page for a handler's (or a middleware's) error.
func (c *console) failed(ec echo.Context, err error) error {
	var nf *claimflow.NotFoundError
	var ve *validation.Error
	var he *echo.HTTPError
	switch {
	case errors.Is(err, errNotFound), errors.As(err, &nf):
		return c.notFound(ec)
	case errors.As(err, &ve):
		return c.render(ec, http.StatusBadRequest, "error", pageData{Title: "Check the request",
			Data: errorData{Heading: "Check the request", Message: fieldLabel(ve.Field) + ": " + ve.Message}})
	case errors.As(err, &he) && he.Code < 500:
		return c.render(ec, he.Code, "error", pageData{Title: http.StatusText(he.Code),
			Data: errorData{Heading: http.StatusText(he.Code), Message: "The request could not be handled."}})
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, claimflow.ErrUnavailable):
		c.Logger.WarnContext(ec.Request().Context(), "console page unavailable", "err", err, "path", ec.Path())
		ec.Response().Header().Set("Retry-After", "2")
		return c.render(ec, http.StatusServiceUnavailable, "error", pageData{Title: "Try again shortly",
			Data: errorData{Heading: "Try again shortly", Message: "The console cannot reach its database right now. Reload the page in a moment."}})
	}
	id := ec.Response().Header().Get(echo.HeaderXRequestID)
	c.Logger.ErrorContext(ec.Request().Context(), "console page failed", "err", err, "path", ec.Path(), "request_id", id)
	if errors.Is(err, money.ErrOverflow) {
		// Only data stored before amounts were bounded gets here.
		return c.render(ec, http.StatusInternalServerError, "error", pageData{Title: "A total is too large to show",
			Data: errorData{Heading: "A total is too large to show", Message: "A total on this page is larger than the engine can express, so it is not shown rather than shown wrong. Give this reference to support.", Reference: id}})
	}
	return c.render(ec, http.StatusInternalServerError, "error", pageData{Title: "Something went wrong",
		Data: errorData{Heading: "Something went wrong", Message: "Something went wrong on our side. Reload the page; if it keeps happening, give this reference to support.", Reference: id}})
}

type errorData struct {
	Heading, Message, Reference string
}

func (c *console) notFound(ec echo.Context) error {
	return c.render(ec, http.StatusNotFound, "error", pageData{Title: "Not found",
		Data: errorData{Heading: "Not found", Message: "There is no such page, or nothing here you may see."}})
}

type homeData struct {
	Links []navItem
}

// homePage sends each role to its first page; a role whose pages are not
// there yet sees what it is signed in as.
func (c *console) homePage(ec echo.Context) error {
	s := ec.Get(sessionKey).(*session)
	if h, ok := c.home[s.Role]; ok {
		return ec.Redirect(http.StatusSeeOther, h)
	}
	return c.render(ec, http.StatusOK, "home", pageData{Title: "Signed in", Data: homeData{Links: c.nav[s.Role]}})
}

// homeOf is the start page of role as its header names it: where a
// page's way back leads, so it never leads a role to a page it may not
// open.
func (c *console) homeOf(role claimflow.Role) navItem {
	for _, n := range c.nav[role] {
		if n.Path == c.home[role] {
			return n
		}
	}
	return navItem{Label: "Your start page", Path: "/console"}
}

// allowed reports whether role is among roles.
func allowed(role claimflow.Role, roles []claimflow.Role) bool { return slices.Contains(roles, role) }
