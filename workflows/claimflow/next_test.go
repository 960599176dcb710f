package claimflow_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// TestNextStep: what follows each state a claim can stand in.
func TestNextStep(t *testing.T) {
	t.Parallel()
	// moveClaim's last change is at stepFiledAt; a claim in review or with
	// a failed refund must be decided by stepReviewBy, a charged seller may
	// contest until stepContestBy.
	tests := []struct {
		name     string
		give     claim.Status
		giveMod  func(t *testing.T, c *claim.Claim)
		wantNext claimflow.Next
		wantOK   bool
	}{
		{name: "submitted", give: claim.StatusSubmitted},
		{name: "approved: refund", give: claim.StatusApproved,
			wantNext: claimflow.Next{Step: claimflow.StepRefund, At: stepFiledAt}, wantOK: true},
		{name: "rejected", give: claim.StatusRejected},
		{name: "refund pending: the provider's word", give: claim.StatusRefundPending},
		{name: "refunded: charge the seller", give: claim.StatusRefunded,
			wantNext: claimflow.Next{Step: claimflow.StepChargeSeller, At: stepFiledAt}, wantOK: true},
		{name: "in review: its deadline", give: claim.StatusInReview,
			wantNext: claimflow.Next{Step: claimflow.StepReviewDeadline, At: stepReviewBy}, wantOK: true},
		{name: "refund failed: its deadline", give: claim.StatusRefundFailed,
			wantNext: claimflow.Next{Step: claimflow.StepReviewDeadline, At: stepReviewBy}, wantOK: true},
		{name: "in review, escalated", give: claim.StatusInReview, giveMod: func(t *testing.T, c *claim.Claim) {
			require.True(t, c.Escalate(stepReviewBy))
		}},
		{name: "refund failed, escalated", give: claim.StatusRefundFailed, giveMod: func(t *testing.T, c *claim.Claim) {
			require.True(t, c.Escalate(stepReviewBy.Add(time.Hour)))
		}},
		{name: "seller charged: the contest window", give: claim.StatusSellerCharged,
			wantNext: claimflow.Next{Step: claimflow.StepContestDeadline, At: stepContestBy}, wantOK: true},
		{name: "closed, charge open: the contest window", give: claim.StatusClosed,
			wantNext: claimflow.Next{Step: claimflow.StepContestDeadline, At: stepContestBy}, wantOK: true},
		{name: "closed, charge contested", give: claim.StatusClosed, giveMod: func(t *testing.T, c *claim.Claim) {
			require.NoError(t, c.Contest(sellerActor, "genuine", nil, stepFiledAt.Add(time.Hour)))
		}},
		{name: "closed, charge final", give: claim.StatusClosed, giveMod: func(t *testing.T, c *claim.Claim) {
			require.True(t, c.FinalizeChargeback(stepContestBy))
		}},
		{name: "closed, charge waived", give: claim.StatusClosed, giveMod: func(t *testing.T, c *claim.Claim) {
			require.NoError(t, c.WaiveChargeback(agentActor, "goodwill", stepFiledAt.Add(time.Hour)))
		}},
		{name: "closed, then the refund bounced: its deadline", give: claim.StatusClosed, giveMod: func(t *testing.T, c *claim.Claim) {
			require.NoError(t, c.FailRefund(claim.Failure{Code: claim.FailureRefundFailed, Reason: "bounced"}, stepContestBy, stepReviewBy))
		}, wantNext: claimflow.Next{Step: claimflow.StepReviewDeadline, At: stepContestBy}, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupSteps(t, "sandbox", tt.give)
			c := b.store.Claim(t, stepClaimID)
			if tt.giveMod != nil {
				tt.giveMod(t, c)
			}
			next, ok := claimflow.NextStep(c)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.wantNext, next)
		})
	}
}

// TestNextWaitsForNothing: a claim in review without a deadline (stored
// before deadlines were set) waits for a person and nothing else.
func TestNextWaitsForNothing(t *testing.T) {
	t.Parallel()
	c := storedClaim(claim.StatusInReview, nil)
	_, ok := claimflow.NextStep(c)
	require.False(t, ok)
}

// TestNextEffects: a step is scheduled to run now, a timer at its time.
func TestNextEffects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give claimflow.Next
		want claimflow.Effects
	}{
		{give: claimflow.Next{Step: claimflow.StepRefund, At: stepNow},
			want: claimflow.Effects{Next: []claimflow.Step{claimflow.StepRefund}}},
		{give: claimflow.Next{Step: claimflow.StepChargeSeller, At: stepNow},
			want: claimflow.Effects{Next: []claimflow.Step{claimflow.StepChargeSeller}}},
		{give: claimflow.Next{Step: claimflow.StepReviewDeadline, At: stepReviewBy},
			want: claimflow.Effects{Timers: []claimflow.Timer{{Step: claimflow.StepReviewDeadline, At: stepReviewBy}}}},
		{give: claimflow.Next{Step: claimflow.StepContestDeadline, At: stepContestBy},
			want: claimflow.Effects{Timers: []claimflow.Timer{{Step: claimflow.StepContestDeadline, At: stepContestBy}}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.give.Step), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.give.Effects())
		})
	}
}
