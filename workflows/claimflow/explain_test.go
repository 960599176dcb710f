package claimflow_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// storedClaim is a 25.00 EUR damaged claim as the store reads it, in
// status, changed by mod.
func storedClaim(status claim.Status, mod func(p *claim.RehydrateParams)) *claim.Claim {
	p := claim.RehydrateParams{
		ID: stepClaimID, OrderID: "ord_step1", ShopperID: "shp_7", SellerID: stepSellerID, Reason: claim.ReasonDamaged,
		Items: []claim.Item{{SKU: "sku_1", Quantity: 2}}, Amount: money.Of(2500, eur), Description: "arrived torn",
		Status: status, Version: 2, CreatedAt: stepFiledAt, UpdatedAt: stepFiledAt,
	}
	if mod != nil {
		mod(&p)
	}
	return claim.Rehydrate(p)
}

func withReason(r claim.Reason) func(p *claim.RehydrateParams) {
	return func(p *claim.RehydrateParams) { p.Reason = r }
}

func withDeadline(d time.Time) func(p *claim.RehydrateParams) {
	return func(p *claim.RehydrateParams) { p.ReviewDeadline = d }
}

func withRefundAt(at time.Time) func(p *claim.RehydrateParams) {
	return func(p *claim.RehydrateParams) {
		p.Refund = claim.RefundRef{Provider: order.ProviderSandbox, ID: "re_1", At: at}
	}
}

func withRejection(r claim.RejectionReason) func(p *claim.RehydrateParams) {
	return func(p *claim.RehydrateParams) { p.Rejection = r }
}

// Decisions as the engine words them.
var (
	reviewDecision = decision.Decision{Outcome: decision.OutcomeManualReview, Reasons: []decision.Reason{
		{Code: decision.CodeAboveInstantLimit, Message: "The amount claimed, 25.00 EUR, is above 20.00 EUR, the instant-refund limit for new accounts. A person will review this claim."},
		{Code: decision.CodeFrequentClaims, Message: "You have filed 3 other claims in the last 90 days. A person will review this claim."},
	}}
	deliveryConfirmedDecision = decision.Decision{Outcome: decision.OutcomeManualReview, Reasons: []decision.Reason{
		{Code: decision.CodeDeliveryConfirmed, Message: "The carrier reported this order delivered on 29 November 2026; a person will check the delivery before any refund."},
	}}
	notOverdueMessage  = "Claims for items not received can be filed 14 days after payment; this order was paid 3 days ago. If it has still not arrived on 11 December 2026, please file again."
	duplicateMessage   = "Some of the items in this claim are already covered by another open claim on this order."
	lateMessage        = "Claims for damaged items must be filed within 30 days of delivery; this order was delivered 45 days ago."
	notOverdueDecision = rejectedFor(decision.CodeDeliveryNotOverdue, notOverdueMessage)
)

func rejectedFor(code, message string) decision.Decision {
	return decision.Decision{Outcome: decision.OutcomeRejected, Reasons: []decision.Reason{{Code: code, Message: message}}}
}

const (
	approvedSummary = "Your claim was approved. The refund of 25.00 EUR is on its way to your original payment method."
	refundedSummary = "We refunded 25.00 EUR to your original payment method on 1 December 2026. Banks usually show it within 5 to 10 business days."
	failedSummary   = "Your claim was approved, but the refund of 25.00 EUR could not be completed yet. Our team is on it; you do not need to do anything."
	damagedHelps    = "Photos of the damage and of the packaging it arrived in help the reviewer decide."
)

