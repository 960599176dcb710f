// Package httpapi is claimsd's HTTP API on echo v4: routes, authentication,
// request and response shapes, and the one table that maps errors to HTTP
// statuses and stable codes.
//
//	e := httpapi.New(httpapi.Deps{Claims: svc, Finance: fin, Ready: store.Ping, Secret: secret})
//	e.Start("127.0.0.1:8080")
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/adapters/web"
	"github.com/claimsd/claimsd/workflows/brandflow"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/eventflow"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
	"github.com/claimsd/claimsd/workflows/intelflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
	"github.com/claimsd/claimsd/workflows/standingflow"
	"github.com/claimsd/claimsd/workflows/webhookflow"
)

// Deps are what the API needs.
type Deps struct {
	// Policies is the policy lab: versions, backtests, shadow.
	Policies *policyflow.Service
	Claims   *claimflow.Service
	Finance  *financeflow.Service
	// Standing shows sellers' standing.
	Standing *standingflow.Service
	// Brands registers brands and shows them to their rights holders.
	Brands *brandflow.Service
	// Intel shows counterfeit intelligence to rights holders and
	// enforcement.
	Intel *intelflow.Service
	// Events serves the numbered outbound events (GET /v1/events).
	Events EventReader
	// Webhooks manages webhook endpoints and shows their deliveries.
	Webhooks *webhookflow.Service
	// Evidence takes and serves claims' evidence files.
	Evidence *evidenceflow.Service
	// StreamTimeout bounds a request that moves a file (an upload, a
	// download); default 3 min. A client that sends or takes nothing for
	// StreamIdle (default 15 s) is cut off sooner.
	StreamTimeout time.Duration
	StreamIdle    time.Duration
	// StreamPaths are routes others mount on the router (the console's
	// upload forms) that take files, as "METHOD path", with how many
	// files one request may carry: they get StreamTimeout and a body that
	// large.
	StreamPaths map[string]int
	Ready       func(ctx context.Context) error // nil error: ready to serve
	Secret      []byte                          // HS256 key for bearer tokens
	// PreviousSecrets, Issuer and Audience: see Keys.
	PreviousSecrets [][]byte
	Issuer          string
	Audience        string
	// JWKS, when set, admits RS256 tokens from an identity provider.
	JWKS           *auth.JWKS
	Logger         *slog.Logger
	MaxBodyBytes   int64         // default 256 KiB
	RequestTimeout time.Duration // default 15 s
	ExportTimeout  time.Duration // default 10 min: a year's CSV takes a while
	// MaxExports is how many exports may stream at once (default 4), each
	// holding a database connection; more get 429.
	MaxExports int
	// ExportPaths are routes others mount on the router (the console's
	// downloads) that stream like exports: they get ExportTimeout.
	ExportPaths []string
	Now         func() time.Time
	// HealthOnly serves only the routes that need no token (health,
	// readiness, metrics, the OpenAPI document, the events' schemas): a
	// worker's HTTP server.
	HealthOnly bool
	// Metrics records requests and serves /metrics; nil serves an empty
	// registry's.
	Metrics Metrics
	// StripeWebhook receives Stripe's events (it checks their signature
	// itself); nil when Stripe is not configured.
	StripeWebhook http.Handler
}

// EventReader reads the numbered outbound events; eventflow.Store (and
// so pgstore.Store) is one.
type EventReader interface {
	// EventsAfter returns up to limit numbered events after position, in
	// order; types nil is every type.
	EventsAfter(ctx context.Context, position int64, types []string, limit int) ([]eventflow.Event, error)
}

var _ EventReader = eventflow.Store(nil)

// Metrics is what the API reports to and serves /metrics from.
type Metrics interface {
	ObserveRequest(route, method string, status int, d time.Duration)
	Handler() http.Handler
}

// Route is one entry of the API's route table with the roles it admits;
// tests walk this table so no route goes without a rule.
type Route struct {
	Method, Path string
	Roles        []claimflow.Role // empty: no token needed
	// Export routes stream large downloads; they get ExportTimeout
	// rather than the request timeout.
	Export bool
	// Stream routes move a file: they get StreamTimeout, and an upload's
	// body may be as large as a file.
	Stream  bool
	handler echo.HandlerFunc
}

