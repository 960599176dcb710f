package console_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
)

// linkedClaim files three claims by one shopper on one device, then a
// small claim by a new shopper on the same device, which goes to a person;
// it returns that claim's id and its shopper.
func (b *testBundle) linkedClaim(t *testing.T) (id, shopper string) {
	t.Helper()
	ctx := context.Background()
	sellerID := b.name("sel_lk")
	_, _, err := b.svc.PutSeller(ctx, seller.Params{ID: sellerID, Name: "Seller lk", RiskScore: 10, Verified: true})
	require.NoError(t, err)
	device := "dev_" + b.id
	n := 0
	file := func(buyer string) filedClaim {
		n++
		now := b.clock.Now()
		paid, delivered := now.Add(-3*day), now.Add(-day)
		orderID := b.name(fmt.Sprintf("ord_lk%d", n))
		_, _, err := b.svc.PutOrder(ctx, order.Params{
			ID: orderID, BuyerID: buyer, SellerID: sellerID, Currency: "EUR", Amount: instantAmount,
			Items:   []order.Item{{SKU: "sku_a", Name: "Sneakers", Quantity: 1, UnitAmount: instantAmount}},
			Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_" + orderID},
			PaidAt:  &paid, DeliveredAt: &delivered, BuyerSignals: order.BuyerSignals{Device: &device},
		})
		require.NoError(t, err)
		rec, err := b.svc.Submit(ctx, orderID, claim.Request{ShopperID: buyer, Reason: "damaged", Description: "The box was crushed."})
		require.NoError(t, err)
		return filedClaim{id: rec.Claim.ID(), status: rec.Claim.Status()}
	}
	first := b.name("shp_first")
	for range 3 {
		file(first)
	}
	shopper = b.name("shp_second")
	rec := file(shopper)
	require.Equal(t, claim.StatusInReview, rec.status)
	return rec.id, shopper
}

type filedClaim struct {
	id     string
	status claim.Status
}

func TestLinkedAccountsPanel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, shopper := b.linkedClaim(t)
	const staff = "Linked to 1 other shopper by device; they filed 3 claims in the last 90 days (30.00 EUR not rejected)."

	for _, role := range []string{"agent", "admin"} {
		s := b.signIn(t, role, "ana")
		r := b.do(t, http.MethodGet, "/console/claims/"+id, s.cookie, nil)
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		require.Contains(t, r.Body, `<h3 id="linked-h">Linked accounts</h3>`, role)
		require.Contains(t, r.Body, "<dt>Linked shoppers</dt><dd>1</dd>", role)
		require.Contains(t, r.Body, "<dt>Linked by</dt><dd>device</dd>", role)
		require.Contains(t, r.Body, "<dt>Their claims, 90 days</dt><dd>3</dd>", role)
		require.Contains(t, r.Body, "<dt>Their claims not rejected, 90 days</dt><dd>30.00 EUR</dd>", role)
		require.Contains(t, r.Body, "<strong>For staff:</strong> "+staff, role)
		require.Contains(t, r.Body, "linked_accounts", role)
	}

	// Finance reads the claim without what the engine found.
	s := b.signIn(t, "finance", "fin")
	r := b.do(t, http.MethodGet, "/console/claims/"+id, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.NotContains(t, r.Body, "Linked accounts")
	require.NotContains(t, r.Body, "For staff")

	// The shopper reads a neutral sentence, nothing of the link.
	s = b.signIn(t, "shopper", shopper)
	r = b.do(t, http.MethodGet, "/app/claims/"+id, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, r.Body, "This claim needs a closer look before it can be refunded.")
	for _, hidden := range []string{"Linked", "linked", "For staff", "by device", staff} {
		require.NotContains(t, r.Body, hidden)
	}

	// A claim with no linked shopper says so to the agent.
	plain := b.reviewClaim(t, "sel_plain")
	s = b.signIn(t, "agent", "ana")
	r = b.do(t, http.MethodGet, "/console/claims/"+plain, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, r.Body, "None: no other shopper shares a signal with this one.")
	require.NotContains(t, r.Body, "For staff")
}