func TestExplain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		give         *claim.Claim
		giveDecision decision.Decision
		wantSummary  string
		wantHelps    string
	}{
		{name: "submitted", give: storedClaim(claim.StatusSubmitted, nil),
			wantSummary: "We received your claim and are checking it."},

		// In review: the deadline, the engine's reasons without their
		// repeated "a person will review", and what backs the claim.
		{name: "in review", give: storedClaim(claim.StatusInReview, withDeadline(stepReviewBy)), giveDecision: reviewDecision,
			wantSummary: "A person is reviewing your claim and will decide by 1 December 2026, 08:00 UTC. " +
				"The amount claimed, 25.00 EUR, is above 20.00 EUR, the instant-refund limit for new accounts. " +
				"You have filed 3 other claims in the last 90 days.",
			wantHelps: damagedHelps},
		{name: "in review, deadline stored outside UTC", give: storedClaim(claim.StatusInReview, withDeadline(stepReviewBy.In(cet))),
			wantSummary: "A person is reviewing your claim and will decide by 1 December 2026, 08:00 UTC.", wantHelps: damagedHelps},
		{name: "in review, a reason without the suffix", give: storedClaim(claim.StatusInReview, withDeadline(stepReviewBy)),
			giveDecision: deliveryConfirmedDecision,
			wantSummary: "A person is reviewing your claim and will decide by 1 December 2026, 08:00 UTC. " +
				"The carrier reported this order delivered on 29 November 2026; a person will check the delivery before any refund.",
			wantHelps: damagedHelps},
		{name: "in review, escalated: no promise of a time already past", give: storedClaim(claim.StatusInReview, func(p *claim.RehydrateParams) {
			p.ReviewDeadline, p.EscalatedAt = stepReviewBy, stepReviewBy.Add(time.Minute)
		}),
			wantSummary: "A person is reviewing your claim; it is taking longer than planned, and it is now among the first to be decided.",
			wantHelps:   damagedHelps},
		{name: "rejected by an agent without a recorded reason: the review's reasons are not repeated", give: storedClaim(claim.StatusRejected, nil),
			giveDecision: reviewDecision,
			wantSummary:  "We could not approve your claim. It does not meet the marketplace's refund policy."},
		{name: "in review, no deadline, no decision", give: storedClaim(claim.StatusInReview, nil),
			wantSummary: "A person is reviewing your claim.", wantHelps: damagedHelps},
		{name: "in review, counterfeit", give: storedClaim(claim.StatusInReview, withReason(claim.ReasonCounterfeit)),
			wantSummary: "A person is reviewing your claim.",
			wantHelps:   "Photos of the logo, labels, serial number and packaging, or an authenticity report, help the reviewer decide."},
		{name: "in review, not as described", give: storedClaim(claim.StatusInReview, withReason(claim.ReasonNotAsDescribed)),
			wantSummary: "A person is reviewing your claim.",
			wantHelps:   "Photos that show how the item differs from its listing, with a link to the listing, help the reviewer decide."},
		{name: "in review, not received", give: storedClaim(claim.StatusInReview, withReason(claim.ReasonNotReceived)),
			wantSummary: "A person is reviewing your claim.",
			wantHelps:   "The carrier's tracking page, or a note from the carrier that the parcel was lost, helps the reviewer decide."},

		{name: "approved", give: storedClaim(claim.StatusApproved, nil), giveDecision: reviewDecision, wantSummary: approvedSummary},
		{name: "refund pending", give: storedClaim(claim.StatusRefundPending, withRefundAt(stepNow)), wantSummary: approvedSummary},
		{name: "approved, zero-decimal currency", wantSummary: "Your claim was approved. The refund of 5000 JPY is on its way to your original payment method.",
			give: storedClaim(claim.StatusApproved, func(p *claim.RehydrateParams) { p.Amount = money.Of(5000, money.MustCurrency("JPY")) })},

		{name: "refunded", give: storedClaim(claim.StatusRefunded, withRefundAt(stepNow)), wantSummary: refundedSummary},
		{name: "seller charged", give: storedClaim(claim.StatusSellerCharged, withRefundAt(stepNow)), wantSummary: refundedSummary},
		{name: "closed", give: storedClaim(claim.StatusClosed, withRefundAt(stepNow)), wantSummary: refundedSummary},
		{name: "refunded late in the evening, clock outside UTC", wantSummary: refundedSummary,
			give: storedClaim(claim.StatusClosed, withRefundAt(time.Date(2026, 12, 2, 0, 30, 0, 0, cet)))},
		{name: "refunded, date unknown", give: storedClaim(claim.StatusClosed, nil),
			wantSummary: "We refunded 25.00 EUR to your original payment method. Banks usually show it within 5 to 10 business days."},

		{name: "refund failed", give: storedClaim(claim.StatusRefundFailed, withDeadline(stepReviewBy)), wantSummary: failedSummary},

		// Rejected by an agent: the agent's reason, and what would change it.
		{name: "rejected by an agent", give: storedClaim(claim.StatusRejected, withRejection(claim.RejectDamageNotShown)),
			giveDecision: reviewDecision,
			wantSummary:  "We could not approve your claim. The photos do not show the damage or the difference described.",
			wantHelps:    "Photos that show the damage, or how the item differs from its listing, together with the packaging it came in, would let us look again."},
		{name: "rejected by an agent after an automatic rejection", give: storedClaim(claim.StatusRejected, withRejection(claim.RejectDeliveryConfirmed)),
			giveDecision: notOverdueDecision,
			wantSummary:  "We could not approve your claim. The carrier confirmed delivery to your address.",
			wantHelps:    "A statement from the carrier that the parcel was lost, or a police report for a stolen parcel, would let us look again."},

		// Rejected by the engine: its reason, and what helps per code.
		{name: "rejected, not overdue", give: storedClaim(claim.StatusRejected, nil), giveDecision: notOverdueDecision,
			wantSummary: "We could not approve your claim. " + notOverdueMessage,
			wantHelps:   "You can file the claim again once the wait is over, if the parcel has still not arrived."},
		{name: "rejected, duplicate", give: storedClaim(claim.StatusRejected, nil),
			giveDecision: rejectedFor(decision.CodeDuplicateClaim, duplicateMessage),
			wantSummary:  "We could not approve your claim. " + duplicateMessage,
			wantHelps:    "Follow the claim that already covers these items; file a new one only for items it leaves out."},
		{name: "rejected, too late", give: storedClaim(claim.StatusRejected, nil),
			giveDecision: rejectedFor(decision.CodeOutsideClaimWindow, lateMessage),
			wantSummary:  "We could not approve your claim. " + lateMessage,
			wantHelps:    "Proof that you reported the problem in time, such as earlier messages to the seller, would let customer service look again."},
		{name: "rejected for a code with no advice", give: storedClaim(claim.StatusRejected, nil),
			giveDecision: rejectedFor("some_new_rule", "A rule said no."),
			wantSummary:  "We could not approve your claim. A rule said no."},
		{name: "rejected, no decision on record", give: storedClaim(claim.StatusRejected, nil),
			wantSummary: "We could not approve your claim. It does not meet the marketplace's refund policy."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := claimflow.Explain(claimflow.Record{Claim: tt.give, Decision: tt.giveDecision})
			require.Equal(t, claimflow.Explanation{Summary: tt.wantSummary, WhatHelps: tt.wantHelps}, got)
		})
	}
}

