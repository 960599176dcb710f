package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBrands: the platform registers a brand and replaces it; an
// administrator reads it with its rights holders; a rights holder reads a
// brand that lists them without the others, and any other brand answers
// exactly as one that does not exist.
func TestBrands(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc, admin := b.token(t, "service", "platform"), b.token(t, "admin", "root")
	id := b.name("brand_acme")
	path := "/v1/brands/" + id
	rhA, rhB, rhC := b.name("rh_a"), b.name("rh_b"), b.name("rh_c")

	r := b.do(t, http.MethodPut, path, svc, map[string]any{"name": "Acme", "rights_holders": []string{rhA, rhB}})
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	require.JSONEq(t, `{"id":"`+id+`","name":"Acme","rights_holders":["`+rhA+`","`+rhB+`"]}`, string(r.Body))

	r = b.do(t, http.MethodGet, path, admin, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.JSONEq(t, `{"id":"`+id+`","name":"Acme","rights_holders":["`+rhA+`","`+rhB+`"]}`, string(r.Body))

	r = b.do(t, http.MethodGet, path, b.token(t, "rights_holder", rhB), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.JSONEq(t, `{"id":"`+id+`","name":"Acme"}`, string(r.Body), "a rights holder is not told who else speaks for the brand")

	// Replaced: every field, in the order given; an absent list is none.
	r = b.do(t, http.MethodPut, path, admin, map[string]any{"name": "Acme Corp", "rights_holders": []string{rhC, rhA}})
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	r = b.do(t, http.MethodGet, path, admin, nil)
	require.JSONEq(t, `{"id":"`+id+`","name":"Acme Corp","rights_holders":["`+rhC+`","`+rhA+`"]}`, string(r.Body))

	missing := b.do(t, http.MethodGet, "/v1/brands/"+b.name("brand_none"), b.token(t, "rights_holder", rhB), nil)
	requireError(t, missing, http.StatusNotFound, "brand_not_found", "a brand that does not exist")
	dropped := b.do(t, http.MethodGet, path, b.token(t, "rights_holder", rhB), nil)
	requireError(t, dropped, http.StatusNotFound, "brand_not_found", "a rights holder the brand no longer lists")
	require.Equal(t, missing.errorOf(t)["field"], dropped.errorOf(t)["field"])

	r = b.do(t, http.MethodGet, path, b.token(t, "enforcement", "enf"), nil)
	requireError(t, r, http.StatusForbidden, "forbidden", "enforcement reads no brand yet")

	r = b.do(t, http.MethodPut, path, svc, map[string]any{"name": "Acme Corp"})
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.JSONEq(t, `{"id":"`+id+`","name":"Acme Corp","rights_holders":[]}`, string(r.Body))
	requireError(t, b.do(t, http.MethodGet, path, b.token(t, "rights_holder", rhA), nil), http.StatusNotFound, "brand_not_found", "no rights holder left")
}

// TestOrderItemBrand: an order's item may name a brand, registered or not
// yet; the order is sent back with it, and a PUT of the same order reads
// the stored brand back as the same terms.
func TestOrderItemBrand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc := b.token(t, "service", "platform")
	sellerID, _ := b.seed(t, 10, b.name("shp_brand"), 1000, 3*day, day)
	orderID := b.name("ord_brand")
	body := orderBody(b, sellerID, b.name("shp_brand"), "pay_"+orderID)
	body["amount"] = 3000
	body["items"] = []map[string]any{
		{"sku": "sku_a", "name": "Bag", "quantity": 1, "unit_amount": 1000, "brand": b.name("brand_unregistered")},
		{"sku": "sku_b", "name": "Belt", "quantity": 1, "unit_amount": 2000},
	}
	r := b.do(t, http.MethodPut, "/v1/orders/"+orderID, svc, body)
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	items := r.json(t)["items"].([]any)
	require.Equal(t, b.name("brand_unregistered"), items[0].(map[string]any)["brand"])
	require.NotContains(t, items[1].(map[string]any), "brand", "an item with no brand has none in the answer")

	r = b.do(t, http.MethodPut, "/v1/orders/"+orderID, svc, body)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Equal(t, b.name("brand_unregistered"), r.json(t)["items"].([]any)[0].(map[string]any)["brand"])
}
