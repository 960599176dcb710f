package console_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/order"
)

// TestShopperOrderBeyondTheList: a shopper with more orders than the form
// lists may still be linked to an older one (?order=) and claim items of
// it; items ticked on an order that is not theirs are refused whole, and
// nothing is filed, rather than dropped (which would claim the whole
// order).
func TestShopperOrderBeyondTheList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_many")
	older := b.shopperOrder(t, "sel_many", shopper, []order.Item{
		{SKU: "sku_bag", Name: "Leather bag", Quantity: 1, UnitAmount: 40000},
		{SKU: "sku_belt", Name: "Leather belt", Quantity: 1, UnitAmount: 1000},
	}, 30*day, 25*day)
	for i := range 21 {
		b.shopperOrder(t, "sel_many", shopper, sneakers(2000), time.Duration(22-i)*day, day)
	}
	s := b.signIn(t, "shopper", shopper)

	plain, _ := b.newClaimForm(t, s)
	page := b.do(t, http.MethodGet, "/app/claims/new", s.cookie, nil)
	require.NotContains(t, page.Body, older, "the plain form lists only the recent orders")
	linked := b.do(t, http.MethodGet, "/app/claims/new?order="+older, s.cookie, nil)
	require.Equal(t, http.StatusOK, linked.Code)
	require.Contains(t, linked.Body, older, "a link to an older order shows it")

	other := b.shopperOrder(t, "sel_many", b.name("shp_someone_else"), []order.Item{
		{SKU: "sku_bag", Name: "Leather bag", Quantity: 1, UnitAmount: 40000},
		{SKU: "sku_belt", Name: "Leather belt", Quantity: 1, UnitAmount: 1000},
	}, 3*day, day)
	form := claimForm(other, plain)
	form.Add("item", other+"/sku_belt")
	r := b.post(t, s, "/app/claims/new", form)
	require.Equal(t, http.StatusUnprocessableEntity, r.Code, r.Body)
	require.Contains(t, r.Body, "Choose one of your orders from the list.")
	require.Empty(t, b.shopperClaims(t, shopper), "nothing filed")

	form = claimForm(older, plain)
	form.Add("item", older+"/sku_belt")
	r = b.post(t, s, "/app/claims/new", form)
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	claims := b.shopperClaims(t, shopper)
	require.Len(t, claims, 1)
	require.Equal(t, int64(1000), claims[0].Claim.Amount().Amount(), "the belt alone, not the whole order")
}
