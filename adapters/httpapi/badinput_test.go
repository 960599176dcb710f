package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/claimsd/claimsd/adapters/web"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/domain/money"
)

// TestBadInput sends each kind of bad request and checks its status, code
// and field, and that the database is unchanged afterwards.
func TestBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper, other := b.name("shp"), b.name("shp_other")
	sellerID, orderID := b.seed(t, 10, shopper, 5000, 3*day, day)
	_, othersOrder := b.seed(t, 10, other, 5000, 3*day, day)
	shopperTok := b.token(t, "shopper", shopper)
	svcTok := b.token(t, "service", "platform")
	expired, err := httpapiMint("shopper", shopper, -time.Minute)
	require.NoError(t, err)

	goodOrder := func(over map[string]any) map[string]any {
		m := map[string]any{
			"buyer_id": shopper, "seller_id": sellerID, "currency": "EUR", "amount": 1500,
			"items": []map[string]any{
				{"sku": "sku_a", "name": "A", "quantity": 1, "unit_amount": 1000},
				{"sku": "sku_b", "name": "B", "quantity": 1, "unit_amount": 500},
			},
			"payment": map[string]any{"provider": "sandbox", "reference": "pay_bad"},
			"paid_at": b.now.Add(-day).Format(time.RFC3339),
		}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	badOrderPath := "/v1/orders/" + b.name("ord_bad")
	// A brand that exists, which a refused PUT must leave as it was.
	brandPath, badBrandPath := "/v1/brands/"+b.name("brand_ok"), "/v1/brands/"+b.name("brand_bad")
	r := b.do(t, http.MethodPut, brandPath, svcTok, map[string]any{"name": "Acme", "rights_holders": []string{"rh_a"}})
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	brandBefore := string(r.Body)
	fiftyOne := make([]string, 51)
	for i := range fiftyOne {
		fiftyOne[i] = fmt.Sprintf("rh_%d", i)
	}

	tests := []struct {
		name      string
		method    string
		path      string
		token     string
		body      any
		headers   []string
		wantCode  int
		wantError string
		wantField string
	}{
		{name: "malformed JSON", body: `{"order_id": "x",`, wantCode: 400, wantError: "malformed_json"},
		{name: "not JSON at all", body: `order=1`, wantCode: 400, wantError: "malformed_json"},
		{name: "two JSON values", body: `{"order_id":"a"} {"order_id":"b"}`, wantCode: 400, wantError: "malformed_json"},
		{name: "empty body", body: ` `, wantCode: 400, wantError: "empty_body"},
		{name: "wrong type", body: map[string]any{"order_id": 5, "reason": "counterfeit", "description": "x"},
			wantCode: 400, wantError: "invalid_type", wantField: "order_id"},
		{name: "amount as a string", body: claimBody(orderID, "amount", "1000"), wantCode: 400, wantError: "invalid_type", wantField: "amount"},
		{name: "fractional amount", body: `{"order_id":"` + orderID + `","reason":"counterfeit","description":"d","amount":10.5}`,
			wantCode: 400, wantError: "invalid_type", wantField: "amount"},
		{name: "overflowing amount", body: `{"order_id":"` + orderID + `","reason":"counterfeit","description":"d","amount":9223372036854775808}`,
			wantCode: 400, wantError: "invalid_type", wantField: "amount"},
		{name: "zero amount", body: claimBody(orderID, "amount", 0), wantCode: 422, wantError: "invalid_amount", wantField: "amount"},
		{name: "negative amount", body: claimBody(orderID, "amount", -100), wantCode: 422, wantError: "invalid_amount", wantField: "amount"},
		{name: "amount above what was paid", body: claimBody(orderID, "amount", 5001), wantCode: 422, wantError: "amount_exceeds_items", wantField: "amount"},
		{name: "largest int64 amount", body: claimBody(orderID, "amount", int64(math.MaxInt64)), wantCode: 422, wantError: "amount_too_large", wantField: "amount"},
		{name: "amount above the maximum", body: claimBody(orderID, "amount", maxAmount+1), wantCode: 422, wantError: "amount_too_large", wantField: "amount"},
		{name: "unknown field", body: claimBody(orderID, "colour", "red"), wantCode: 400, wantError: "unknown_field", wantField: "colour"},
		{name: "unknown reason", body: claimBody(orderID, "reason", "changed_my_mind"), wantCode: 422, wantError: "unknown_reason", wantField: "reason"},
		{name: "missing description", body: claimBody(orderID, "description", ""), wantCode: 422, wantError: "required", wantField: "description"},
		{name: "unknown SKU", body: claimBody(orderID, "items", []map[string]any{{"sku": "sku_zzz", "quantity": 1}}),
			wantCode: 422, wantError: "unknown_sku", wantField: "items[0].sku"},
		{name: "too many of an item", body: claimBody(orderID, "items", []map[string]any{{"sku": "sku_a", "quantity": 2}}),
			wantCode: 422, wantError: "invalid_quantity", wantField: "items[0].quantity"},
		{name: "evidence not a link", body: claimBody(orderID, "evidence", []map[string]any{{"kind": "photo", "url": "javascript:alert(1)"}}),
			wantCode: 422, wantError: "invalid_url", wantField: "evidence[0].url"},
		{name: "NUL in text", body: claimBody(orderID, "description", "fake\u0000logo"), wantCode: 422, wantError: "invalid_text", wantField: "description"},
		{name: "idempotency key with a space", body: claimBody(orderID), headers: []string{"Idempotency-Key", "a b"},
			wantCode: 400, wantError: "invalid_idempotency_key", wantField: "Idempotency-Key"},
		{name: "claim id with NUL", method: http.MethodGet, path: "/v1/claims/%00", body: nil, wantCode: 404, wantError: "claim_not_found"},
		{name: "events of a claim id with NUL", method: http.MethodGet, path: "/v1/claims/%00/events", body: nil, wantCode: 404, wantError: "claim_not_found"},
		{name: "balance of a seller id with NUL", method: http.MethodGet, path: "/v1/sellers/%00/balance", token: b.token(t, "finance", "fin"), body: nil, wantCode: 404, wantError: "seller_not_found"},
		{name: "standing of a seller id with NUL", method: http.MethodGet, path: "/v1/sellers/%00/standing", token: b.token(t, "agent", "ana"), body: nil, wantCode: 404, wantError: "seller_not_found"},
		{name: "standing of a seller id of 65 characters", method: http.MethodGet, path: "/v1/sellers/" + strings.Repeat("s", 65) + "/standing", token: b.token(t, "agent", "ana"), body: nil, wantCode: 404, wantError: "seller_not_found"},
		{name: "standing of a seller id with a quote", method: http.MethodGet, path: "/v1/sellers/s%27%3B--/standing", token: b.token(t, "admin", "root"), body: nil, wantCode: 404, wantError: "seller_not_found"},
		{name: "unknown order", body: claimBody(b.name("ord_nope")), wantCode: 404, wantError: "order_not_found", wantField: "order_id"},
		{name: "someone else's order", body: claimBody(othersOrder), wantCode: 404, wantError: "order_not_found", wantField: "order_id"},
		{name: "missing token", token: "-", body: claimBody(orderID), wantCode: 401, wantError: "unauthenticated"},
		{name: "garbage token", token: "not.a.jwt", body: claimBody(orderID), wantCode: 401, wantError: "invalid_token"},
		{name: "expired token", token: expired, body: claimBody(orderID), wantCode: 401, wantError: "invalid_token"},
		{name: "wrong role", token: b.token(t, "agent", "ana"), body: claimBody(orderID), wantCode: 403, wantError: "forbidden"},
		{name: "oversized body", body: claimBody(orderID, "description", strings.Repeat("x", 9<<10)), wantCode: 413, wantError: "body_too_large"},
		{name: "not JSON content type", body: claimBody(orderID), headers: []string{"Content-Type", "text/plain"}, wantCode: 415, wantError: "unsupported_media_type"},
		{name: "empty content type", body: claimBody(orderID), headers: []string{"Content-Type", ""},
			wantCode: 415, wantError: "unsupported_media_type", wantField: "Content-Type"},
		{name: "content type that only starts like JSON", body: claimBody(orderID), headers: []string{"Content-Type", "application/jsonx"},
			wantCode: 415, wantError: "unsupported_media_type", wantField: "Content-Type"},
		{name: "JSON in another charset", body: claimBody(orderID), headers: []string{"Content-Type", "application/json; charset=iso-8859-1"},
			wantCode: 415, wantError: "unsupported_media_type", wantField: "Content-Type"},
		{name: "field name in another case", body: `{"ORDER_ID":"x","order_id":"` + orderID + `","reason":"counterfeit","description":"The logo is wrong."}`,
			wantCode: 400, wantError: "unknown_field", wantField: "ORDER_ID"},
		{name: "field name capitalised", body: `{"order_id":"` + orderID + `","reason":"counterfeit","Description":"d","description":"The logo is wrong."}`,
			wantCode: 400, wantError: "unknown_field", wantField: "Description"},
		{name: "field given twice", body: `{"order_id":"` + orderID + `","reason":"counterfeit","description":"d","description":"The logo is wrong."}`,
			wantCode: 400, wantError: "duplicate_field", wantField: "description"},
		{name: "nested field given twice", body: `{"order_id":"` + orderID + `","reason":"counterfeit","description":"d",` +
			`"items":[{"sku":"sku_a","quantity":1},{"sku":"sku_b","quantity":1,"sku":"sku_a"}]}`,
			wantCode: 400, wantError: "duplicate_field", wantField: "items[1].sku"},
		{name: "invalid UTF-8 in text", body: "{\"order_id\":\"" + orderID + "\",\"reason\":\"counterfeit\",\"description\":\"fake \xff logo\"}",
			wantCode: 400, wantError: "invalid_utf8", wantField: "description"},
		{name: "lone surrogate in text", body: `{"order_id":"` + orderID + `","reason":"counterfeit","description":"fake \udc00 logo"}`,
			wantCode: 400, wantError: "invalid_utf8", wantField: "description"},
		{name: "headers over the limit", body: claimBody(orderID), headers: []string{"X-Padding", strings.Repeat("p", web.MaxHeaderBytes)},
			wantCode: 431, wantError: "headers_too_large"},
		{name: "list: parameter given twice", method: http.MethodGet, path: "/v1/claims?status=approved&status=rejected", body: nil,
			wantCode: 400, wantError: "duplicate_parameter", wantField: "status"},
		{name: "finance: period bound given twice", method: http.MethodGet, path: "/v1/finance/chargebacks?from=2026-01-01&to=2026-01-31&to=9999-12-30",
			token: b.token(t, "finance", "fin"), body: nil, wantCode: 400, wantError: "duplicate_parameter", wantField: "to"},
		{name: "parameter given twice on a write", path: "/v1/claims?x=1&x=2", body: claimBody(orderID),
			wantCode: 400, wantError: "duplicate_parameter", wantField: "x"},
		{name: "idempotency key too long", body: claimBody(orderID), headers: []string{"Idempotency-Key", strings.Repeat("k", 300)},
			wantCode: 400, wantError: "invalid_idempotency_key", wantField: "Idempotency-Key"},

		{name: "order: unknown currency", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body: goodOrder(map[string]any{"currency": "EURO"}), wantCode: 422, wantError: "unknown_currency", wantField: "currency"},
		{name: "order: items do not sum to amount", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body: goodOrder(map[string]any{"amount": 1499}), wantCode: 422, wantError: "amount_mismatch", wantField: "amount"},
		{name: "order: zero quantity", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"items": []map[string]any{{"sku": "a", "name": "A", "quantity": 0, "unit_amount": 1500}}}),
			wantCode: 422, wantError: "invalid_quantity", wantField: "items[0].quantity"},
		{name: "order: line total overflows", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"items": []map[string]any{{"sku": "a", "name": "A", "quantity": 1000000, "unit_amount": int64(1) << 60}}}),
			wantCode: 422, wantError: "amount_too_large", wantField: "items[0].unit_amount"},
		{name: "order: largest int64 amount", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"amount": int64(math.MaxInt64), "items": []map[string]any{{"sku": "a", "name": "A", "quantity": 1, "unit_amount": int64(math.MaxInt64)}}}),
			wantCode: 422, wantError: "amount_too_large", wantField: "amount"},
		{name: "order: amount one above the maximum", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"amount": maxAmount + 1, "items": []map[string]any{{"sku": "a", "name": "A", "quantity": 1, "unit_amount": maxAmount + 1}}}),
			wantCode: 422, wantError: "amount_too_large", wantField: "amount"},
		{name: "order: unit price above the maximum", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"amount": 1500, "items": []map[string]any{{"sku": "a", "name": "A", "quantity": 1, "unit_amount": maxAmount + 1}}}),
			wantCode: 422, wantError: "amount_too_large", wantField: "items[0].unit_amount"},
		{name: "order: quantity × unit_amount above the maximum", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"amount": maxAmount, "items": []map[string]any{{"sku": "a", "name": "A", "quantity": 2, "unit_amount": maxAmount/2 + 1}}}),
			wantCode: 422, wantError: "amount_too_large", wantField: "items[0].unit_amount"},
		{name: "order: wrong type in a list", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"items": []map[string]any{{"sku": "a", "name": "A", "quantity": 1, "unit_amount": 1000}, {"sku": "b", "name": "B", "quantity": "two", "unit_amount": 500}}}),
			wantCode: 400, wantError: "invalid_type", wantField: "items[1].quantity"},
		{name: "order: missing amount", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body: goodOrder(map[string]any{"amount": nil}), wantCode: 422, wantError: "required", wantField: "amount"},
		{name: "order: bad timestamp", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body: goodOrder(map[string]any{"paid_at": "yesterday"}), wantCode: 422, wantError: "invalid_timestamp", wantField: "paid_at"},
		{name: "order: paid past year 9999", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body: goodOrder(map[string]any{"paid_at": "9999-12-31T23:59:59-01:00"}), wantCode: 422, wantError: "out_of_range", wantField: "paid_at"},
		{name: "order: paid in year 0", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body: goodOrder(map[string]any{"paid_at": "0000-01-01T00:00:00+01:00"}), wantCode: 422, wantError: "out_of_range", wantField: "paid_at"},
		{name: "order: delivered past year 9999", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body: goodOrder(map[string]any{"delivered_at": "10000-01-01T00:00:00Z"}), wantCode: 422, wantError: "invalid_timestamp", wantField: "delivered_at"},
		{name: "order: delivered before paid", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body: goodOrder(map[string]any{"delivered_at": b.now.Add(-2 * day).Format(time.RFC3339)}), wantCode: 422, wantError: "before_payment", wantField: "delivered_at"},
		{name: "order: unknown seller", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body: goodOrder(map[string]any{"seller_id": b.name("sel_nope")}), wantCode: 404, wantError: "seller_not_found", wantField: "seller_id"},
		{name: "order: bad id", method: http.MethodPut, path: "/v1/orders/bad%20id", token: svcTok,
			body: goodOrder(nil), wantCode: 422, wantError: "invalid_id", wantField: "id"},
		{name: "order: shopper may not write", method: http.MethodPut, path: badOrderPath, token: shopperTok,
			body: goodOrder(nil), wantCode: 403, wantError: "forbidden"},
		{name: "order: e-mail address as a signal", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"buyer_signals": map[string]any{"device": "alice@example.com"}}),
			wantCode: 422, wantError: "raw_personal_data", wantField: "buyer_signals.device"},
		{name: "order: card number as a signal", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"buyer_signals": map[string]any{"payment_fingerprint": "4111-1111-1111-1111"}}),
			wantCode: 422, wantError: "raw_personal_data", wantField: "buyer_signals.payment_fingerprint"},
		{name: "order: phone number as a signal", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"buyer_signals": map[string]any{"device": "+4915112345678"}}),
			wantCode: 422, wantError: "raw_personal_data", wantField: "buyer_signals.device"},
		{name: "order: postal address as a signal", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"buyer_signals": map[string]any{"shipping_address": "221B Baker Street"}}),
			wantCode: 422, wantError: "raw_personal_data", wantField: "buyer_signals.shipping_address"},
		{name: "order: signal too long", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"buyer_signals": map[string]any{"device": strings.Repeat("a", 129)}}),
			wantCode: 422, wantError: "too_long", wantField: "buyer_signals.device"},
		{name: "order: empty signal", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"buyer_signals": map[string]any{"device": ""}}),
			wantCode: 422, wantError: "too_short", wantField: "buyer_signals.device"},
		{name: "order: signal not ASCII", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"buyer_signals": map[string]any{"device": "gerät"}}),
			wantCode: 422, wantError: "invalid_signal", wantField: "buyer_signals.device"},
		{name: "order: unknown kind of signal", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"buyer_signals": map[string]any{"device": "abc", "email": "abc"}}),
			wantCode: 400, wantError: "unknown_field", wantField: "buyer_signals.email"},
		{name: "order: signal not a string", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"buyer_signals": map[string]any{"device": 12345}}),
			wantCode: 400, wantError: "invalid_type", wantField: "buyer_signals.device"},
		{name: "order: signals not an object", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"buyer_signals": []string{"abc"}}),
			wantCode: 400, wantError: "invalid_type", wantField: "buyer_signals"},
		{name: "order: raw signal on an order that exists", method: http.MethodPut, path: "/v1/orders/" + orderID, token: svcTok,
			body:     goodOrder(map[string]any{"buyer_signals": map[string]any{"device": "abc", "shipping_address": "1 Main St"}}),
			wantCode: 422, wantError: "raw_personal_data", wantField: "buyer_signals.shipping_address"},
		{name: "seller: risk given twice", method: http.MethodPut, path: "/v1/sellers/" + b.name("sel_bad"), token: svcTok,
			body: `{"name":"S","risk_score":1,"risk_score":100}`, wantCode: 400, wantError: "duplicate_field", wantField: "risk_score"},
		{name: "seller: risk in capitals", method: http.MethodPut, path: "/v1/sellers/" + b.name("sel_bad"), token: svcTok,
			body: `{"name":"S","RISK_SCORE":1}`, wantCode: 400, wantError: "unknown_field", wantField: "RISK_SCORE"},
		{name: "order: nested field in another case", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body:     goodOrder(map[string]any{"payment": map[string]any{"provider": "sandbox", "Reference": "pay_bad"}}),
			wantCode: 400, wantError: "unknown_field", wantField: "payment.Reference"},
		{name: "seller: risk out of range", method: http.MethodPut, path: "/v1/sellers/" + b.name("sel_bad"), token: svcTok,
			body: map[string]any{"name": "S", "risk_score": 101}, wantCode: 422, wantError: "out_of_range", wantField: "risk_score"},
		{name: "seller: missing risk", method: http.MethodPut, path: "/v1/sellers/" + b.name("sel_bad"), token: svcTok,
			body: map[string]any{"name": "S"}, wantCode: 422, wantError: "required", wantField: "risk_score"},
		{name: "seller: bad stripe account", method: http.MethodPut, path: "/v1/sellers/" + b.name("sel_bad"), token: svcTok,
			body: map[string]any{"name": "S", "risk_score": 5, "stripe_account": "cus_123"}, wantCode: 422, wantError: "invalid_stripe_account", wantField: "stripe_account"},
		{name: "seller: e-mail address as a warehouse signal", method: http.MethodPut, path: "/v1/sellers/" + b.name("sel_bad"), token: svcTok,
			body:     map[string]any{"name": "S", "risk_score": 5, "seller_signals": map[string]any{"warehouse": "ops@seller.example"}},
			wantCode: 422, wantError: "raw_personal_data", wantField: "seller_signals.warehouse"},
		{name: "seller: card number as a payment account signal", method: http.MethodPut, path: "/v1/sellers/" + b.name("sel_bad"), token: svcTok,
			body:     map[string]any{"name": "S", "risk_score": 5, "seller_signals": map[string]any{"payment_account": "4111 1111 1111 1111"}},
			wantCode: 422, wantError: "raw_personal_data", wantField: "seller_signals.payment_account"},
		{name: "seller: empty registration signal", method: http.MethodPut, path: "/v1/sellers/" + b.name("sel_bad"), token: svcTok,
			body:     map[string]any{"name": "S", "risk_score": 5, "seller_signals": map[string]any{"registration": ""}},
			wantCode: 422, wantError: "too_short", wantField: "seller_signals.registration"},
		{name: "seller: unknown signal kind", method: http.MethodPut, path: "/v1/sellers/" + b.name("sel_bad"), token: svcTok,
			body:     map[string]any{"name": "S", "risk_score": 5, "seller_signals": map[string]any{"phone": "abc123"}},
			wantCode: 400, wantError: "unknown_field", wantField: "seller_signals.phone"},
		{name: "seller: signal that is not a string", method: http.MethodPut, path: "/v1/sellers/" + b.name("sel_bad"), token: svcTok,
			body:     map[string]any{"name": "S", "risk_score": 5, "seller_signals": map[string]any{"warehouse": 42}},
			wantCode: 400, wantError: "invalid_type", wantField: "seller_signals.warehouse"},

		{name: "order: item brand with bad characters", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body: goodOrder(map[string]any{"items": []map[string]any{
				{"sku": "sku_a", "name": "A", "quantity": 1, "unit_amount": 1000, "brand": "acme"},
				{"sku": "sku_b", "name": "B", "quantity": 1, "unit_amount": 500, "brand": "ac me"},
			}}), wantCode: 422, wantError: "invalid_id", wantField: "items[1].brand"},
		{name: "order: item brand given empty", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body: goodOrder(map[string]any{"items": []map[string]any{
				{"sku": "sku_a", "name": "A", "quantity": 1, "unit_amount": 1000, "brand": ""},
				{"sku": "sku_b", "name": "B", "quantity": 1, "unit_amount": 500},
			}}), wantCode: 422, wantError: "required", wantField: "items[0].brand"},
		{name: "order: item brand not a string", method: http.MethodPut, path: badOrderPath, token: svcTok,
			body: goodOrder(map[string]any{"items": []map[string]any{
				{"sku": "sku_a", "name": "A", "quantity": 1, "unit_amount": 1000, "brand": 7},
				{"sku": "sku_b", "name": "B", "quantity": 1, "unit_amount": 500},
			}}), wantCode: 400, wantError: "invalid_type", wantField: "items[0].brand"},
		{name: "brand: name not a string", method: http.MethodPut, path: brandPath, token: svcTok,
			body: map[string]any{"name": 5}, wantCode: 400, wantError: "invalid_type", wantField: "name"},
		{name: "brand: rights holder not a string", method: http.MethodPut, path: brandPath, token: svcTok,
			body: map[string]any{"name": "Acme", "rights_holders": []any{"rh_a", 7}}, wantCode: 400, wantError: "invalid_type", wantField: "rights_holders[1]"},
		{name: "brand: unknown field", method: http.MethodPut, path: brandPath, token: svcTok,
			body: map[string]any{"name": "Acme", "owner": "x"}, wantCode: 400, wantError: "unknown_field", wantField: "owner"},
		{name: "brand: name too long", method: http.MethodPut, path: brandPath, token: svcTok,
			body: map[string]any{"name": strings.Repeat("n", 201)}, wantCode: 422, wantError: "too_long", wantField: "name"},
		{name: "brand: no name", method: http.MethodPut, path: badBrandPath, token: svcTok,
			body: map[string]any{"rights_holders": []string{"rh_a"}}, wantCode: 422, wantError: "required", wantField: "name"},
		{name: "brand: duplicate rights holder", method: http.MethodPut, path: brandPath, token: svcTok,
			body: map[string]any{"name": "Acme", "rights_holders": []string{"rh_a", "rh_a"}}, wantCode: 422, wantError: "duplicate", wantField: "rights_holders[1]"},
		{name: "brand: bad rights holder", method: http.MethodPut, path: badBrandPath, token: svcTok,
			body: map[string]any{"name": "Acme", "rights_holders": []string{"rh_a", "rh b"}}, wantCode: 422, wantError: "invalid_id", wantField: "rights_holders[1]"},
		{name: "brand: 51 rights holders", method: http.MethodPut, path: brandPath, token: svcTok,
			body: map[string]any{"name": "Acme", "rights_holders": fiftyOne}, wantCode: 422, wantError: "too_many", wantField: "rights_holders"},
		{name: "brand: id too long", method: http.MethodPut, path: "/v1/brands/" + strings.Repeat("b", 65), token: svcTok,
			body: map[string]any{"name": "Acme"}, wantCode: 422, wantError: "invalid_id", wantField: "id"},
		{name: "brand: id with a quote", method: http.MethodPut, path: "/v1/brands/b%27%3B--", token: svcTok,
			body: map[string]any{"name": "Acme"}, wantCode: 422, wantError: "invalid_id", wantField: "id"},
		{name: "brand: get an id with NUL", method: http.MethodGet, path: "/v1/brands/%00", token: b.token(t, "admin", "root"), body: nil,
			wantCode: 404, wantError: "brand_not_found"},

		{name: "list: bad limit", method: http.MethodGet, path: "/v1/claims?limit=0", body: nil, wantCode: 400, wantError: "invalid_limit", wantField: "limit"},
		{name: "list: bad status", method: http.MethodGet, path: "/v1/claims?status=lost", body: nil, wantCode: 400, wantError: "invalid_status", wantField: "status"},
		{name: "list: bad cursor", method: http.MethodGet, path: "/v1/claims?cursor=not*base64", body: nil, wantCode: 400, wantError: "invalid_cursor", wantField: "cursor"},
		{name: "list: bad date", method: http.MethodGet, path: "/v1/claims?created_from=monday", body: nil, wantCode: 400, wantError: "invalid_timestamp", wantField: "created_from"},

		{name: "recovery: largest int64 amount", method: http.MethodPost, path: "/v1/finance/recoveries", token: b.token(t, "finance", "fin"),
			body:    map[string]any{"seller_id": sellerID, "amount": int64(math.MaxInt64), "currency": "EUR", "method": "payment_received", "reference": "r_big"},
			headers: []string{"Idempotency-Key", "rec-big-" + b.id}, wantCode: 422, wantError: "amount_too_large", wantField: "amount"},
		{name: "recovery: amount above the maximum", method: http.MethodPost, path: "/v1/finance/recoveries", token: b.token(t, "finance", "fin"),
			body:    map[string]any{"seller_id": sellerID, "amount": maxAmount + 1, "currency": "JPY", "method": "payment_received", "reference": "r_big"},
			headers: []string{"Idempotency-Key", "rec-over-" + b.id}, wantCode: 422, wantError: "amount_too_large", wantField: "amount"},
		{name: "queue: maximum amount above the maximum", method: http.MethodGet, path: fmt.Sprintf("/v1/review-queue?currency=EUR&max_amount=%d", maxAmount+1),
			token: b.token(t, "agent", "ana"), body: nil, wantCode: 400, wantError: "amount_too_large", wantField: "max_amount"},
		{name: "queue: minimum amount the largest int64", method: http.MethodGet, path: "/v1/review-queue?currency=JPY&min_amount=9223372036854775807",
			token: b.token(t, "agent", "ana"), body: nil, wantCode: 400, wantError: "amount_too_large", wantField: "min_amount"},
		{name: "list: date before the epoch", method: http.MethodGet, path: "/v1/claims?created_from=0001-01-01T00:00:00Z", body: nil, wantCode: 400, wantError: "out_of_range", wantField: "created_from"},
		{name: "list: date past year 9999", method: http.MethodGet, path: "/v1/claims?created_to=9999-12-31T23:59:59-01:00", body: nil, wantCode: 400, wantError: "out_of_range", wantField: "created_to"},
		{name: "queue: cursor far in the past", method: http.MethodGet, path: "/v1/review-queue?cursor=LTkyMjMzNzIwMzY4NTQ3NzU4MDh8Y2xtX3g", token: b.token(t, "agent", "ana"), body: nil,
			wantCode: 400, wantError: "invalid_cursor", wantField: "cursor"},
	}
	for _, tt := range tests {
		method, path, token := tt.method, tt.path, tt.token
		if method == "" {
			method = http.MethodPost
		}
		if path == "" {
			path = "/v1/claims"
		}
		switch token {
		case "":
			token = shopperTok
		case "-":
			token = ""
		}
		r := b.do(t, method, path, token, tt.body, tt.headers...)
		require.Equal(t, tt.wantCode, r.Code, "%s: %s", tt.name, r.Body)
		e := r.errorOf(t)
		require.Equal(t, tt.wantError, e["code"], "%s: %s", tt.name, r.Body)
		require.NotEmpty(t, e["message"], tt.name)
		if tt.wantField != "" {
			require.Equal(t, tt.wantField, e["field"], "%s: %s", tt.name, r.Body)
		}
	}

	// Nothing was written: no claim on either order, no idempotency key for
	// the shopper, no bad order or seller.
	var n int
	db := store.DB()
	ctx := context.Background()
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM claims WHERE order_id IN ($1, $2)`, orderID, othersOrder).Scan(&n))
	require.Zero(t, n)
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM idempotency_keys WHERE scope LIKE $1`, "%"+b.id).Scan(&n))
	require.Zero(t, n)
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM orders WHERE id = $1`, b.name("ord_bad")).Scan(&n))
	require.Zero(t, n)
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM buyer_signals WHERE shopper_id = $1`, shopper).Scan(&n))
	require.Zero(t, n, "no signal of a refused order is kept")
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM sellers WHERE id = $1`, b.name("sel_bad")).Scan(&n))
	require.Zero(t, n)
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM seller_signals WHERE seller_id = $1`, b.name("sel_bad")).Scan(&n))
	require.Zero(t, n)
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM seller_recoveries WHERE seller_id = $1`, sellerID).Scan(&n))
	require.Zero(t, n)
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM brands WHERE id = $1 OR id LIKE 'b%--' OR length(id) > 64`, b.name("brand_bad")).Scan(&n))
	require.Zero(t, n, "no refused brand is kept")
	r = b.do(t, http.MethodGet, brandPath, b.token(t, "admin", "root"), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.JSONEq(t, brandBefore, string(r.Body), "a refused PUT leaves the brand as it was")
}