type api struct {
	Deps
	own         map[string]bool // the API's own route paths
	exports     map[string]bool // route paths that stream downloads
	streams     map[string]bool // "METHOD path" of routes that move a file
	exportSlots *export.Slots   // one per export streaming now
}

// Routes returns the API's route table.
func (a *api) routes() []Route {
	all := []claimflow.Role{claimflow.RoleShopper, claimflow.RoleSeller, claimflow.RoleAgent, claimflow.RoleFinance, claimflow.RoleAdmin}
	staff := []claimflow.Role{claimflow.RoleAgent, claimflow.RoleFinance, claimflow.RoleAdmin}
	books := []claimflow.Role{claimflow.RoleFinance, claimflow.RoleAdmin}
	brandReaders := []claimflow.Role{claimflow.RoleAdmin, claimflow.RoleRightsHolder}
	investigators := []claimflow.Role{claimflow.RoleAdmin, claimflow.RoleEnforcement}
	// A claim's evidence: its shopper and seller (each their own files),
	// staff, and a brand's rights holders (the shopper's photos of a
	// confirmed counterfeit of their brand).
	evidenceReaders := append(slices.Clone(all), claimflow.RoleRightsHolder)
	// the platform's own systems and administrators: events, webhooks
	platform := []claimflow.Role{claimflow.RoleService, claimflow.RoleAdmin}
	// who tunes the decision policy: the policy lab
	lab := []claimflow.Role{claimflow.RoleAdmin, claimflow.RoleRisk}
	return []Route{
		{Method: http.MethodGet, Path: "/healthz", handler: a.healthz},
		{Method: http.MethodGet, Path: "/readyz", handler: a.readyz},
		{Method: http.MethodGet, Path: "/openapi.json", handler: a.openapi},
		{Method: http.MethodGet, Path: "/events.schema.json", handler: a.eventsSchema},
		{Method: http.MethodGet, Path: "/metrics", handler: a.metrics},
		{Method: http.MethodPost, Path: "/webhooks/stripe", handler: a.stripeWebhook},
		{Method: http.MethodPut, Path: "/v1/sellers/:id", Roles: []claimflow.Role{claimflow.RoleService, claimflow.RoleAdmin}, handler: a.putSeller},
		{Method: http.MethodPut, Path: "/v1/orders/:id", Roles: []claimflow.Role{claimflow.RoleService, claimflow.RoleAdmin}, handler: a.putOrder},
		{Method: http.MethodPut, Path: "/v1/brands/:id", Roles: []claimflow.Role{claimflow.RoleService, claimflow.RoleAdmin}, handler: a.putBrand},
		{Method: http.MethodGet, Path: "/v1/brands", Roles: brandReaders, handler: a.listBrands},
		{Method: http.MethodGet, Path: "/v1/brands/:id", Roles: brandReaders, handler: a.getBrand},
		{Method: http.MethodGet, Path: "/v1/brands/:id/counterfeits", Roles: brandReaders, Export: true, handler: a.getBrandCounterfeits},
		{Method: http.MethodPut, Path: "/v1/brands/:id/counterfeits/:claim_id/verdict", Roles: []claimflow.Role{claimflow.RoleRightsHolder}, handler: a.putVerdict},
		{Method: http.MethodGet, Path: "/v1/intelligence/signing-key", handler: a.getSigningKey},
		{Method: http.MethodGet, Path: "/v1/intelligence/cases", Roles: investigators, handler: a.listCases},
		{Method: http.MethodGet, Path: "/v1/intelligence/cases/:id", Roles: investigators, handler: a.getCase},
		{Method: http.MethodGet, Path: "/v1/intelligence/cases/:id/packet", Roles: investigators, handler: a.getCasePacket},
		{Method: http.MethodPost, Path: "/v1/intelligence/cases/:id/status", Roles: investigators, handler: a.postCaseStatus},
		{Method: http.MethodGet, Path: "/v1/intelligence/access-log", Roles: []claimflow.Role{claimflow.RoleAdmin}, handler: a.listAccessLog},
		{Method: http.MethodGet, Path: "/v1/intelligence/rights-holders", Roles: []claimflow.Role{claimflow.RoleAdmin}, handler: a.listRightsHolderRatings},
		{Method: http.MethodPost, Path: "/v1/claims", Roles: []claimflow.Role{claimflow.RoleShopper}, handler: a.postClaim},
		{Method: http.MethodGet, Path: "/v1/claims", Roles: all, handler: a.listClaims},
		{Method: http.MethodGet, Path: "/v1/claims/:id", Roles: all, handler: a.getClaim},
		{Method: http.MethodGet, Path: "/v1/claims/:id/events", Roles: all, handler: a.listClaimEvents},
		{Method: http.MethodPost, Path: "/v1/claims/:id/evidence", Roles: []claimflow.Role{claimflow.RoleShopper, claimflow.RoleSeller}, Stream: true, handler: a.postEvidence},
		{Method: http.MethodGet, Path: "/v1/claims/:id/evidence", Roles: evidenceReaders, handler: a.listEvidence},
		{Method: http.MethodGet, Path: "/v1/claims/:id/evidence/:eid", Roles: evidenceReaders, Stream: true, handler: a.getEvidenceFile},
		{Method: http.MethodGet, Path: "/v1/claims/:id/evidence/:eid/thumbnail", Roles: evidenceReaders, handler: a.getEvidenceThumbnail},
		{Method: http.MethodGet, Path: "/v1/claims/:id/detail", Roles: staff, handler: a.getClaimDetail},
		{Method: http.MethodPost, Path: "/v1/claims/:id/override", Roles: []claimflow.Role{claimflow.RoleAgent}, handler: a.postOverride},
		{Method: http.MethodPost, Path: "/v1/claims/:id/contest", Roles: []claimflow.Role{claimflow.RoleSeller}, handler: a.postContest},
		{Method: http.MethodPost, Path: "/v1/claims/:id/contest/resolution", Roles: []claimflow.Role{claimflow.RoleAgent}, handler: a.postContestResolution},
		{Method: http.MethodGet, Path: "/v1/review-queue", Roles: []claimflow.Role{claimflow.RoleAgent, claimflow.RoleAdmin}, handler: a.getReviewQueue},
		{Method: http.MethodGet, Path: "/v1/sellers/:id/balance", Roles: []claimflow.Role{claimflow.RoleSeller, claimflow.RoleFinance, claimflow.RoleAdmin}, handler: a.getSellerBalance},
		{Method: http.MethodGet, Path: "/v1/sellers/:id/standing", Roles: []claimflow.Role{claimflow.RoleSeller, claimflow.RoleAgent, claimflow.RoleFinance, claimflow.RoleAdmin}, handler: a.getSellerStanding},
		{Method: http.MethodGet, Path: "/v1/sellers/:id/statement", Roles: []claimflow.Role{claimflow.RoleSeller, claimflow.RoleFinance, claimflow.RoleAdmin}, Export: true, handler: a.getSellerStatement},
		{Method: http.MethodGet, Path: "/v1/finance/chargebacks", Roles: books, Export: true, handler: a.listChargebacks},
		{Method: http.MethodPost, Path: "/v1/finance/recoveries", Roles: []claimflow.Role{claimflow.RoleFinance}, handler: a.postRecovery},
		{Method: http.MethodPost, Path: "/v1/finance/reconciliations", Roles: books, handler: a.postReconciliation},
		{Method: http.MethodGet, Path: "/v1/finance/reconciliations", Roles: books, handler: a.listReconciliations},
		{Method: http.MethodGet, Path: "/v1/finance/reconciliations/:id", Roles: books, handler: a.getReconciliation},
		{Method: http.MethodGet, Path: "/v1/finance/reconciliations/:id/items", Roles: books, Export: true, handler: a.listReconciliationItems},
		{Method: http.MethodPost, Path: "/v1/finance/reconciliations/:id/exceptions/:seq/resolution", Roles: []claimflow.Role{claimflow.RoleFinance}, handler: a.postExceptionResolution},
		{Method: http.MethodGet, Path: "/v1/finance/protection", Roles: books, handler: a.getProtection},
		{Method: http.MethodGet, Path: "/v1/finance/ledger/trial-balance", Roles: books, handler: a.getTrialBalance},
		{Method: http.MethodGet, Path: "/v1/finance/ledger/transactions", Roles: books, Export: true, handler: a.listLedgerTransactions},
		{Method: http.MethodPost, Path: "/v1/policies", Roles: lab, handler: a.postPolicy},
		{Method: http.MethodGet, Path: "/v1/policies", Roles: lab, handler: a.listPolicies},
		{Method: http.MethodGet, Path: "/v1/policies/:version", Roles: lab, handler: a.getPolicy},
		{Method: http.MethodGet, Path: "/v1/policies/:version/diff", Roles: lab, handler: a.getPolicyDiff},
		{Method: http.MethodPost, Path: "/v1/policies/:version/activate", Roles: lab, handler: a.postPolicyActivate},
		{Method: http.MethodPost, Path: "/v1/policies/:version/shadow", Roles: lab, handler: a.postPolicyShadow},
		{Method: http.MethodDelete, Path: "/v1/policies/:version/shadow", Roles: lab, handler: a.deletePolicyShadow},
		{Method: http.MethodGet, Path: "/v1/policies/:version/shadow-report", Roles: lab, handler: a.getShadowReport},
		{Method: http.MethodGet, Path: "/v1/policies/:version/shadow-report/claims", Roles: lab, Export: true, handler: a.listShadowClaims},
		{Method: http.MethodPost, Path: "/v1/policies/:version/backtests", Roles: lab, handler: a.postBacktest},
		{Method: http.MethodGet, Path: "/v1/policies/:version/backtests", Roles: lab, handler: a.listBacktests},
		{Method: http.MethodGet, Path: "/v1/policy-backtests/:id", Roles: lab, handler: a.getBacktest},
		{Method: http.MethodGet, Path: "/v1/policy-backtests/:id/claims", Roles: lab, Export: true, handler: a.listBacktestClaims},
		{Method: http.MethodGet, Path: "/v1/events", Roles: platform, handler: a.listEvents},
		{Method: http.MethodPost, Path: "/v1/webhook-endpoints", Roles: platform, handler: a.postWebhookEndpoint},
		{Method: http.MethodGet, Path: "/v1/webhook-endpoints", Roles: platform, handler: a.listWebhookEndpoints},
		{Method: http.MethodGet, Path: "/v1/webhook-endpoints/:id", Roles: platform, handler: a.getWebhookEndpoint},
		{Method: http.MethodPatch, Path: "/v1/webhook-endpoints/:id", Roles: platform, handler: a.patchWebhookEndpoint},
		{Method: http.MethodDelete, Path: "/v1/webhook-endpoints/:id", Roles: platform, handler: a.deleteWebhookEndpoint},
		{Method: http.MethodPost, Path: "/v1/webhook-endpoints/:id/rotate-secret", Roles: platform, handler: a.postRotateWebhookSecret},
		{Method: http.MethodGet, Path: "/v1/webhook-endpoints/:id/deliveries", Roles: platform, handler: a.listWebhookDeliveries},
		{Method: http.MethodPost, Path: "/v1/webhook-endpoints/:id/replay", Roles: platform, handler: a.postWebhookReplay},
	}
}

