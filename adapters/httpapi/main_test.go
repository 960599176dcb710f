package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/adapters/blobstore"
	"github.com/claimsd/claimsd/adapters/media"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/intel"
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

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, "httpapi", &store)) }

var secret = []byte("test-secret-test-secret-test-secret!")

// testBundle is one test's router and its own ids, so parallel tests never
// see each other's data.
type testBundle struct {
	e     *echo.Echo
	now   time.Time // the clock's start
	clock *clock    // the services' clock, at now until a test moves it
	id    string    // unique prefix for this test's sellers, orders and shoppers
	fin   *financeflow.Service
	// evidenceSvc takes the evidence files, in this database's blob store.
	evidenceSvc *evidenceflow.Service
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

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func setup(t *testing.T) *testBundle { return setupOn(t, store) }

// setupOn builds the router on st: the package's store, or a database of
// a test's own (for reports that read everything, like reconciliation).
func setupOn(t *testing.T, st *pgstore.Store, opts ...func(*httpapi.Deps)) *testBundle {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	clk := &clock{t: now}
	svc := claimflow.NewService(st, policyfile.Default(), clk.Now)
	fin := financeflow.New(financeflow.Config{Store: st, Now: clk.Now,
		Providers: []financeflow.ProviderRecords{sandbox.New(st.DB(), sandbox.Config{})}})
	signer, err := intel.NewSigner(intel.DeriveSeed(secret))
	require.NoError(t, err)
	intelligence := intelflow.NewService(st, signer, clk.Now)
	proofs := evidenceflow.NewService(st, svc, blobstore.NewPostgres(st.Pool()), media.Reader{},
		evidenceflow.Config{Audit: intelligence.RecordAccess}, clk.Now)
	deps := httpapi.Deps{
		Evidence:     proofs,
		Claims:       svc,
		Finance:      fin,
		Standing:     standingflow.NewService(st, clk.Now),
		Brands:       brandflow.NewService(st, clk.Now),
		Intel:        intelligence,
		Events:       st,
		Webhooks:     webhookflow.NewService(st, webhookflow.Options{Now: clk.Now}),
		Policies:     policyflow.New(policyflow.Config{Store: st, Codec: policyfile.Codec{}, Now: clk.Now}),
		Ready:        func(ctx context.Context) error { return st.Ping(ctx) },
		Secret:       secret,
		MaxBodyBytes: 8 << 10,
		Now:          clk.Now,
	}
	for _, o := range opts {
		o(&deps)
	}
	e := httpapi.New(deps)
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return &testBundle{e: e, now: now, clock: clk, id: hex.EncodeToString(b), fin: fin, evidenceSvc: proofs}
}

// name returns this test's id for a short name: "shp_alice" → "shp_alice_3fa2…".
func (b *testBundle) name(s string) string { return s + "_" + b.id }

func (b *testBundle) token(t *testing.T, role string, sub string) string {
	t.Helper()
	tok, err := auth.MintToken(secret, claimflow.Role(role), sub, time.Hour, b.clock.Now())
	require.NoError(t, err)
	return tok
}

type response struct {
	Code   int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), string(r.Body))
	return m
}

// errorOf returns the error object of an error response.
func (r response) errorOf(t *testing.T) map[string]any {
	t.Helper()
	m := r.json(t)
	e, ok := m["error"].(map[string]any)
	require.True(t, ok, "no error object in %s", r.Body)
	return e
}

// do sends a request through the real router. body may be a string (sent
// as is), nil, or a value to encode as JSON.
func (b *testBundle) do(t *testing.T, method, path, token string, body any, headers ...string) response {
	t.Helper()
	var rd *bytes.Reader
	switch v := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(v))
	case upload:
		rd = bytes.NewReader(v.data)
		headers = append([]string{"Content-Type", v.contentType}, headers...)
	default:
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if _, ok := body.(upload); body != nil && !ok {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	return response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// seed creates a seller and an order through the API and returns the
// order id. opts may override order fields.
func (b *testBundle) seed(t *testing.T, sellerRisk int, buyer string, amount int64, paidAgo, deliveredAgo time.Duration) (sellerID, orderID string) {
	t.Helper()
	svc := b.token(t, "service", "platform")
	sellerID = b.name(fmt.Sprintf("sel_r%d", sellerRisk))
	r := b.do(t, http.MethodPut, "/v1/sellers/"+sellerID, svc, map[string]any{"name": "Seller " + sellerID, "risk_score": sellerRisk, "verified": true})
	require.Contains(t, []int{200, 201}, r.Code, string(r.Body))
	orderID = b.name(fmt.Sprintf("ord_%d", time.Now().UnixNano()))
	order := map[string]any{
		"buyer_id": buyer, "seller_id": sellerID, "currency": "EUR", "amount": amount,
		"items":   []map[string]any{{"sku": "sku_a", "name": "Thing", "quantity": 1, "unit_amount": amount}},
		"payment": map[string]any{"provider": "sandbox", "reference": "pay_" + orderID},
		"paid_at": b.now.Add(-paidAgo).Format(time.RFC3339),
	}
	if deliveredAgo > 0 {
		order["delivered_at"] = b.now.Add(-deliveredAgo).Format(time.RFC3339)
	}
	r = b.do(t, http.MethodPut, "/v1/orders/"+orderID, svc, order)
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	return sellerID, orderID
}

func claimBody(orderID string, extra ...any) map[string]any {
	m := map[string]any{"order_id": orderID, "reason": "counterfeit", "description": "The logo is wrong and the stitching is loose."}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func httpapiMint(role claimflow.Role, sub string, ttl time.Duration) (string, error) {
	return auth.MintToken(secret, role, sub, ttl, time.Now())
}
