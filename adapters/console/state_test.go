package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// pages returns the claim's page as its agent, its seller and its shopper
// see it.
func (b *testBundle) pages(t *testing.T, id string) map[string]string {
	t.Helper()
	rec := b.get(t, id)
	out := map[string]string{}
	for role, p := range map[string]struct{ sub, path string }{
		"agent":   {"ana", "/console/claims/" + id},
		"seller":  {rec.Claim.SellerID(), "/console/seller/claims/" + id},
		"shopper": {rec.Claim.ShopperID(), "/app/claims/" + id},
	} {
		r := b.do(t, http.MethodGet, p.path, b.signIn(t, role, p.sub).cookie, nil)
		require.Equal(t, http.StatusOK, r.Code, "%s: %s", role, r.Body)
		out[role] = r.Body
	}
	return out
}

// refundAndCharge runs the refund and charge-seller steps, as the
// workers do.
func (b *testBundle) refundAndCharge(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	refund := &claimflow.RefundStep{Store: store, Now: b.clock.Now,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(store.DB(), sandbox.Config{})}}
	require.NoError(t, refund.Run(ctx, id, 1, 10))
	require.NoError(t, (&claimflow.ChargeSellerStep{Store: store, Now: b.clock.Now}).Run(ctx, id, 1, 10))
}

// TestReviewedClaimNoLongerPromisesAReview: a claim sent to a person,
// approved and closed does not go on saying a person will review it, on
// any page.
func TestReviewedClaimNoLongerPromisesAReview(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	id := b.reviewClaim(t, "sel_reviewed")
	before := b.pages(t, id)
	require.Contains(t, before["agent"], "A person will review this claim.", "while it is in review, it says so")

	_, err := b.svc.Override(ctx, agent, id, claimflow.OverrideRequest{Action: claimflow.ActionApprove,
		Note: "Serial number checked with the brand.", Version: b.get(t, id).Claim.Version()})
	require.NoError(t, err)
	b.refundAndCharge(t, id)
	require.Equal(t, claim.StatusClosed, b.get(t, id).Claim.Status())
	reason := claimflow.Reasons(b.get(t, id))[0].Message
	for role, body := range b.pages(t, id) {
		require.NotContains(t, body, "A person will review", role)
		require.NotContains(t, body, "will review", role)
		switch role {
		case "agent":
			require.Contains(t, body, escaped(reason), role)
		case "seller":
			// The reasons are written to the shopper; a seller reads
			// where the claim stands in words written for them.
			require.NotContains(t, body, escaped(reason), role)
			require.Contains(t, body, "charged to you", role)
		}
	}
}

// TestRefundThatFailedAfterwardsIsNotShownAsMade: a refund the provider
// reports failed after the claim closed is not shown as money back.
func TestRefundThatFailedAfterwardsIsNotShownAsMade(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	id := b.fileClaim(t, "sel_failed_later", b.name("shp_failed_later"), instantAmount)
	b.refundAndCharge(t, id)
	before := b.pages(t, id)
	require.Contains(t, before["shopper"], "went back to your original payment method")
	require.Contains(t, before["seller"], "The shopper was refunded 10.00 EUR")

	settler := &claimflow.Settler{Store: store, Now: b.clock.Now, Policy: policyfile.Default()}
	rec := b.get(t, id)
	require.NoError(t, settler.Settle(ctx, claimflow.RefundUpdate{Provider: order.ProviderSandbox, RefundID: rec.Claim.Refund().ID,
		ClaimID: id, Status: "failed", FailureReason: "the card was closed"}))
	b.clock.Add(time.Second)
	require.Equal(t, claim.StatusRefundFailed, b.get(t, id).Claim.Status())

	after := b.pages(t, id)
	require.NotContains(t, after["shopper"], "went back to your original payment method")
	require.Contains(t, after["shopper"], "Approved, but the refund is delayed")
	require.NotContains(t, after["seller"], "The shopper was refunded")
	require.Contains(t, after["seller"], "the shopper&#39;s refund has not gone through yet")
	require.NotContains(t, after["seller"], "the card was closed", "why a refund failed is the shopper's")
	require.NotContains(t, after["agent"], "Refunded through")
	require.Contains(t, after["agent"], "did not stand")
}

// TestRejectReasonOnlyWhereRejectIsOffered: the decision form asks for
// the reason shown to the shopper only when rejecting is one of its
// choices, also on the page a version conflict shows.
func TestRejectReasonOnlyWhereRejectIsOffered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ana := b.signIn(t, "agent", "ana")
	const reasonSelect = `name="reason_code"`

	review := b.reviewClaim(t, "sel_reject_reason")
	page := b.do(t, http.MethodGet, "/console/claims/"+review, ana.cookie, nil)
	require.Contains(t, page.Body, `id="override-action-reject"`)
	require.Contains(t, page.Body, reasonSelect, "in review: reject is offered, with its reason")
	version := b.get(t, review).Claim.Version()

	// Ben rejects first; Ana's approval, made on the page she had, conflicts.
	_, err := b.svc.Override(ctx, claimflow.Viewer{Role: "agent", Subject: "ben"}, review, claimflow.OverrideRequest{
		Action: claimflow.ActionReject, ReasonCode: "item_authentic", Note: "Genuine.", Version: version})
	require.NoError(t, err)
	r := b.post(t, ana, "/console/claims/"+review+"/override", url.Values{"action": {"approve"}, "note": {"Fake."},
		"version": {strconv.FormatInt(version, 10)}})
	require.Equal(t, http.StatusConflict, r.Code, r.Body)
	require.Contains(t, r.Body, `id="override-action-approve"`, "a rejected claim may still be approved")
	require.NotContains(t, r.Body, `id="override-action-reject"`)
	require.NotContains(t, r.Body, reasonSelect, "no reason to pick when reject is not offered")
	page = b.do(t, http.MethodGet, "/console/claims/"+review, ana.cookie, nil)
	require.NotContains(t, page.Body, reasonSelect)

	// A closed claim offers only to waive the charge.
	closed := b.fileClaim(t, "sel_reject_reason", b.name("shp_closed"), instantAmount)
	b.refundAndCharge(t, closed)
	page = b.do(t, http.MethodGet, "/console/claims/"+closed, ana.cookie, nil)
	require.Contains(t, page.Body, `id="override-action-waive_chargeback"`)
	require.NotContains(t, page.Body, reasonSelect)
}