// New returns the API's router with every route and middleware in place.
func New(d Deps) *echo.Echo {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 256 << 10
	}
	if d.RequestTimeout <= 0 {
		d.RequestTimeout = 15 * time.Second
	}
	if d.ExportTimeout <= 0 {
		d.ExportTimeout = 10 * time.Minute
	}
	if d.MaxExports <= 0 {
		d.MaxExports = 4
	}
	if d.StreamTimeout <= 0 {
		d.StreamTimeout = 3 * time.Minute
	}
	if d.StreamIdle <= 0 {
		d.StreamIdle = 15 * time.Second
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	a := &api{Deps: d, own: map[string]bool{}, exports: map[string]bool{}, streams: map[string]bool{}, exportSlots: export.NewSlots(d.MaxExports)}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(d.Logger)
	e.Use(
		middleware.RequestID(),
		a.accessLog,
		middleware.RecoverWithConfig(middleware.RecoverConfig{LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			d.Logger.ErrorContext(c.Request().Context(), "panic", "err", err, "stack", string(stack))
			return err
		}}),
		a.headerLimit,
		a.queryOnce,
		a.limits,
	)
	authn := authenticate(auth.Keys{Secret: d.Secret, Previous: d.PreviousSecrets, Issuer: d.Issuer, Audience: d.Audience, JWKS: d.JWKS}, d.Now)
	for _, p := range d.ExportPaths {
		a.exports[p] = true
	}
	for _, r := range a.routes() {
		a.own[r.Path] = true
		if r.Export {
			a.exports[r.Path] = true
		}
		if r.Stream {
			a.streams[r.Method+" "+r.Path] = true
		}
		if d.HealthOnly && len(r.Roles) > 0 {
			continue
		}
		var mw []echo.MiddlewareFunc
		if len(r.Roles) > 0 {
			mw = append(mw, authn, allow(r.Roles...))
		}
		if r.Export {
			mw = append(mw, a.exportLimit)
		}
		e.Add(r.Method, r.Path, r.handler, mw...)
	}
	return e
}

