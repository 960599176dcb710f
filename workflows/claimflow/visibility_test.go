package claimflow_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

var (
	staffViewer   = claimflow.Viewer{Role: "agent", Subject: "ana"}
	shopperViewer = claimflow.Viewer{Role: "shopper", Subject: "shp_7"}
	sellerViewer  = claimflow.Viewer{Role: "seller", Subject: stepSellerID}
)

func TestViewerEvent(t *testing.T) {
	t.Parallel()
	at := stepFiledAt
	decided := claim.Event{Type: "decided", From: claim.StatusSubmitted, To: claim.StatusInReview, Actor: claim.SystemActor,
		Data: map[string]any{"outcome": "manual_review", "reasons": []string{"frequent_claims"}, "policy_version": "p1"}, At: at}
	submitted := claim.Event{Type: "submitted", To: claim.StatusSubmitted, Actor: claim.Actor{Kind: "shopper", ID: "shp_7"},
		Data: map[string]any{"reason": "damaged"}, At: at}
	override := claim.Event{Type: "override", From: claim.StatusInReview, To: claim.StatusApproved, Actor: claim.Actor{Kind: "agent", ID: "ana"},
		Note: "Checked the photos.", Data: map[string]any{"action": "approve"}, At: at}
	settled := claim.Event{Type: "contest_upheld", To: claim.StatusClosed, Actor: claim.Actor{Kind: "agent", ID: "ana"},
		Note: "The invoice is not the brand's.", At: at}
	contested := claim.Event{Type: "chargeback_contested", To: claim.StatusClosed, Actor: claim.Actor{Kind: "seller", ID: stepSellerID},
		Data: map[string]any{"evidence": 1}, At: at}

	failed := claim.Event{Type: "refund_failed", From: claim.StatusClosed, To: claim.StatusRefundFailed, Actor: claim.SystemActor,
		Note: "The provider reports the refund re_1 failed: the card was closed.",
		Data: map[string]any{"code": "expired_card", "chargeback_from": "open", "chargeback_to": "voided"}, At: at}
	charged := claim.Event{Type: "seller_charged", From: claim.StatusRefunded, To: claim.StatusSellerCharged, Actor: claim.SystemActor,
		Note: "The provider refused to recover the amount (insufficient_funds).",
		Data: map[string]any{"seller_id": stepSellerID, "amount": 2500, "currency": "EUR", "contest_by": "2026-12-03T09:00:00Z"}, At: at}

	tests := []struct {
		name   string
		viewer claimflow.Viewer
		give   claim.Event
		want   claim.Event
		wantOK bool
	}{
		{"staff see the decision's codes", staffViewer, decided, decided, true},
		{"the shopper sees their decision's codes", shopperViewer, decided, decided, true},
		{"a seller sees the outcome, not the codes", sellerViewer, decided, claim.Event{Type: "decided", From: claim.StatusSubmitted, To: claim.StatusInReview,
			Actor: claim.SystemActor, Data: map[string]any{"outcome": "manual_review", "policy_version": "p1"}, At: at}, true},
		{"a seller does not see who filed, nor what", sellerViewer, submitted, claim.Event{Type: "submitted", To: claim.StatusSubmitted,
			Actor: claim.Actor{Kind: "shopper"}, At: at}, true},
		{"the shopper sees their own filing", shopperViewer, submitted, submitted, true},
		{"the shopper sees that an agent acted, not who or the note", shopperViewer, override, claim.Event{Type: "override",
			From: claim.StatusInReview, To: claim.StatusApproved, Actor: claim.Actor{Kind: "agent"}, At: at}, true},
		{"the shopper does not see the seller's charge", shopperViewer, settled, claim.Event{}, false},
		{"the shopper does not see the seller's contest", shopperViewer, contested, claim.Event{}, false},
		{"a seller reads the settlement's note, not the agent", sellerViewer, settled, claim.Event{Type: "contest_upheld", To: claim.StatusClosed,
			Actor: claim.Actor{Kind: "agent"}, Note: "The invoice is not the brand's.", At: at}, true},
		{"a seller sees their own contest", sellerViewer, contested, contested, true},
		{"a seller does not read why the shopper's refund failed, nor its code", sellerViewer, failed, claim.Event{Type: "refund_failed",
			From: claim.StatusClosed, To: claim.StatusRefundFailed, Actor: claim.SystemActor,
			Data: map[string]any{"chargeback_from": "open", "chargeback_to": "voided"}, At: at}, true},
		{"the shopper reads why their refund failed, not what became of the charge", shopperViewer, failed, claim.Event{Type: "refund_failed",
			From: claim.StatusClosed, To: claim.StatusRefundFailed, Actor: claim.SystemActor,
			Note: "The provider reports the refund re_1 failed: the card was closed.", Data: map[string]any{"code": "expired_card"}, At: at}, true},
		{"the shopper sees that the seller was charged, not how", shopperViewer, charged, claim.Event{Type: "seller_charged",
			From: claim.StatusRefunded, To: claim.StatusSellerCharged, Actor: claim.SystemActor, At: at}, true},
		{"the seller reads their charge", sellerViewer, charged, charged, true},
		{"another seller's contest is not theirs", claimflow.Viewer{Role: "seller", Subject: "sel_other"}, contested,
			claim.Event{Type: "chargeback_contested", To: claim.StatusClosed, Actor: claim.Actor{Kind: "seller"}, Data: map[string]any{"evidence": 1}, At: at}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tt.viewer.Event(tt.give)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.want, got)
		})
	}
	// The rule never changes the event it was given.
	require.Contains(t, decided.Data, "reasons")
}

