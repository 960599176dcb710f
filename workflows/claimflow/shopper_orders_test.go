package claimflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// ordersStore is the fake store with the orders read: its one order, if
// buyerID bought it, holding what its live claims hold (or held, when a
// test sets it), and the limit it was last asked for.
type ordersStore struct {
	*fakeStore
	heldOverride *money.Money
	ordersLimit  int
}

func (f *ordersStore) ShopperOrders(_ context.Context, buyerID string, limit int) ([]claimflow.ShopperOrder, error) {
	f.ordersLimit = limit
	if buyerID != f.order.BuyerID() {
		return nil, nil
	}
	held := f.heldOverride
	if held == nil {
		sum := money.Of(0, f.order.Currency())
		for _, lc := range f.live {
			sum, _ = sum.Add(lc.Amount)
		}
		held = &sum
	}
	return []claimflow.ShopperOrder{{Order: f.order, SellerName: f.seller.Name(), Held: *held, LiveClaims: len(f.live)}}, nil
}

func setupOrders(t *testing.T) (*claimflow.Service, *ordersStore) {
	t.Helper()
	_, fs := setup(t)
	st := &ordersStore{fakeStore: fs}
	return claimflow.NewService(st, policyfile.Default(), func() time.Time { return now }), st
}

func TestShopperOrdersSaysWhatIsStillClaimable(t *testing.T) {
	t.Parallel()
	svc, fs := setupOrders(t)
	ctx := context.Background()
	shopper := claimflow.Viewer{Role: "shopper", Subject: "shp_1"}
	eur := func(n int64) money.Money { return money.Of(n, money.MustCurrency("EUR")) }

	got, err := svc.ShopperOrders(ctx, shopper, 20)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "ord_1", got[0].Order.ID())
	require.Equal(t, "S", got[0].SellerName)
	require.Equal(t, eur(4000), got[0].Claimable, "nothing claimed yet: the whole order")
	require.Equal(t, eur(0), got[0].Held)

	// A claim on one line holds its value; the rest stays claimable.
	_, err = svc.Submit(ctx, "ord_1", claim.Request{ShopperID: "shp_1", Reason: "counterfeit", Description: "fake",
		Items: []claim.Item{{SKU: "b", Quantity: 1}}})
	require.NoError(t, err)
	got, err = svc.ShopperOrders(ctx, shopper, 20)
	require.NoError(t, err)
	require.Equal(t, eur(2000), got[0].Claimable)
	require.Equal(t, eur(2000), got[0].Held)
	require.Equal(t, 1, got[0].LiveClaims)

	// What Submit would refuse is what the form is told: never below zero.
	over := eur(5000)
	fs.heldOverride = &over
	got, err = svc.ShopperOrders(ctx, shopper, 20)
	require.NoError(t, err)
	require.Equal(t, eur(0), got[0].Claimable)
	// A store that held nothing and said so without a currency.
	fs.heldOverride = &money.Money{}
	got, err = svc.ShopperOrders(ctx, shopper, 20)
	require.NoError(t, err)
	require.Equal(t, eur(4000), got[0].Claimable)
}

func TestShopperOrdersOnlyTheShoppersOwn(t *testing.T) {
	t.Parallel()
	svc, _ := setupOrders(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		give claimflow.Viewer
	}{
		{"another shopper", claimflow.Viewer{Role: "shopper", Subject: "shp_2"}},
		{"an agent", claimflow.Viewer{Role: "agent", Subject: "shp_1"}},
		{"a seller", claimflow.Viewer{Role: "seller", Subject: "sel_1"}},
		{"no subject", claimflow.Viewer{Role: "shopper"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := svc.ShopperOrders(ctx, tc.give, 20)
			require.NoError(t, err)
			require.Empty(t, got)
		})
	}
}

func TestShopperOrdersBoundsTheLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shopper := claimflow.Viewer{Role: "shopper", Subject: "shp_1"}
	for _, tc := range []struct {
		give, want int
	}{
		{give: 5, want: 5},
		{give: claimflow.MaxShopperOrders, want: claimflow.MaxShopperOrders},
		{give: 0, want: claimflow.MaxShopperOrders},
		{give: -1, want: claimflow.MaxShopperOrders},
		{give: claimflow.MaxShopperOrders + 1, want: claimflow.MaxShopperOrders},
	} {
		svc, fs := setupOrders(t)
		_, err := svc.ShopperOrders(ctx, shopper, tc.give)
		require.NoError(t, err)
		require.Equal(t, tc.want, fs.ordersLimit, "limit %d", tc.give)
	}
}