// TestExplainEveryAgentRejection: whichever reason an agent rejects for,
// the shopper reads it and what would change it.
func TestExplainEveryAgentRejection(t *testing.T) {
	t.Parallel()
	for _, r := range claim.RejectionReasons {
		t.Run(r.String(), func(t *testing.T) {
			t.Parallel()
			got := claimflow.Explain(claimflow.Record{Claim: storedClaim(claim.StatusRejected, withRejection(r)), Decision: reviewDecision})
			require.Equal(t, claimflow.Explanation{Summary: "We could not approve your claim. " + r.Text(), WhatHelps: r.Helps()}, got)
			require.NotEmpty(t, got.WhatHelps)
		})
	}
}

// TestExplainEveryStatus: each status has its own words, and only a
// claim in review or rejected asks the shopper for anything.
func TestExplainEveryStatus(t *testing.T) {
	t.Parallel()
	for _, give := range claim.Statuses {
		t.Run(give.String(), func(t *testing.T) {
			t.Parallel()
			got := claimflow.Explain(claimflow.Record{Claim: storedClaim(give, withRejection(claim.RejectDuplicate)), Decision: reviewDecision})
			require.NotEmpty(t, got.Summary)
			require.False(t, strings.HasPrefix(got.Summary, "Your claim is "), "not the fallback: %q", got.Summary)
			require.True(t, strings.HasSuffix(got.Summary, "."), "a sentence: %q", got.Summary)
			require.NotContains(t, got.Summary, "A person will review this claim.")
			wantsHelp := give == claim.StatusInReview || give == claim.StatusRejected
			require.Equal(t, wantsHelp, got.WhatHelps != "", got.WhatHelps)
		})
	}
}

// TestExplainAfterTheWorkflow explains claims the engine's methods moved,
// not hand-built rows.
func TestExplainAfterTheWorkflow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		give        claim.Status
		wantSummary string
	}{
		{name: "in review", give: claim.StatusInReview,
			wantSummary: "A person is reviewing your claim and will decide by 1 December 2026, 08:00 UTC."},
		{name: "closed", give: claim.StatusClosed,
			wantSummary: "We refunded 25.00 EUR to your original payment method on 30 November 2026. Banks usually show it within 5 to 10 business days."},
		{name: "refund failed", give: claim.StatusRefundFailed, wantSummary: failedSummary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupSteps(t, order.ProviderSandbox, tt.give)
			got := claimflow.Explain(claimflow.Record{Claim: b.store.Claim(t, stepClaimID)})
			require.Equal(t, tt.wantSummary, got.Summary)
		})
	}
}

// TestReasonsFollowTheClaim: the decision's reasons promise a person's
// review only while the claim is in review.
func TestReasonsFollowTheClaim(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		give claim.Status
		want []string
	}{
		{give: claim.StatusInReview, want: []string{
			"The amount claimed, 25.00 EUR, is above 20.00 EUR, the instant-refund limit for new accounts. A person will review this claim.",
			"You have filed 3 other claims in the last 90 days. A person will review this claim."}},
		{give: claim.StatusApproved, want: []string{
			"The amount claimed, 25.00 EUR, is above 20.00 EUR, the instant-refund limit for new accounts.",
			"You have filed 3 other claims in the last 90 days."}},
		{give: claim.StatusClosed, want: []string{
			"The amount claimed, 25.00 EUR, is above 20.00 EUR, the instant-refund limit for new accounts.",
			"You have filed 3 other claims in the last 90 days."}},
		{give: claim.StatusRejected, want: []string{
			"The amount claimed, 25.00 EUR, is above 20.00 EUR, the instant-refund limit for new accounts.",
			"You have filed 3 other claims in the last 90 days."}},
	} {
		rec := claimflow.Record{Claim: storedClaim(tc.give, nil), Decision: reviewDecision}
		var got []string
		for _, r := range claimflow.Reasons(rec) {
			got = append(got, r.Message)
		}
		require.Equal(t, tc.want, got, tc.give.String())
	}
	require.Contains(t, reviewDecision.Reasons[0].Message, "A person will review", "the stored decision is left as made")
}