func TestViewerSees(t *testing.T) {
	t.Parallel()
	type sees struct{ reasons, facts, shopper, chargeback, failure, resolver, staffNotes bool }
	of := func(v claimflow.Viewer) sees {
		return sees{v.SeesDecisionReasons(), v.SeesFacts(), v.SeesShopper(), v.SeesChargeback(), v.SeesRefundFailure(), v.SeesResolver(), v.SeesStaffNotes()}
	}
	require.Equal(t, sees{true, true, true, true, true, true, true}, of(staffViewer))
	require.Equal(t, sees{true, true, true, true, true, true, true}, of(claimflow.Viewer{Role: "admin", Subject: "root"}))
	require.Equal(t, sees{true, true, true, true, true, true, false}, of(claimflow.Viewer{Role: "finance", Subject: "fin"}))
	require.Equal(t, sees{reasons: true, shopper: true, failure: true}, of(shopperViewer))
	require.Equal(t, sees{chargeback: true}, of(sellerViewer))
	for _, role := range []claimflow.Role{claimflow.RoleRightsHolder, claimflow.RoleEnforcement} {
		v := claimflow.Viewer{Role: role, Subject: "someone"}
		require.False(t, v.IsStaff(), role)
		require.False(t, v.SeesFacts(), role)
		require.False(t, v.SeesStaffNotes(), role)
	}
}

func TestViewerReasons(t *testing.T) {
	t.Parallel()
	linked := decision.Reason{Code: decision.CodeLinkedAccounts, Message: "This claim needs a closer look.",
		Staff: "Linked to 2 other shoppers by device; they filed 5 claims in the last 90 days (80.00 EUR not rejected)."}
	plain := decision.Reason{Code: decision.CodeFrequentClaims, Message: "You have filed 3 other claims."}
	give := []decision.Reason{plain, linked}
	tests := []struct {
		name   string
		viewer claimflow.Viewer
		want   []decision.Reason
	}{
		{"an agent reads the staff sentence", staffViewer, give},
		{"an administrator too", claimflow.Viewer{Role: "admin", Subject: "root"}, give},
		{"finance reads the code, not the staff sentence", claimflow.Viewer{Role: "finance", Subject: "fin"},
			[]decision.Reason{plain, {Code: decision.CodeLinkedAccounts, Message: linked.Message}}},
		{"the shopper reads neither the staff sentence nor the code", shopperViewer,
			[]decision.Reason{plain, {Code: decision.CodeFurtherReview, Message: linked.Message}}},
		{"a seller reads no reasons", sellerViewer, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.viewer.Reasons(give))
		})
	}
	require.NotEmpty(t, give[1].Staff, "the rule never changes the reasons it was given")

	// The decision's event names its codes as the shopper reads them.
	decided := claim.Event{Type: "decided", From: claim.StatusSubmitted, To: claim.StatusInReview, Actor: claim.SystemActor,
		Data: map[string]any{"outcome": "manual_review", "reasons": []any{"frequent_claims", "linked_accounts"}}, At: stepFiledAt}
	got, ok := shopperViewer.Event(decided)
	require.True(t, ok)
	require.Equal(t, []any{"frequent_claims", "further_review"}, got.Data["reasons"])
	got, _ = shopperViewer.Event(claim.Event{Type: "decided", To: claim.StatusInReview, Actor: claim.SystemActor,
		Data: map[string]any{"reasons": []string{"linked_accounts"}}, At: stepFiledAt})
	require.Equal(t, []string{"further_review"}, got.Data["reasons"])
	got, _ = staffViewer.Event(decided)
	require.Equal(t, decided, got)
}

