package console_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimsd/claimsd/adapters/auth"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/blobstore"
	"github.com/claimsd/claimsd/adapters/console"
	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/media"
	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/evidence"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/brandflow"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
	"github.com/claimsd/claimsd/workflows/intelflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
	"github.com/claimsd/claimsd/workflows/standingflow"
	"github.com/claimsd/claimsd/workflows/webhookflow"
)

var store *pgstore.Store

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, "console", &store)) }

var secret = []byte("console-test-secret-console-test-secret")

const day = 24 * time.Hour

// The amounts that put a new shopper's claim where a test needs it under
// the default policy.
const (
	instantAmount = 1000  // 10.00 EUR: refunded at once
	reviewAmount  = 20000 // 200.00 EUR: sent to a person
)

// testBundle is one test's engine (the API's router with the console
// mounted on it) and its own ids, so parallel tests never see each
// other's data.
type testBundle struct {
	e     *echo.Echo
	svc   *claimflow.Service
	clock *clock
	keys  auth.Keys
	id    string
	// routes is the console's route table, as Mount returned it.
	routes []console.Route
	// intel is counterfeit intelligence, brands registers brands.
	intel  *intelflow.Service
	brands *brandflow.Service
	// hooks manages webhook endpoints; it takes http:// and loopback
	// addresses, so tests' receivers run on httptest servers.
	hooks *webhookflow.Service
	// proofs takes and serves evidence files.
	proofs *evidenceflow.Service
	// lab is the policy lab.
	lab *policyflow.Service
}

// clock is a test clock a test may move forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	// A burst no test reaches; TestClaimLimitSharedWithTheAPI tests the
	// limit itself.
	return setupWithBurst(t, 10000)
}

// setupWithBurst is setup with the API and the console sharing one
// claim limiter that allows burst claims at once per shopper.
func setupWithBurst(t *testing.T, burst int) *testBundle {
	t.Helper()
	return newBundle(t, store, burst, false)
}

// newBundle builds the engine on st. The policy lab keeps its versions in
// st, the built-in policy seeded as the active one if none is; with live,
// claims are decided by the lab's active version and its shadow, read
// through a policyflow.Source, as serve does. Without it they are decided
// by the built-in policy whatever is active, so tests on the shared
// database never see each other's activations.
func newBundle(t *testing.T, st *pgstore.Store, burst int, live bool) *testBundle {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	opts := []claimflow.Option{claimflow.WithLimiter(claimflow.NewClaimLimiter(claimflow.DefaultClaimsPerMinute, burst, clk.Now))}
	var src *policyflow.Source
	if live {
		src = policyflow.NewSource(st, policyfile.Codec{}, policyfile.Default(), nil)
		opts = append(opts, claimflow.WithPolicies(src))
	}
	lab := policyflow.New(policyflow.Config{Store: st, Codec: policyfile.Codec{}, Source: src, Now: clk.Now})
	_, err := lab.Seed(ctx, policyfile.Default())
	require.NoError(t, err)
	if src != nil {
		require.NoError(t, src.Refresh(ctx))
	}
	svc := claimflow.NewService(st, policyfile.Default(), clk.Now, opts...)
	fin := financeflow.New(financeflow.Config{Store: st, Now: clk.Now,
		Providers: []financeflow.ProviderRecords{sandbox.New(st.DB(), sandbox.Config{})}})
	keys := auth.Keys{Secret: secret}
	standings := standingflow.NewService(st, clk.Now)
	signer, err := intel.NewSigner(intel.DeriveSeed(secret))
	require.NoError(t, err)
	intelligence := intelflow.NewService(st, signer, clk.Now)
	brands := brandflow.NewService(st, clk.Now)
	hooks := webhookflow.NewService(st, webhookflow.Options{AllowPrivate: true, Now: clk.Now})
	proofs := evidenceflow.NewService(st, svc, blobstore.NewPostgres(st.Pool()), media.Reader{},
		evidenceflow.Config{Audit: intelligence.RecordAccess}, clk.Now)
	e := httpapi.New(httpapi.Deps{Claims: svc, Finance: fin, Standing: standings, Brands: brands, Intel: intelligence,
		Webhooks: hooks, Evidence: proofs, Secret: secret, Now: clk.Now, ExportPaths: console.DownloadPaths(), StreamPaths: console.UploadPaths(evidence.DefaultMaxFiles)})
	routes := console.Mount(e, console.Deps{Claims: svc, Finance: fin, Standing: standings, Intel: intelligence, Events: st,
		Webhooks: hooks, Evidence: proofs, Policies: lab, Keys: keys, Logins: st, Now: clk.Now})
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return &testBundle{e: e, svc: svc, clock: clk, keys: keys, id: hex.EncodeToString(b), routes: routes,
		intel: intelligence, brands: brands, hooks: hooks, proofs: proofs, lab: lab}
}

// name returns this test's id for a short name: "shp_bob" → "shp_bob_3fa2…".
func (b *testBundle) name(s string) string { return s + "_" + b.id }

var agent = claimflow.Viewer{Role: "agent", Subject: "checker"}

