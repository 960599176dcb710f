package httpapi_test

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

const day = 24 * time.Hour

func TestSubmitClaimDecides(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name         string
		giveRisk     int
		giveAmount   int64
		givePaidAgo  time.Duration
		giveDelivAgo time.Duration
		wantOutcome  string
		wantStatus   string
		wantReason   string
	}{
		{name: "new shopper, small amount", giveRisk: 10, giveAmount: 3000, givePaidAgo: 3 * day, giveDelivAgo: day,
			wantOutcome: "instant_refund", wantStatus: "approved", wantReason: "small_amount_new_shopper"},
		{name: "above the new tier's limit", giveRisk: 10, giveAmount: 40000, givePaidAgo: 3 * day, giveDelivAgo: day,
			wantOutcome: "manual_review", wantStatus: "in_review", wantReason: "above_instant_limit"},
		{name: "outside the claim window", giveRisk: 10, giveAmount: 3000, givePaidAgo: 400 * day, giveDelivAgo: 399 * day,
			wantOutcome: "rejected", wantStatus: "rejected", wantReason: "outside_claim_window"},
		{name: "high-risk seller", giveRisk: 90, giveAmount: 9000, givePaidAgo: 3 * day, giveDelivAgo: day,
			wantOutcome: "instant_refund", wantStatus: "approved", wantReason: "high_risk_seller"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			shopper := b.name("shp")
			_, orderID := b.seed(t, tt.giveRisk, shopper, tt.giveAmount, tt.givePaidAgo, tt.giveDelivAgo)
			r := b.do(t, http.MethodPost, "/v1/claims", b.token(t, "shopper", shopper), claimBody(orderID))
			require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
			got := r.json(t)
			require.Equal(t, tt.wantStatus, got["status"])
			require.Equal(t, tt.giveAmount, int64(got["amount"].(float64)))
			require.Equal(t, "EUR", got["currency"])
			d := got["decision"].(map[string]any)
			require.Equal(t, tt.wantOutcome, d["outcome"])
			require.NotEmpty(t, d["policy_version"])
			require.Nil(t, d["facts"], "a shopper must not see the facts snapshot")
			var codes []string
			for _, rs := range d["reasons"].([]any) {
				m := rs.(map[string]any)
				require.NotEmpty(t, m["message"])
				codes = append(codes, m["code"].(string))
			}
			require.Contains(t, codes, tt.wantReason)
		})
	}
}

func TestClaimReadAccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice, mallory := b.name("shp_alice"), b.name("shp_mallory")
	_, orderID := b.seed(t, 10, alice, 2500, 3*day, day)
	aliceTok := b.token(t, "shopper", alice)

	r := b.do(t, http.MethodPost, "/v1/claims", aliceTok, claimBody(orderID, "evidence",
		[]map[string]any{{"kind": "photo", "url": "https://img.example/fake-logo.jpg"}}))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	id := r.json(t)["id"].(string)
	require.True(t, strings.HasPrefix(id, "clm_"))

	// The owner sees it; another shopper gets 404, not 403.
	r = b.do(t, http.MethodGet, "/v1/claims/"+id, aliceTok, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Equal(t, id, r.json(t)["id"])
	r = b.do(t, http.MethodGet, "/v1/claims/"+id, b.token(t, "shopper", mallory), nil)
	require.Equal(t, http.StatusNotFound, r.Code)
	require.Equal(t, "claim_not_found", r.errorOf(t)["code"])
	r = b.do(t, http.MethodGet, "/v1/claims/"+id+"/events", b.token(t, "shopper", mallory), nil)
	require.Equal(t, http.StatusNotFound, r.Code)

	// Agents see the facts the decision used.
	r = b.do(t, http.MethodGet, "/v1/claims/"+id, b.token(t, "agent", "ana"), nil)
	require.Equal(t, http.StatusOK, r.Code)
	facts := r.json(t)["decision"].(map[string]any)["facts"].(map[string]any)
	require.Equal(t, float64(10), facts["seller_risk_score"])
	require.Equal(t, float64(2500), facts["amount"])

	// The timeline: submitted, then decided.
	r = b.do(t, http.MethodGet, "/v1/claims/"+id+"/events", aliceTok, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	events := r.json(t)["data"].([]any)
	require.Len(t, events, 2)
	require.Equal(t, "submitted", events[0].(map[string]any)["type"])
	decided := events[1].(map[string]any)
	require.Equal(t, "decided", decided["type"])
	require.Equal(t, "submitted", decided["from"])
	require.Equal(t, "approved", decided["to"])

	// Lists: the shopper sees only their own claims.
	r = b.do(t, http.MethodGet, "/v1/claims", b.token(t, "shopper", mallory), nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Empty(t, r.json(t)["data"])
	r = b.do(t, http.MethodGet, "/v1/claims", aliceTok, nil)
	require.Len(t, r.json(t)["data"], 1)
}

func TestListClaimsPaginates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp")
	tok := b.token(t, "shopper", shopper)
	var ids []string
	for range 5 {
		_, orderID := b.seed(t, 10, shopper, 1000, 3*day, day)
		r := b.do(t, http.MethodPost, "/v1/claims", tok, claimBody(orderID))
		require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
		ids = append(ids, r.json(t)["id"].(string))
	}
	var seen []string
	cursor := ""
	for page := 0; page < 10; page++ {
		path := "/v1/claims?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := b.do(t, http.MethodGet, path, tok, nil)
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		body := r.json(t)
		for _, c := range body["data"].([]any) {
			seen = append(seen, c.(map[string]any)["id"].(string))
		}
		next, _ := body["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	// Newest first (ids sort by creation time; this test's clock stands
	// still, so its ids tie on time and sort by their random part), each
	// exactly once.
	slices.Sort(ids)
	slices.Reverse(ids)
	require.Equal(t, ids, seen)

	r := b.do(t, http.MethodGet, "/v1/claims?status=approved&limit=200", b.token(t, "agent", "ana"), nil)
	require.Equal(t, http.StatusOK, r.Code)
	for _, c := range r.json(t)["data"].([]any) {
		require.Equal(t, "approved", c.(map[string]any)["status"])
	}
}

func TestSecondClaimOnSameItemsIsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp")
	tok := b.token(t, "shopper", shopper)
	svcTok := b.token(t, "service", "platform")
	sellerID, _ := b.seed(t, 10, shopper, 1000, 3*day, day)
	orderID := b.name("ord_two_items")
	r := b.do(t, http.MethodPut, "/v1/orders/"+orderID, svcTok, map[string]any{
		"buyer_id": shopper, "seller_id": sellerID, "currency": "EUR", "amount": 3000,
		"items": []map[string]any{
			{"sku": "sku_a", "name": "A", "quantity": 2, "unit_amount": 1000},
			{"sku": "sku_b", "name": "B", "quantity": 1, "unit_amount": 1000},
		},
		"payment": map[string]any{"provider": "sandbox", "reference": "pay_x"},
		"paid_at": b.now.Add(-2 * day).Format(time.RFC3339), "delivered_at": b.now.Add(-day).Format(time.RFC3339),
	})
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))

	r = b.do(t, http.MethodPost, "/v1/claims", tok, claimBody(orderID, "items", []map[string]any{{"sku": "sku_a", "quantity": 2}}))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	require.Equal(t, "approved", r.json(t)["status"])
	require.Equal(t, float64(2000), r.json(t)["amount"])

	// The same SKU again: the amount still fits, but the items were claimed.
	r = b.do(t, http.MethodPost, "/v1/claims", tok, claimBody(orderID, "items", []map[string]any{{"sku": "sku_a", "quantity": 1}}))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	got := r.json(t)
	require.Equal(t, "rejected", got["status"])
	require.Equal(t, "duplicate_claim", got["decision"].(map[string]any)["reasons"].([]any)[0].(map[string]any)["code"])

	// The other SKU is fine.
	r = b.do(t, http.MethodPost, "/v1/claims", tok, claimBody(orderID, "items", []map[string]any{{"sku": "sku_b", "quantity": 1}}))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	require.NotEqual(t, "rejected", r.json(t)["status"])

	// Now the whole order is claimed: nothing more fits.
	r = b.do(t, http.MethodPost, "/v1/claims", tok, claimBody(orderID, "amount", 1))
	require.Equal(t, http.StatusUnprocessableEntity, r.Code, string(r.Body))
	require.Equal(t, "amount_exceeds_refundable", r.errorOf(t)["code"])
	require.Equal(t, "amount", r.errorOf(t)["field"])
}

