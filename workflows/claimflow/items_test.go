package claimflow_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

func (f *fakeStore) GetOrder(_ context.Context, id string) (*order.Order, error) {
	if id != f.order.ID() {
		return nil, &claimflow.NotFoundError{Resource: "order", ID: id}
	}
	return f.order, nil
}

// TestClaimedItemsAreNamed: a claim's items come with the names its order
// gives them; a claim on the whole order lists every item of it.
func TestClaimedItemsAreNamed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shopper := claimflow.Viewer{Role: "shopper", Subject: "shp_1"}
	// file files a claim on a fresh order: every claim starts from the
	// whole order.
	file := func(items ...claim.Item) (*claimflow.Service, claimflow.Record) {
		t.Helper()
		svc, _ := setup(t)
		rec, err := svc.Submit(ctx, "ord_1", claim.Request{ShopperID: "shp_1", Reason: "damaged", Description: "broken", Items: items})
		require.NoError(t, err)
		return svc, rec
	}

	for _, tc := range []struct {
		name string
		give []claim.Item
		want []claimflow.ClaimedItem
	}{
		{name: "some items", give: []claim.Item{{SKU: "b", Quantity: 1}},
			want: []claimflow.ClaimedItem{{SKU: "b", Name: "B", Quantity: 1}}},
		{name: "the whole order", want: []claimflow.ClaimedItem{{SKU: "a", Name: "A", Quantity: 2}, {SKU: "b", Name: "B", Quantity: 1}}},
	} {
		svc, rec := file(tc.give...)
		for _, v := range []claimflow.Viewer{shopper, {Role: "seller", Subject: "sel_1"}, {Role: "agent", Subject: "ana"}} {
			got, err := svc.ClaimedItems(ctx, v, rec)
			require.NoError(t, err, tc.name)
			require.Equal(t, tc.want, got, tc.name)
		}
	}

	svc, rec := file(claim.Item{SKU: "a", Quantity: 1})
	for _, v := range []claimflow.Viewer{{Role: "shopper", Subject: "shp_2"}, {Role: "seller", Subject: "sel_2"}} {
		_, err := svc.ClaimedItems(ctx, v, rec)
		var nf *claimflow.NotFoundError
		require.ErrorAs(t, err, &nf, "%s sees another's claim", v.Role)
	}
}