// fileClaim creates a seller (once per short name) and an order of the
// shopper's, paid three days ago and delivered yesterday, and files a
// counterfeit claim on it for amount; it returns the claim's id.
func (b *testBundle) fileClaim(t *testing.T, sellerShort, shopper string, amount int64) string {
	t.Helper()
	ctx := context.Background()
	sellerID := b.name(sellerShort)
	_, _, err := b.svc.PutSeller(ctx, seller.Params{ID: sellerID, Name: "Seller " + sellerShort, RiskScore: 10, Verified: true})
	require.NoError(t, err)
	now := b.clock.Now()
	paid, delivered := now.Add(-3*day), now.Add(-day)
	orderID := b.name(fmt.Sprintf("ord_%d", time.Now().UnixNano()))
	_, _, err = b.svc.PutOrder(ctx, order.Params{
		ID: orderID, BuyerID: shopper, SellerID: sellerID, Currency: "EUR", Amount: amount,
		Items:   []order.Item{{SKU: "sku_a", Name: "Sneakers", Quantity: 1, UnitAmount: amount}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_" + orderID},
		PaidAt:  &paid, DeliveredAt: &delivered,
	})
	require.NoError(t, err)
	rec, err := b.svc.Submit(ctx, orderID, claim.Request{ShopperID: shopper, Reason: "counterfeit",
		Description: "The logo is misprinted and the sole is glued, not stitched.",
		Evidence:    []claim.Evidence{{Kind: "photo", URL: "https://img.example/" + orderID + ".jpg"}}})
	require.NoError(t, err)
	return rec.Claim.ID()
}

// reviewClaim files a claim that waits for a person.
func (b *testBundle) reviewClaim(t *testing.T, sellerShort string) string {
	t.Helper()
	id := b.fileClaim(t, sellerShort, b.name("shp_new"), reviewAmount)
	require.Equal(t, claim.StatusInReview, b.get(t, id).Claim.Status())
	return id
}

func (b *testBundle) get(t *testing.T, id string) claimflow.Record {
	t.Helper()
	rec, err := b.svc.Get(context.Background(), agent, id)
	require.NoError(t, err)
	return rec
}

func (b *testBundle) events(t *testing.T, id string) []claim.Event {
	t.Helper()
	evs, err := b.svc.Events(context.Background(), agent, id)
	require.NoError(t, err)
	return evs
}

// loginPath returns a fresh one-time sign-in link's path and query.
func (b *testBundle) loginPath(t *testing.T, role, sub string) string {
	t.Helper()
	link, err := console.LoginURL(b.keys, "http://console.test", role, sub, console.LoginTTL, b.clock.Now())
	require.NoError(t, err)
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.Equal(t, "/console/login", u.Path)
	return u.RequestURI()
}

type response struct {
	Code   int
	Header http.Header
	Body   string
	// Cookies the response set.
	Cookies []*http.Cookie
}

// do sends a request through the real router; form, when not nil, is sent
// as a urlencoded body.
func (b *testBundle) do(t *testing.T, method, path string, cookie *http.Cookie, form url.Values) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	res := rec.Result()
	defer res.Body.Close()
	return response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.String(), Cookies: res.Cookies()}
}

// signedIn is a browser's session: its cookie and its forms' token.
type signedIn struct {
	cookie *http.Cookie
	csrf   string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

var nonceField = regexp.MustCompile(`name="n" value="([^"]+)"`)

// openLink opens a sign-in link's page, as a browser does, and returns
// what pressing its button sends: the page's nonce cookie and the form.
func (b *testBundle) openLink(t *testing.T, pathAndQuery string) (*http.Cookie, url.Values) {
	t.Helper()
	page := b.do(t, http.MethodGet, pathAndQuery, nil, nil)
	require.Equal(t, http.StatusOK, page.Code, page.Body)
	var nonce *http.Cookie
	for _, c := range page.Cookies {
		if c.Name == console.LoginNonceCookie {
			nonce = &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	require.NotNil(t, nonce, "the sign-in page set no nonce cookie")
	m := nonceField.FindStringSubmatch(page.Body)
	require.NotNil(t, m, "the sign-in form has no nonce")
	u, err := url.Parse(pathAndQuery)
	require.NoError(t, err)
	return nonce, url.Values{"t": {u.Query().Get("t")}, "n": {m[1]}}
}

// signIn spends a sign-in link for role and sub and returns the session,
// with the form token read from a page, as a browser would.
func (b *testBundle) signIn(t *testing.T, role, sub string) signedIn {
	t.Helper()
	nonce, form := b.openLink(t, b.loginPath(t, role, sub))
	r := b.do(t, http.MethodPost, "/console/login", nonce, form)
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	var ck *http.Cookie
	for _, c := range r.Cookies {
		if c.Name == console.SessionCookie {
			ck = c
		}
	}
	require.NotNil(t, ck, "no session cookie set")
	page := b.do(t, http.MethodGet, "/console", ck, nil)
	if page.Code == http.StatusSeeOther {
		page = b.do(t, http.MethodGet, page.Header.Get("Location"), ck, nil)
	}
	require.Equal(t, http.StatusOK, page.Code, page.Body)
	m := csrfField.FindStringSubmatch(page.Body)
	require.NotNil(t, m, "no form token on the page")
	return signedIn{cookie: &http.Cookie{Name: ck.Name, Value: ck.Value}, csrf: m[1]}
}

// post sends a form of the session's, with its token.
func (b *testBundle) post(t *testing.T, s signedIn, path string, form url.Values) response {
	t.Helper()
	form.Set("csrf", s.csrf)
	return b.do(t, http.MethodPost, path, s.cookie, form)
}

// requireUnchanged checks that the claim's version and timeline are what
// they were.
func (b *testBundle) requireUnchanged(t *testing.T, id string, before claimflow.Record, beforeEvents []claim.Event) {
	t.Helper()
	now := b.get(t, id)
	require.Equal(t, before.Claim.Version(), now.Claim.Version(), "the claim changed")
	require.Equal(t, before.Claim.Status(), now.Claim.Status())
	require.Len(t, b.events(t, id), len(beforeEvents), "the timeline changed")
}

// newRecorder sends req through the real router as it is.
func newRecorder(b *testBundle, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	return rec
}