// maxAmount is the largest amount the engine accepts, in minor units of
// any currency.
var maxAmount = money.MaxAmount(money.MustCurrency("EUR"))

// TestContentType reads the media type as RFC 9110 does (case does not
// matter, parameters may follow) and refuses a body without one.
func TestContentType(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svcTok := b.token(t, "service", "platform")
	path := "/v1/sellers/" + b.name("sel_ct")
	tests := []struct {
		name      string
		give      []string // Content-Type values; none: no header
		body      string
		wantCode  int
		wantError string
	}{
		{name: "JSON", give: []string{"application/json"}, wantCode: 201},
		{name: "capitals", give: []string{"APPLICATION/JSON"}, wantCode: 200},
		{name: "charset", give: []string{"Application/Json; Charset=UTF-8"}, wantCode: 200},
		{name: "charset without a space", give: []string{"application/json;charset=utf-8"}, wantCode: 200},
		{name: "no content type", wantCode: 415, wantError: "unsupported_media_type"},
		{name: "no content type and no body", body: " ", wantCode: 400, wantError: "empty_body"},
		{name: "two content types", give: []string{"application/json", "text/plain"}, wantCode: 415, wantError: "unsupported_media_type"},
		{name: "another JSON type", give: []string{"application/json-patch+json"}, wantCode: 415, wantError: "unsupported_media_type"},
		{name: "not a media type", give: []string{"json"}, wantCode: 415, wantError: "unsupported_media_type"},
		{name: "latin-1", give: []string{"application/json; charset=latin1"}, wantCode: 415, wantError: "unsupported_media_type"},
	}
	for _, tt := range tests {
		body := tt.body
		if body == "" {
			body = `{"name":"Content Types","risk_score":5}`
		}
		req := httptest.NewRequest(http.MethodPut, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+svcTok)
		for _, v := range tt.give {
			req.Header.Add("Content-Type", v)
		}
		rec := httptest.NewRecorder()
		b.e.ServeHTTP(rec, req)
		require.Equal(t, tt.wantCode, rec.Code, "%s: %s", tt.name, rec.Body)
		if tt.wantError != "" {
			e := response{Body: rec.Body.Bytes()}.errorOf(t)
			require.Equal(t, tt.wantError, e["code"], tt.name)
			require.NotEmpty(t, e["message"], tt.name)
		}
	}
}

