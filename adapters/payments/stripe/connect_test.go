package stripe_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/stripe"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

func recoverRequest(reference string) claimflow.RecoverRequest {
	return claimflow.RecoverRequest{
		IdempotencyKey: "claim/c_1/seller_recovery", ClaimID: "c_1",
		Payment:       order.Payment{Provider: order.ProviderStripe, Reference: reference},
		SellerAccount: "acct_seller1", Amount: money.Of(1234, money.MustCurrency("EUR")),
	}
}

func TestDestinationChargeRefundReversesTransfer(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	_, err := f.provider(t, func(cfg *stripe.Config) { cfg.ReverseTransfer = true }).Refund(context.Background(), refundRequest("ch_1"))
	require.NoError(t, err)
	posts := f.refundPosts()
	require.Len(t, posts, 1)
	require.Equal(t, "true", posts[0].Form.Get("reverse_transfer"))
	require.Equal(t, "true", posts[0].Form.Get("refund_application_fee"))

	// Without the option, neither is sent.
	g := newFake(t, nil)
	_, err = g.provider(t, nil).Refund(context.Background(), refundRequest("ch_1"))
	require.NoError(t, err)
	require.Empty(t, g.refundPosts()[0].Form.Get("reverse_transfer"))
}

func TestRecoverFromSeller(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		giveTransfer  string
		giveGroup     string
		giveTransfers string
		giveReference string
		wantPath      string
	}{
		{name: "destination charge", giveTransfer: "tr_dest", giveReference: "ch_1", wantPath: "/v1/transfers/tr_dest/reversals"},
		{name: "payment intent", giveTransfer: "tr_dest", giveReference: "pi_1", wantPath: "/v1/transfers/tr_dest/reversals"},
		{name: "separate transfer in the group", giveGroup: "ord_1", giveReference: "ch_1",
			giveTransfers: `[{"id":"tr_sep","object":"transfer","amount":5000,"currency":"eur","destination":"acct_seller1"}]`,
			wantPath:      "/v1/transfers/tr_sep/reversals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(f *fakeStripe) {
				f.transfer, f.transferGroup, f.transfers = tt.giveTransfer, tt.giveGroup, tt.giveTransfers
			})
			ref, err := f.provider(t, nil).RecoverFromSeller(context.Background(), recoverRequest(tt.giveReference))
			require.NoError(t, err)
			require.Equal(t, "trr_fake", ref)
			var reversal *request
			for _, r := range f.recorded() {
				if r.Method == http.MethodPost {
					r := r
					reversal = &r
				}
			}
			require.NotNil(t, reversal)
			require.Equal(t, tt.wantPath, reversal.Path)
			require.Equal(t, "claim/c_1/seller_recovery", reversal.Header.Get("Idempotency-Key"))
			require.Equal(t, "1234", reversal.Form.Get("amount"))
			require.Equal(t, "c_1", reversal.Form.Get("metadata[claim_id]"))
			if tt.giveGroup != "" {
				for _, r := range f.recorded() {
					if r.Path == "/v1/transfers" {
						require.Equal(t, "ord_1", r.Form.Get("transfer_group"))
						require.Equal(t, "acct_seller1", r.Form.Get("destination"))
					}
				}
			}
		})
	}
}

func TestRecoverFromSellerWithoutTransfer(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	_, err := f.provider(t, nil).RecoverFromSeller(context.Background(), recoverRequest("ch_1"))
	pe := paymentError(t, err)
	require.True(t, pe.Permanent)
	require.Equal(t, stripe.CodeNoTransfer, pe.Code)
	for _, r := range f.recorded() {
		require.NotEqual(t, http.MethodPost, r.Method, "nothing may be reversed")
	}
}
