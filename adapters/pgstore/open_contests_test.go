package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// chargedClaim files a claim a new shopper is refunded for at once on an
// order of sellerID's, refunds it and charges the seller at chargedAt (so
// the contest window ends 72 hours later); it returns the claim's id.
func chargedClaim(t *testing.T, svc *claimflow.Service, sellerID string, chargedAt time.Time) string {
	t.Helper()
	ctx := context.Background()
	paid, delivered := now.Add(-5*24*time.Hour), now.Add(-4*24*time.Hour)
	orderID, shopper := uniq("ord"), uniq("shp")
	_, _, err := svc.PutOrder(ctx, order.Params{
		ID: orderID, BuyerID: shopper, SellerID: sellerID, Currency: "EUR", Amount: 1000,
		Items:   []order.Item{{SKU: "a", Name: "A", Quantity: 1, UnitAmount: 1000}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_" + orderID},
		PaidAt:  &paid, DeliveredAt: &delivered,
	})
	require.NoError(t, err)
	rec, err := svc.Submit(ctx, orderID, claim.Request{ShopperID: shopper, Reason: "counterfeit", Description: "Fake."})
	require.NoError(t, err)
	require.Equal(t, claim.StatusApproved, rec.Claim.Status())
	at := func() time.Time { return chargedAt }
	refund := &claimflow.RefundStep{Store: store, Now: at,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(store.DB(), sandbox.Config{})}}
	require.NoError(t, refund.Run(ctx, rec.Claim.ID(), 1, 10))
	require.NoError(t, (&claimflow.ChargeSellerStep{Store: store, Now: at}).Run(ctx, rec.Claim.ID(), 1, 10))
	return rec.Claim.ID()
}

func TestOpenContestWindowsSoonestFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := claimflow.NewService(store, policyfile.Default(), func() time.Time { return now })
	newSeller := func() string {
		id := uniq("sel")
		_, _, err := svc.PutSeller(ctx, seller.Params{ID: id, Name: "S", RiskScore: 10, Verified: true})
		require.NoError(t, err)
		return id
	}
	sellerID, other := newSeller(), newSeller()

	closed := chargedClaim(t, svc, sellerID, now.Add(-80*time.Hour)) // window ended 8 hours ago
	later := chargedClaim(t, svc, sellerID, now.Add(-10*time.Hour))  // ends in 62 hours
	sooner := chargedClaim(t, svc, sellerID, now.Add(-50*time.Hour)) // ends in 22 hours
	contested := chargedClaim(t, svc, sellerID, now.Add(-time.Hour))
	_, err := svc.Contest(ctx, claimflow.Viewer{Role: "seller", Subject: sellerID}, contested, claimflow.ContestRequest{Statement: "Genuine."})
	require.NoError(t, err)
	chargedClaim(t, svc, other, now.Add(-5*time.Hour))

	recs, more, err := store.OpenContestWindows(ctx, sellerID, now, 10)
	require.NoError(t, err)
	require.False(t, more)
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.Claim.ID())
		require.Equal(t, claim.ChargebackOpen, r.Claim.Chargeback().Status)
	}
	require.Equal(t, []string{sooner, later}, ids, "open windows only, soonest end first; not %s (closed) nor %s (contested)", closed, contested)
	require.Equal(t, now.Add(22*time.Hour), recs[0].Claim.Chargeback().ContestBy)

	recs, more, err = store.OpenContestWindows(ctx, sellerID, now, 1)
	require.NoError(t, err)
	require.True(t, more)
	require.Len(t, recs, 1)
	require.Equal(t, sooner, recs[0].Claim.ID())

	// Through the service: a seller sees their own, not another's.
	recs, _, err = svc.OpenContestWindows(ctx, claimflow.Viewer{Role: "seller", Subject: sellerID}, sellerID, 10)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	_, _, err = svc.OpenContestWindows(ctx, claimflow.Viewer{Role: "seller", Subject: sellerID}, other, 10)
	var nf *claimflow.NotFoundError
	require.ErrorAs(t, err, &nf)
	_, _, err = svc.OpenContestWindows(ctx, claimflow.Viewer{Role: "seller", Subject: sellerID}, sellerID, 0)
	require.ErrorContains(t, err, "limit")
}