// TestOversizedHeaders: headers over the limit get the API's error shape,
// on every route and on none, also from a real server set up as serve sets
// it up, whose own plain-text 431 comes only far beyond the limit; headers
// within it pass.
func TestOversizedHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range httpapi.RouteTable() {
		path := strings.NewReplacer(":id", "x", ":seq", "1").Replace(r.Path)
		res := b.do(t, r.Method, path, b.token(t, "finance", "fin"), nil, "X-Padding", strings.Repeat("p", web.MaxHeaderBytes))
		require.Equal(t, 431, res.Code, "%s %s: %s", r.Method, r.Path, res.Body)
		require.Equal(t, "headers_too_large", res.errorOf(t)["code"], "%s %s", r.Method, r.Path)
	}
	srv := httptest.NewUnstartedServer(b.e)
	srv.Config.MaxHeaderBytes = web.ServerMaxHeaderBytes
	srv.Start()
	t.Cleanup(srv.Close)
	tests := []struct {
		name     string
		give     int // bytes of one header's value
		wantCode int
	}{
		{name: "within the limit", give: web.MaxHeaderBytes - 1024, wantCode: 200},
		{name: "just over the limit", give: web.MaxHeaderBytes, wantCode: 431},
		{name: "over net/http's default limit", give: 2 << 20, wantCode: 431},
	}
	for _, tt := range tests {
		for _, path := range []string{"/healthz", "/v1/claims", "/no/such/route"} {
			req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+b.token(t, "agent", "ana"))
			req.Header.Set("X-Padding", strings.Repeat("p", tt.give))
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			if tt.wantCode != 431 {
				require.NotEqual(t, 431, resp.StatusCode, "%s %s: %s", tt.name, path, raw)
				continue
			}
			require.Equal(t, 431, resp.StatusCode, "%s %s: %s", tt.name, path, raw)
			e := response{Body: raw}.errorOf(t)
			require.Equal(t, "headers_too_large", e["code"], "%s %s", tt.name, path)
			require.Contains(t, e["message"], strconv.Itoa(web.MaxHeaderBytes), "%s %s", tt.name, path)
		}
	}
}

// TestIdempotencyKeyGivenTwice: two Idempotency-Key headers are refused
// rather than one of them read, and nothing is filed.
func TestIdempotencyKeyGivenTwice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp")
	_, orderID := b.seed(t, 10, shopper, 5000, 3*day, day)
	raw, err := json.Marshal(claimBody(orderID))
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/v1/claims", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+b.token(t, "shopper", shopper))
	req.Header.Add(httpapi.HeaderIdempotencyKey, "key-one")
	req.Header.Add(httpapi.HeaderIdempotencyKey, "key-two")
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
	e := response{Body: rec.Body.Bytes()}.errorOf(t)
	require.Equal(t, "invalid_idempotency_key", e["code"])
	require.Equal(t, httpapi.HeaderIdempotencyKey, e["field"])
	var n int
	require.NoError(t, store.DB().QueryRowContext(context.Background(), `SELECT count(*) FROM claims WHERE order_id = $1`, orderID).Scan(&n))
	require.Zero(t, n)
}