func TestExplainToSeller(t *testing.T) {
	t.Parallel()
	now := stepFiledAt.Add(time.Hour)
	contestBy := now.Add(72 * time.Hour)
	charged := func(st claim.ChargebackStatus) func(p *claim.RehydrateParams) {
		return func(p *claim.RehydrateParams) {
			p.Chargeback = claim.Chargeback{Status: st, ChargedAt: now, ContestBy: contestBy}
			if st == claim.ChargebackContested {
				p.Chargeback.Contest = &claim.Contest{Statement: "genuine", At: now}
			}
		}
	}
	protected := func(st claim.ChargebackStatus) func(p *claim.RehydrateParams) {
		return func(p *claim.RehydrateParams) {
			charged(st)(p)
			p.Chargeback.Protected = true
		}
	}
	instant := decision.Decision{Outcome: decision.OutcomeInstantRefund}
	tests := []struct {
		name          string
		give          *claim.Claim
		giveDecision  decision.Decision
		giveNow       time.Time
		wantSummary   string
		wantWhatHelps string
	}{
		{"submitted", storedClaim(claim.StatusSubmitted, nil), reviewDecision, now,
			"The shopper filed this claim and it is being checked. You are not charged for it.", ""},
		{"in review: nothing of the shopper's history", storedClaim(claim.StatusInReview, withDeadline(now.Add(time.Hour))), reviewDecision, now,
			"A person at the marketplace is reviewing this claim. You are not charged unless it is approved; you will see the outcome here.", ""},
		{"approved at once", storedClaim(claim.StatusApproved, nil), instant, now,
			"The claim was approved at once under the marketplace's fast-refund policy. The shopper is being refunded 25.00 EUR; the same amount will be charged to you, and you may then contest the charge for a limited time.", ""},
		{"approved after review, refunded", storedClaim(claim.StatusRefunded, withRefundAt(now)), reviewDecision, now,
			"The claim was approved after review. The shopper was refunded 25.00 EUR; the same amount is being charged to you, and you may then contest the charge for a limited time.", ""},
		{"refund failed: not why", storedClaim(claim.StatusRefundFailed, nil), instant, now,
			"The claim was approved, but the shopper's refund has not gone through yet. You are not charged until it does.", ""},
		{"rejected automatically", storedClaim(claim.StatusRejected, nil), rejectedFor(decision.CodeOutsideClaimWindow, lateMessage), now,
			"The claim was rejected, so you are not charged for it.", ""},
		{"rejected by an agent", storedClaim(claim.StatusRejected, withRejection(claim.RejectItemAuthentic)), reviewDecision, now,
			"An agent rejected the claim: The review found the item to be genuine. You are not charged for it.", ""},
		{"charged, window open", storedClaim(claim.StatusClosed, charged(claim.ChargebackOpen)), instant, now,
			"The shopper was refunded 25.00 EUR and the same amount was charged to you. If the claim is wrong, you may contest the charge until 3 December 2026, 09:00 UTC.",
			"Photos of the item and its packing before it left you, and the carrier's condition report, help the agent settle your contest."},
		{"charged, window closed", storedClaim(claim.StatusClosed, charged(claim.ChargebackOpen)), instant, contestBy,
			"You were charged 25.00 EUR for this claim. The window to contest it closed on 3 December 2026, 09:00 UTC; the charge stands and becomes final.", ""},
		{"contested", storedClaim(claim.StatusClosed, charged(claim.ChargebackContested)), instant, now,
			"You contested the charge of 25.00 EUR on 30 November 2026, 09:00 UTC. An agent will settle it; until then it stays on your balance.", ""},
		{"upheld", storedClaim(claim.StatusClosed, charged(claim.ChargebackUpheld)), instant, now,
			"An agent upheld the charge of 25.00 EUR after your contest: it stays on your balance.", ""},
		{"reversed", storedClaim(claim.StatusClosed, charged(claim.ChargebackReversed)), instant, now,
			"An agent reversed the charge of 25.00 EUR after your contest: it was taken off your balance.", ""},
		{"final", storedClaim(claim.StatusClosed, charged(claim.ChargebackFinal)), instant, contestBy,
			"You were charged 25.00 EUR for this claim and did not contest it within the window, which closed on 3 December 2026, 09:00 UTC. The charge is final.", ""},
		{"waived", storedClaim(claim.StatusClosed, charged(claim.ChargebackWaived)), instant, now,
			"The marketplace took the charge of 25.00 EUR off your balance and bears the cost itself.", ""},
		{"protected, window open", storedClaim(claim.StatusClosed, protected(claim.ChargebackOpen)), instant, now,
			"Refunded to the shopper by the platform (25.00 EUR); you will be charged only if you do not contest by 3 December 2026, 09:00 UTC or an agent upholds the charge.",
			"Photos of the item and its packing before it left you, and the carrier's condition report, help the agent settle your contest."},
		{"protected, window closed", storedClaim(claim.StatusClosed, protected(claim.ChargebackOpen)), instant, contestBy,
			"Refunded to the shopper by the platform (25.00 EUR). The window to contest closed on 3 December 2026, 09:00 UTC; the charge is being confirmed and will then be charged to you.", ""},
		{"protected, contested", storedClaim(claim.StatusClosed, protected(claim.ChargebackContested)), instant, now,
			"The platform refunded the shopper 25.00 EUR. You contested the charge; you will be charged only if an agent upholds it.", ""},
		{"protected, upheld", storedClaim(claim.StatusClosed, protected(claim.ChargebackUpheld)), instant, now,
			"An agent upheld the charge of 25.00 EUR after your contest: it is now charged to your balance.", ""},
		{"protected, reversed", storedClaim(claim.StatusClosed, protected(claim.ChargebackReversed)), instant, now,
			"An agent reversed the charge of 25.00 EUR after your contest: you are not charged, the marketplace bears the cost.", ""},
		{"protected, final", storedClaim(claim.StatusClosed, protected(claim.ChargebackFinal)), instant, contestBy,
			"You were charged 25.00 EUR for this claim and did not contest it within the window, which closed on 3 December 2026, 09:00 UTC. The charge is final.", ""},
		{"voided", storedClaim(claim.StatusRefundFailed, charged(claim.ChargebackVoided)), instant, now,
			"The claim was approved, but the shopper's refund has not gone through yet. You are not charged until it does.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := claimflow.ExplainToSeller(claimflow.Record{Claim: tt.give, Decision: tt.giveDecision}, tt.giveNow)
			require.Equal(t, tt.wantSummary, got.Summary)
			require.Equal(t, tt.wantWhatHelps, got.WhatHelps)
			for _, r := range tt.giveDecision.Reasons {
				require.NotContains(t, got.Summary, r.Message, "the shopper's reasons are not the seller's")
			}
		})
	}
}