// TestConcurrentOverClaim: many claims race on one order whose amount fits
// only one of them. Exactly one is accepted, whatever the timing.
func TestConcurrentOverClaim(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp")
	tok := b.token(t, "shopper", shopper)
	_, orderID := b.seed(t, 10, shopper, 10000, 3*day, day)

	const n = 16
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := b.do(t, http.MethodPost, "/v1/claims", tok, claimBody(orderID, "amount", 6000))
			codes[i] = r.Code
		}()
	}
	close(start)
	wg.Wait()
	created := 0
	for _, c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusUnprocessableEntity:
		default:
			t.Fatalf("unexpected status %d in %v", c, codes)
		}
	}
	require.Equal(t, 1, created, "codes: %v", codes)
	var sum int64
	require.NoError(t, store.DB().QueryRowContext(context.Background(),
		`SELECT coalesce(sum(amount), 0) FROM claims WHERE order_id = $1`, orderID).Scan(&sum))
	require.Equal(t, int64(6000), sum)
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp")
	tok := b.token(t, "shopper", shopper)
	_, orderID := b.seed(t, 10, shopper, 4000, 3*day, day)
	key := "idem-" + b.id

	first := b.do(t, http.MethodPost, "/v1/claims", tok, claimBody(orderID, "amount", 1000), "Idempotency-Key", key)
	require.Equal(t, http.StatusCreated, first.Code, string(first.Body))
	require.Empty(t, first.Header.Get("Idempotency-Replayed"))

	again := b.do(t, http.MethodPost, "/v1/claims", tok, claimBody(orderID, "amount", 1000), "Idempotency-Key", key)
	require.Equal(t, http.StatusCreated, again.Code)
	require.Equal(t, "true", again.Header.Get("Idempotency-Replayed"))
	require.JSONEq(t, string(first.Body), string(again.Body))

	other := b.do(t, http.MethodPost, "/v1/claims", tok, claimBody(orderID, "amount", 1500), "Idempotency-Key", key)
	require.Equal(t, http.StatusConflict, other.Code)
	require.Equal(t, "idempotency_key_reused", other.errorOf(t)["code"])

	// Concurrent retries of one request create one claim.
	key2 := "idem2-" + b.id
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := b.do(t, http.MethodPost, "/v1/claims", tok, claimBody(orderID, "amount", 500), "Idempotency-Key", key2)
			require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
		}()
	}
	wg.Wait()
	var n int
	require.NoError(t, store.DB().QueryRowContext(context.Background(),
		`SELECT count(*) FROM claims WHERE order_id = $1`, orderID).Scan(&n))
	require.Equal(t, 2, n)
}

func TestOrderTermsLockedOnceClaimed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp")
	sellerID, orderID := b.seed(t, 10, shopper, 2000, 3*day, 0)
	r := b.do(t, http.MethodPost, "/v1/claims", b.token(t, "shopper", shopper), claimBody(orderID, "reason", "not_received"))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))

	svcTok := b.token(t, "service", "platform")
	order := map[string]any{
		"buyer_id": shopper, "seller_id": sellerID, "currency": "EUR", "amount": 3000,
		"items":   []map[string]any{{"sku": "sku_a", "name": "Thing", "quantity": 1, "unit_amount": 3000}},
		"payment": map[string]any{"provider": "sandbox", "reference": "pay_" + orderID},
		"paid_at": b.now.Add(-3 * day).Format(time.RFC3339),
	}
	r = b.do(t, http.MethodPut, "/v1/orders/"+orderID, svcTok, order)
	require.Equal(t, http.StatusConflict, r.Code, string(r.Body))
	require.Equal(t, "order_has_claims", r.errorOf(t)["code"])

	// Delivery news may still arrive.
	order["amount"] = 2000
	order["items"] = []map[string]any{{"sku": "sku_a", "name": "Thing", "quantity": 1, "unit_amount": 2000}}
	order["delivered_at"] = b.now.Format(time.RFC3339)
	r = b.do(t, http.MethodPut, "/v1/orders/"+orderID, svcTok, order)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.NotNil(t, r.json(t)["delivered_at"])
}

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/healthz", "", nil).Code)
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/readyz", "", nil).Code)
	r := b.do(t, http.MethodGet, "/v1/nope", "", nil)
	require.Equal(t, http.StatusNotFound, r.Code)
	require.Equal(t, "route_not_found", r.errorOf(t)["code"])
}

// TestDatabaseDownIs503: with the database unreachable, reads answer 503
// with Retry-After, never 500, and /readyz says not ready.
func TestDatabaseDownIs503(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	dead, err := pgstore.Open(ctx, "postgres://claimsd@"+addr+"/claimsd?sslmode=disable&connect_timeout=2", pgstore.PoolConfig{MaxConns: 1})
	require.NoError(t, err)
	defer dead.Close()
	b := setup(t)
	b.e = httpapi.New(httpapi.Deps{
		Claims: claimflow.NewService(dead, policyfile.Default(), time.Now),
		Ready:  func(ctx context.Context) error { return dead.Ping(ctx) },
		Secret: secret,
	})
	r := b.do(t, http.MethodGet, "/v1/claims", b.token(t, "agent", "ana"), nil)
	require.Equal(t, http.StatusServiceUnavailable, r.Code, string(r.Body))
	require.Equal(t, "unavailable", r.errorOf(t)["code"])
	require.NotEmpty(t, r.Header.Get("Retry-After"))
	shopper := b.name("shp")
	r = b.do(t, http.MethodPost, "/v1/claims", b.token(t, "shopper", shopper), claimBody("ord_1"), "Idempotency-Key", "k1")
	require.Equal(t, http.StatusServiceUnavailable, r.Code, string(r.Body))
	require.Equal(t, http.StatusServiceUnavailable, b.do(t, http.MethodGet, "/readyz", "", nil).Code)
}
