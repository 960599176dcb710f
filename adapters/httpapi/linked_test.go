package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"
)

// TestLinkedAccounts files claims end to end on the real router and
// database: shopper A, on one device, files several claims; B, a new
// account on A's device, files a small claim that would be refunded at
// once and goes to a person instead; C, with signals of their own, is
// refunded at once. Agents read why; the shopper and finance do not.
// Every answer is checked against openapi.json.
func TestLinkedAccounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	router, err := gorillamux.NewRouter(loadOpenAPI(t))
	require.NoError(t, err)
	cf := &conformance{b: b, router: router, seen: map[string]bool{}, opts: &openapi3filter.Options{
		AuthenticationFunc: requireBearer, MultiError: true, IncludeResponseStatus: true,
	}}
	svcTok := b.token(t, "service", "platform")
	sellerID := b.name("sel_goods")
	cf.run(t, apiCall{name: "seller", method: http.MethodPut, path: "/v1/sellers/" + sellerID, token: svcTok,
		body: map[string]any{"name": "Linked Goods", "risk_score": 10, "verified": true}, want: 201})

	// order puts an order of buyer's for 25.00 EUR, paid 10 days ago and
	// delivered 5 days ago, with the signals given.
	n := 0
	order := func(buyer string, signals map[string]any) string {
		n++
		id := b.name(fmt.Sprintf("ord_g%d", n))
		body := map[string]any{
			"buyer_id": buyer, "seller_id": sellerID, "currency": "EUR", "amount": 2500,
			"items":         []map[string]any{{"sku": "sku_a", "name": "Bag", "quantity": 1, "unit_amount": 2500}},
			"payment":       map[string]any{"provider": "sandbox", "reference": "pay_" + id},
			"paid_at":       b.now.Add(-10 * day).Format(time.RFC3339),
			"delivered_at":  b.now.Add(-5 * day).Format(time.RFC3339),
			"buyer_signals": signals,
		}
		cf.run(t, apiCall{name: "order " + id, method: http.MethodPut, path: "/v1/orders/" + id, token: svcTok, body: body, want: 201})
		return id
	}
	file := func(buyer, orderID string, amount int64) map[string]any {
		r := cf.run(t, apiCall{name: "claim by " + buyer, method: http.MethodPost, path: "/v1/claims",
			token: b.token(t, "shopper", buyer), body: claimBody(orderID, "amount", amount, "reason", "damaged"), want: 201})
		return r.json(t)
	}
	outcome := func(c map[string]any) string { return c["decision"].(map[string]any)["outcome"].(string) }

	device := strings.Repeat("d", 40) + b.id
	alice, bob, carol := b.name("shp_alice"), b.name("shp_bob"), b.name("shp_carol")
	for range 3 { // the default policy's linked_claims_90d
		file(alice, order(alice, map[string]any{"device": device}), 2000)
	}
	bobOrder := order(bob, map[string]any{"device": device, "shipping_address": "addr_" + b.id})
	carolOrder := order(carol, map[string]any{"device": "dev_" + b.id, "payment_fingerprint": "pf_" + b.id, "shipping_address": "home_" + b.id})

	// Bob's 10.00 EUR claim is small enough for an instant refund, but his
	// device links him to Alice's three claims.
	filed := file(bob, bobOrder, 1000)
	require.Equal(t, "manual_review", outcome(filed))
	claimID := filed["id"].(string)

	// The shopper reads a neutral sentence under a neutral code.
	reason := func(c map[string]any) map[string]any {
		rs := c["decision"].(map[string]any)["reasons"].([]any)
		require.Len(t, rs, 1)
		return rs[0].(map[string]any)
	}
	for _, c := range []map[string]any{filed, cf.run(t, apiCall{name: "shopper view", method: http.MethodGet,
		path: "/v1/claims/" + claimID, token: b.token(t, "shopper", bob), want: 200}).json(t)} {
		r := reason(c)
		require.Equal(t, map[string]any{"code": "further_review",
			"message": "This claim needs a closer look before it can be refunded. A person will review this claim."}, r)
		require.NotContains(t, c["decision"], "facts")
		require.NotContains(t, strings.ToLower(fmt.Sprint(c)), "linked")
	}
	events := cf.run(t, apiCall{name: "shopper timeline", method: http.MethodGet, path: "/v1/claims/" + claimID + "/events",
		token: b.token(t, "shopper", bob), want: 200})
	require.NotContains(t, string(events.Body), "linked")
	require.Contains(t, string(events.Body), "further_review")

	// The agent reads the link and the facts behind it.
	agent := cf.run(t, apiCall{name: "agent view", method: http.MethodGet, path: "/v1/claims/" + claimID,
		token: b.token(t, "agent", "ana"), want: 200}).json(t)
	r := reason(agent)
	require.Equal(t, "linked_accounts", r["code"])
	require.Equal(t, "Linked to 1 other shopper by device; they filed 3 claims in the last 90 days (60.00 EUR not rejected).", r["staff"])
	require.Equal(t, map[string]any{"shoppers": 1.0, "claims_90d": 3.0, "refunded_90d": 6000.0, "signals": []any{"device"}},
		agent["decision"].(map[string]any)["facts"].(map[string]any)["linked"])
	queue := cf.run(t, apiCall{name: "review queue", method: http.MethodGet, path: "/v1/review-queue?seller_id=" + sellerID,
		token: b.token(t, "agent", "ana"), want: 200})
	require.Contains(t, string(queue.Body), "Linked to 1 other shopper by device")

	// Finance reads the code, not the staff sentence nor the linked facts.
	fin := cf.run(t, apiCall{name: "finance view", method: http.MethodGet, path: "/v1/claims/" + claimID,
		token: b.token(t, "finance", "fin"), want: 200}).json(t)
	require.Equal(t, map[string]any{"code": "linked_accounts", "message": r["message"]}, reason(fin))
	require.NotContains(t, fin["decision"].(map[string]any)["facts"], "linked")

	// The seller reads no reasons at all.
	seller := cf.run(t, apiCall{name: "seller view", method: http.MethodGet, path: "/v1/claims/" + claimID,
		token: b.token(t, "seller", sellerID), want: 200})
	require.NotContains(t, string(seller.Body), "linked")
	require.NotContains(t, string(seller.Body), "further_review")

	// Carol shares nothing with anyone and is refunded at once.
	honest := file(carol, carolOrder, 1000)
	require.Equal(t, "instant_refund", outcome(honest))
	require.Equal(t, "small_amount_new_shopper", reason(honest)["code"])
}