// RouteTable returns the route table without handlers, for tests and docs.
func RouteTable() []Route {
	var a api
	rs := a.routes()
	for i := range rs {
		rs[i].handler = nil
	}
	return rs
}

// headerLimit refuses a request whose headers are over MaxHeaderBytes.
// Routes others mounted on the router (the console) answer it themselves,
// in their own shape.
func (a *api) headerLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p := c.Path(); (p == "" || a.own[p]) && web.HeaderBytes(c.Request()) > web.MaxHeaderBytes {
			return newError(http.StatusRequestHeaderFieldsTooLarge, "headers_too_large",
				fmt.Sprintf("the request line and headers must be at most %d bytes; send fewer or smaller headers", web.MaxHeaderBytes), "")
		}
		return next(c)
	}
}

// queryOnce refuses a query parameter given more than once on the API's
// routes: each takes one value, and a proxy or cache may read another of
// the two than the API would.
func (a *api) queryOnce(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p := c.Path(); p == "" || a.own[p] {
			for name, values := range c.QueryParams() {
				if len(values) > 1 {
					return newError(http.StatusBadRequest, "duplicate_parameter", "is given more than once; give each parameter once", name)
				}
			}
		}
		return next(c)
	}
}

// limits caps the body size and the request's time. A route that moves
// a file takes a body as large as a file and StreamTimeout, and a client
// that stops sending for StreamIdle is cut off.
func (a *api) limits(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		timeout, maxBody := a.RequestTimeout, a.MaxBodyBytes
		if a.exports[c.Path()] {
			timeout = a.ExportTimeout
		}
		route := req.Method + " " + c.Path()
		if files := max(a.StreamPaths[route], b2i(a.streams[route])); files > 0 && a.Evidence != nil {
			timeout = a.StreamTimeout
			maxBody = int64(files)*a.Evidence.Limits().MaxBytes + uploadOverhead
			req.Body = idleReader(c.Response(), req.Body, a.StreamIdle, time.Now().Add(timeout))
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, maxBody)
		ctx, cancel := context.WithTimeout(req.Context(), timeout)
		defer cancel()
		c.SetRequest(req.WithContext(ctx))
		return next(c)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// accessLog writes one structured line per request.
func (a *api) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		v := viewer(c)
		latency := time.Since(start)
		if a.Metrics != nil {
			a.Metrics.ObserveRequest(c.Path(), c.Request().Method, c.Response().Status, latency)
		}
		a.Logger.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
			slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
			slog.String("method", c.Request().Method),
			slog.String("route", c.Path()),
			slog.Int("status", c.Response().Status),
			slog.Int64("bytes", c.Response().Size),
			slog.Duration("latency", latency),
			slog.String("role", string(v.Role)),
			slog.String("sub", v.Subject),
		)
		return nil
	}
}

func (a *api) metrics(c echo.Context) error {
	if a.Metrics == nil {
		return c.String(http.StatusOK, "")
	}
	a.Metrics.Handler().ServeHTTP(c.Response(), c.Request())
	return nil
}

// stripeWebhook hands the delivery to the Stripe adapter, which answers
// Stripe itself; the route needs no token: the signature is the proof.
func (a *api) stripeWebhook(c echo.Context) error {
	if a.StripeWebhook == nil {
		return newError(http.StatusNotFound, "stripe_not_configured", "this engine does not take payments through Stripe", "")
	}
	a.StripeWebhook.ServeHTTP(c.Response(), c.Request())
	return nil
}

func (a *api) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (a *api) readyz(c echo.Context) error {
	if a.Ready != nil {
		if err := a.Ready(c.Request().Context()); err != nil {
			return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "reason": err.Error()})
		}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