// TestViewerEventEvidenceAdded: a file added to a claim is on the
// timeline of staff and of the party who added it, never of the other.
func TestViewerEventEvidenceAdded(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	byShopper := claim.Event{Type: claimflow.EventEvidenceAdded, From: claim.StatusClosed, To: claim.StatusClosed,
		Actor: claim.Actor{Kind: "shopper", ID: "shp_1"}, Data: map[string]any{"evidence_id": "evd_1"}, At: at}
	bySeller := byShopper
	bySeller.Actor = claim.Actor{Kind: "seller", ID: "sel_1"}
	for _, tt := range []struct {
		name   string
		v      claimflow.Viewer
		ev     claim.Event
		wantOK bool
	}{
		{"the shopper, their own", claimflow.Viewer{Role: claimflow.RoleShopper, Subject: "shp_1"}, byShopper, true},
		{"the seller, the shopper's", claimflow.Viewer{Role: claimflow.RoleSeller, Subject: "sel_1"}, byShopper, false},
		{"the seller, their own", claimflow.Viewer{Role: claimflow.RoleSeller, Subject: "sel_1"}, bySeller, true},
		{"the shopper, the seller's", claimflow.Viewer{Role: claimflow.RoleShopper, Subject: "shp_1"}, bySeller, false},
		{"an agent, the shopper's", claimflow.Viewer{Role: claimflow.RoleAgent, Subject: "ana"}, byShopper, true},
		{"finance, the seller's", claimflow.Viewer{Role: claimflow.RoleFinance, Subject: "fin"}, bySeller, true},
	} {
		got, ok := tt.v.Event(tt.ev)
		require.Equal(t, tt.wantOK, ok, tt.name)
		if ok {
			require.Equal(t, "evd_1", got.Data["evidence_id"], tt.name)
		}
	}
}
