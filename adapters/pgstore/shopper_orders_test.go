package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
)

// buyerOrder stores an order of buyer's from sellerID for 3000 EUR (three
// of SKU "a"), paid at paid (nil: not paid).
func buyerOrder(t *testing.T, sellerID, buyer string, paid *time.Time) *order.Order {
	t.Helper()
	o, err := order.New(order.Params{
		ID: uniq("ord"), BuyerID: buyer, SellerID: sellerID, Currency: "EUR", Amount: 3000,
		Items:   []order.Item{{SKU: "a", Name: "Sneakers", Quantity: 3, UnitAmount: 1000}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay"}, PaidAt: paid,
	})
	require.NoError(t, err)
	_, err = store.UpsertOrder(context.Background(), o, now)
	require.NoError(t, err)
	return o
}

func TestShopperOrdersNewestFirstWithWhatIsHeld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := seller.New(seller.Params{ID: uniq("sel"), Name: "Northwind Shoes", RiskScore: 30})
	require.NoError(t, err)
	_, err = store.UpsertSeller(ctx, s, now)
	require.NoError(t, err)
	buyer := uniq("shp")
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }

	older := buyerOrder(t, s.ID(), buyer, at(5*24*time.Hour))
	newer := buyerOrder(t, s.ID(), buyer, at(24*time.Hour))
	buyerOrder(t, s.ID(), buyer, nil)                         // not paid: nothing to claim
	buyerOrder(t, s.ID(), uniq("shp"), at(time.Hour))         // someone else's
	tieA := buyerOrder(t, s.ID(), buyer, at(10*24*time.Hour)) // two paid at the same instant
	tieB := buyerOrder(t, s.ID(), buyer, at(10*24*time.Hour))

	toReview := func(c *claim.Claim) error {
		return c.SendToReview(claim.SystemActor, "", nil, now.Add(24*time.Hour), now)
	}
	reject := func(c *claim.Claim) error { return c.Reject(claim.SystemActor, "", nil, now) }
	_, err = submit(ctx, t, older, 1000, toReview)
	require.NoError(t, err)
	_, err = submit(ctx, t, older, 700, toReview)
	require.NoError(t, err)
	_, err = submit(ctx, t, older, 900, reject) // a rejected claim holds nothing
	require.NoError(t, err)

	got, err := store.ShopperOrders(ctx, buyer, 10)
	require.NoError(t, err)
	ids := make([]string, len(got))
	for i, g := range got {
		ids[i] = g.Order.ID()
	}
	wantTie := []string{tieB.ID(), tieA.ID()}
	if tieA.ID() > tieB.ID() {
		wantTie = []string{tieA.ID(), tieB.ID()}
	}
	require.Equal(t, append([]string{newer.ID(), older.ID()}, wantTie...), ids,
		"paid orders of the buyer only, the latest payment first, ties by id")

	eur := money.MustCurrency("EUR")
	require.Equal(t, "Northwind Shoes", got[0].SellerName)
	require.Equal(t, money.Of(0, eur), got[0].Held)
	require.Zero(t, got[0].LiveClaims)
	require.Equal(t, money.Of(1700, eur), got[1].Held, "both live claims, not the rejected one")
	require.Equal(t, 2, got[1].LiveClaims)
	require.True(t, got[1].Claimable.IsZero(), "the store leaves Claimable to the use case")
	require.Equal(t, older.Items(), got[1].Order.Items())
	require.Equal(t, older.PaidAt().UnixMicro(), got[1].Order.PaidAt().UnixMicro())

	got, err = store.ShopperOrders(ctx, buyer, 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, newer.ID(), got[0].Order.ID())

	got, err = store.ShopperOrders(ctx, uniq("shp_nobody"), 10)
	require.NoError(t, err)
	require.Empty(t, got)
}
