package claimflow_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/claimflow/storetest"
)

// The deadlines moveClaim sets: a claim in review or with a failed refund
// must be decided a day after it was filed; a charged seller may contest
// for three days.
var (
	stepReviewBy  = stepFiledAt.Add(24 * time.Hour) // 2026-12-01 08:00 UTC
	stepContestBy = stepFiledAt.Add(72 * time.Hour) // 2026-12-03 08:00 UTC
	cet           = time.FixedZone("CET", 3600)
	agentActor    = claim.Actor{Kind: "agent", ID: "agt_ana"}
	sellerActor   = claim.Actor{Kind: "seller", ID: stepSellerID}
)

// setupDeadline stores a claim in status (see setupSteps) and returns a
// DeadlineStep on it whose clock reads at, outside UTC: the step must
// record UTC times.
func setupDeadline(t *testing.T, status claim.Status, policy decision.Policy, at time.Time) (*stepBundle, *claimflow.DeadlineStep) {
	t.Helper()
	b := setupSteps(t, order.ProviderSandbox, status)
	return b, &claimflow.DeadlineStep{
		Store: b.store, Policy: policy, Now: func() time.Time { return at.In(cet) }, Log: slog.New(slog.DiscardHandler),
	}
}

// amendStored changes the stored claim as an earlier transaction would
// have, leaving the store's counters alone: what the step writes is all
// requireUntouched sees.
func amendStored(t *testing.T, b *stepBundle, fn func(c *claim.Claim)) {
	t.Helper()
	c := b.store.Claim(t, stepClaimID)
	fn(c)
	b.store.Put(b.order, c)
}

// approveOnExpiry is a policy that grants damaged claims after sla.
func approveOnExpiry(sla time.Duration) decision.Policy {
	return decision.Policy{Review: map[claim.Reason]decision.ReviewRule{
		claim.ReasonDamaged: {SLA: sla, OnExpiry: decision.ExpiryApprove},
	}}
}

func TestReviewDeadlineEscalates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		giveStatus claim.Status
		givePolicy decision.Policy
		giveAt     time.Time
	}{
		{name: "in review, at the deadline", giveStatus: claim.StatusInReview, giveAt: stepReviewBy},
		{name: "in review, late timer", giveStatus: claim.StatusInReview, giveAt: stepReviewBy.Add(90 * time.Minute)},
		{name: "failed refund", giveStatus: claim.StatusRefundFailed, giveAt: stepReviewBy},
		{name: "failed refund under a granting policy: only reviews are granted",
			giveStatus: claim.StatusRefundFailed, givePolicy: approveOnExpiry(24 * time.Hour), giveAt: stepReviewBy},
		{name: "granting policy for another reason", giveStatus: claim.StatusInReview, giveAt: stepReviewBy,
			givePolicy: decision.Policy{Review: map[claim.Reason]decision.ReviewRule{
				claim.ReasonCounterfeit: {SLA: 24 * time.Hour, OnExpiry: decision.ExpiryApprove},
			}}},
		{name: "escalating policy", giveStatus: claim.StatusInReview, giveAt: stepReviewBy,
			givePolicy: decision.Policy{Review: map[claim.Reason]decision.ReviewRule{
				claim.ReasonDamaged: {SLA: 48 * time.Hour, OnExpiry: decision.ExpiryEscalate},
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, step := setupDeadline(t, tt.giveStatus, tt.givePolicy, tt.giveAt)

			again, err := step.RunReview(context.Background(), stepClaimID)

			require.NoError(t, err)
			require.Zero(t, again)
			c := b.store.Claim(t, stepClaimID)
			require.Equal(t, tt.giveStatus, c.Status(), "escalation is not a decision")
			require.Equal(t, tt.giveAt, c.EscalatedAt())
			require.Equal(t, stepReviewBy, c.ReviewDeadline())
			require.Equal(t, []claim.Event{{
				Type: "escalated", From: tt.giveStatus, To: tt.giveStatus, Actor: claim.SystemActor,
				Note: "The review deadline passed without a decision.",
				Data: map[string]any{"deadline": "2026-12-01T08:00:00Z"}, At: tt.giveAt,
			}}, b.store.Events(stepClaimID))
			require.Equal(t, 1, b.store.Updates())
			require.Empty(t, b.store.Scheduled(stepClaimID).Steps)
			require.Empty(t, b.store.Scheduled(stepClaimID).Timers)
			require.Empty(t, b.store.Ledger())
		})
	}
}

func TestReviewDeadlineGrants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		giveSLA  time.Duration
		giveAt   time.Time
		wantNote string
	}{
		{name: "a day", giveSLA: 24 * time.Hour, giveAt: stepReviewBy,
			wantNote: "No agent decided within 24 hours; the policy grants the claim."},
		{name: "an hour", giveSLA: time.Hour, giveAt: stepReviewBy,
			wantNote: "No agent decided within 1 hour; the policy grants the claim."},
		{name: "late timer", giveSLA: 48 * time.Hour, giveAt: stepReviewBy.Add(72 * time.Hour),
			wantNote: "No agent decided within 48 hours; the policy grants the claim."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, step := setupDeadline(t, claim.StatusInReview, approveOnExpiry(tt.giveSLA), tt.giveAt)

			again, err := step.RunReview(context.Background(), stepClaimID)

			require.NoError(t, err)
			require.Zero(t, again)
			c := b.store.Claim(t, stepClaimID)
			require.Equal(t, claim.StatusApproved, c.Status())
			require.Zero(t, c.ReviewDeadline())
			require.Zero(t, c.EscalatedAt())
			require.Equal(t, []claim.Event{{
				Type: "decided", From: claim.StatusInReview, To: claim.StatusApproved, Actor: claim.SystemActor,
				Note: tt.wantNote, Data: map[string]any{"rule": "review_deadline", "deadline": "2026-12-01T08:00:00Z"}, At: tt.giveAt,
			}}, b.store.Events(stepClaimID))
			require.Equal(t, []claimflow.Step{claimflow.StepRefund}, b.store.Scheduled(stepClaimID).Steps, "the refund follows at once")
			require.Empty(t, b.store.Scheduled(stepClaimID).Timers)
			require.Empty(t, b.store.Ledger())
			require.Equal(t, 1, b.store.Updates())
		})
	}
}

func TestReviewDeadlineAhead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		giveStatus claim.Status
		givePolicy decision.Policy
		giveAt     time.Time
		want       time.Duration
	}{
		{name: "in review, early timer", giveStatus: claim.StatusInReview, giveAt: stepReviewBy.Add(-2 * time.Hour), want: 2 * time.Hour},
		{name: "in review, a nanosecond early", giveStatus: claim.StatusInReview, giveAt: stepReviewBy.Add(-time.Nanosecond), want: time.Nanosecond},
		{name: "in review, granting policy", giveStatus: claim.StatusInReview, givePolicy: approveOnExpiry(24 * time.Hour),
			giveAt: stepReviewBy.Add(-time.Minute), want: time.Minute},
		{name: "failed refund", giveStatus: claim.StatusRefundFailed, giveAt: stepFiledAt, want: 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, step := setupDeadline(t, tt.giveStatus, tt.givePolicy, tt.giveAt)

			again, err := step.RunReview(context.Background(), stepClaimID)

			require.NoError(t, err)
			require.Equal(t, tt.want, again)
			requireUntouched(t, b, tt.giveStatus)
			require.Zero(t, b.store.Claim(t, stepClaimID).EscalatedAt())
		})
	}
}

func TestReviewDeadlineActsOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		givePolicy decision.Policy
		wantStatus claim.Status
		wantNext   []claimflow.Step
	}{
		{name: "escalated", wantStatus: claim.StatusInReview},
		{name: "granted", givePolicy: approveOnExpiry(24 * time.Hour), wantStatus: claim.StatusApproved,
			wantNext: []claimflow.Step{claimflow.StepRefund}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, step := setupDeadline(t, claim.StatusInReview, tt.givePolicy, stepNow)
			ctx := context.Background()

			for range 3 {
				again, err := step.RunReview(ctx, stepClaimID)
				require.NoError(t, err)
				require.Zero(t, again)
			}

			require.Equal(t, tt.wantStatus, b.store.Claim(t, stepClaimID).Status())
			require.Equal(t, 1, b.store.Updates())
			require.Len(t, b.store.Events(stepClaimID), 1)
			require.Equal(t, tt.wantNext, b.store.Scheduled(stepClaimID).Steps)
		})
	}
}

func TestReviewDeadlineNothingToDo(t *testing.T) {
	t.Parallel()
	at := stepReviewBy.Add(time.Hour)
	tests := []struct {
		name       string
		giveStatus claim.Status
		giveAmend  func(t *testing.T, c *claim.Claim)
		wantStatus claim.Status
	}{
		{name: "submitted", giveStatus: claim.StatusSubmitted, wantStatus: claim.StatusSubmitted},
		{name: "approved", giveStatus: claim.StatusApproved, wantStatus: claim.StatusApproved},
		{name: "rejected", giveStatus: claim.StatusRejected, wantStatus: claim.StatusRejected},
		{name: "refund pending", giveStatus: claim.StatusRefundPending, wantStatus: claim.StatusRefundPending},
		{name: "refunded", giveStatus: claim.StatusRefunded, wantStatus: claim.StatusRefunded},
		{name: "seller charged", giveStatus: claim.StatusSellerCharged, wantStatus: claim.StatusSellerCharged},
		{name: "closed", giveStatus: claim.StatusClosed, wantStatus: claim.StatusClosed},
		{name: "approved by an agent before the deadline", giveStatus: claim.StatusInReview, wantStatus: claim.StatusApproved,
			giveAmend: func(t *testing.T, c *claim.Claim) {
				require.NoError(t, c.OverrideApprove(agentActor, "fine", c.Amount(), stepReviewBy.Add(-time.Hour)))
			}},
		{name: "rejected by an agent before the deadline", giveStatus: claim.StatusInReview, wantStatus: claim.StatusRejected,
			giveAmend: func(t *testing.T, c *claim.Claim) {
				require.NoError(t, c.OverrideReject(agentActor, claim.RejectDamageNotShown, "no", stepReviewBy.Add(-time.Hour)))
			}},
		{name: "failed refund given up before the deadline", giveStatus: claim.StatusRefundFailed, wantStatus: claim.StatusRejected,
			giveAmend: func(t *testing.T, c *claim.Claim) {
				require.NoError(t, c.OverrideReject(agentActor, claim.RejectOutsidePolicy, "no", stepReviewBy.Add(-time.Hour)))
			}},
		{name: "escalated already", giveStatus: claim.StatusInReview, wantStatus: claim.StatusInReview,
			giveAmend: func(t *testing.T, c *claim.Claim) { require.True(t, c.Escalate(stepReviewBy)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, step := setupDeadline(t, tt.giveStatus, approveOnExpiry(24*time.Hour), at)
			if tt.giveAmend != nil {
				amendStored(t, b, func(c *claim.Claim) { tt.giveAmend(t, c) })
			}
			version := b.store.Claim(t, stepClaimID).Version()

			again, err := step.RunReview(context.Background(), stepClaimID)

			require.NoError(t, err)
			require.Zero(t, again)
			requireUntouched(t, b, tt.wantStatus)
			require.Equal(t, version, b.store.Claim(t, stepClaimID).Version())
		})
	}
}

// TestReviewDeadlineWaitingWithoutDeadline: a claim stored before review
// deadlines existed waits without one; its timer does nothing.
func TestReviewDeadlineWaitingWithoutDeadline(t *testing.T) {
	t.Parallel()
	b, step := setupDeadline(t, claim.StatusInReview, decision.Policy{}, stepNow)
	p := storetest.Params(b.store.Claim(t, stepClaimID))
	p.ReviewDeadline = time.Time{}
	b.store.Put(b.order, claim.Rehydrate(p))

	again, err := step.RunReview(context.Background(), stepClaimID)

	require.NoError(t, err)
	require.Zero(t, again)
	requireUntouched(t, b, claim.StatusInReview)
}

// TestReviewDeadlineOfAnEarlierWait: the timer of a refund that failed,
// was retried and failed again fires at the first deadline; the claim
// waits until its new one.
func TestReviewDeadlineOfAnEarlierWait(t *testing.T) {
	t.Parallel()
	b, step := setupDeadline(t, claim.StatusRefundFailed, decision.Policy{}, stepReviewBy)
	retriedAt := stepReviewBy.Add(-time.Hour)
	amendStored(t, b, func(c *claim.Claim) {
		require.NoError(t, c.RetryRefund(agentActor, "again", retriedAt))
		require.NoError(t, c.FailRefund(claim.Failure{Code: "card_declined", Reason: "no"}, retriedAt.Add(24*time.Hour), retriedAt))
	})

	again, err := step.RunReview(context.Background(), stepClaimID)

	require.NoError(t, err)
	require.Equal(t, 23*time.Hour, again)
	requireUntouched(t, b, claim.StatusRefundFailed)
}

func TestReviewDeadlineMissingClaim(t *testing.T) {
	t.Parallel()
	b, step := setupDeadline(t, claim.StatusInReview, decision.Policy{}, stepNow)

	again, err := step.RunReview(context.Background(), "clm_nope")

	var nf *claimflow.NotFoundError
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "claim", nf.Resource)
	require.ErrorIs(t, err, claimflow.ErrNotFound)
	require.Contains(t, err.Error(), "review deadline of claim clm_nope")
	require.Zero(t, again)
	requireUntouched(t, b, claim.StatusInReview)
}

func TestContestDeadlineFinalizes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		giveStatus claim.Status
		giveAt     time.Time
	}{
		{name: "closed, at the end of the window", giveStatus: claim.StatusClosed, giveAt: stepContestBy},
		{name: "closed, late timer", giveStatus: claim.StatusClosed, giveAt: stepContestBy.Add(24 * time.Hour)},
		{name: "seller charged", giveStatus: claim.StatusSellerCharged, giveAt: stepContestBy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, step := setupDeadline(t, tt.giveStatus, decision.Policy{}, tt.giveAt)

			again, err := step.RunContest(context.Background(), stepClaimID)

			require.NoError(t, err)
			require.Zero(t, again)
			c := b.store.Claim(t, stepClaimID)
			require.Equal(t, tt.giveStatus, c.Status())
			require.Equal(t, claim.ChargebackFinal, c.Chargeback().Status)
			require.Equal(t, []claim.Event{{
				Type: "chargeback_final", From: tt.giveStatus, To: tt.giveStatus, Actor: claim.SystemActor,
				Note: "The seller did not contest within the window.",
				Data: map[string]any{"contest_by": "2026-12-03T08:00:00Z"}, At: tt.giveAt,
			}}, b.store.Events(stepClaimID))
			require.Equal(t, 1, b.store.Updates())
			require.Empty(t, b.store.Ledger(), "the seller was charged already")
			require.Empty(t, b.store.Scheduled(stepClaimID).Steps)
			require.Empty(t, b.store.Scheduled(stepClaimID).Timers)
		})
	}
}

func TestContestDeadlineAhead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		giveAt time.Time
		want   time.Duration
	}{
		{name: "early timer", giveAt: stepNow, want: 46*time.Hour + 30*time.Minute},
		{name: "a nanosecond early", giveAt: stepContestBy.Add(-time.Nanosecond), want: time.Nanosecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, step := setupDeadline(t, claim.StatusClosed, decision.Policy{}, tt.giveAt)

			again, err := step.RunContest(context.Background(), stepClaimID)

			require.NoError(t, err)
			require.Equal(t, tt.want, again)
			requireUntouched(t, b, claim.StatusClosed)
			require.Equal(t, claim.ChargebackOpen, b.store.Claim(t, stepClaimID).Chargeback().Status)
		})
	}
}

func TestContestDeadlineActsOnce(t *testing.T) {
	t.Parallel()
	b, step := setupDeadline(t, claim.StatusClosed, decision.Policy{}, stepContestBy)
	ctx := context.Background()

	for range 3 {
		again, err := step.RunContest(ctx, stepClaimID)
		require.NoError(t, err)
		require.Zero(t, again)
	}

	require.Equal(t, claim.ChargebackFinal, b.store.Claim(t, stepClaimID).Chargeback().Status)
	require.Equal(t, 1, b.store.Updates())
	require.Len(t, b.store.Events(stepClaimID), 1)
}

func TestContestDeadlineNothingToDo(t *testing.T) {
	t.Parallel()
	before := stepContestBy.Add(-time.Hour) // inside the window
	contest := func(t *testing.T, c *claim.Claim) {
		require.NoError(t, c.Contest(sellerActor, "It was genuine.", nil, before.Add(-time.Hour)))
	}
	tests := []struct {
		name       string
		giveStatus claim.Status
		giveAmend  func(t *testing.T, c *claim.Claim)
		wantStatus claim.Status
		want       claim.ChargebackStatus
	}{
		{name: "not charged", giveStatus: claim.StatusRefunded, wantStatus: claim.StatusRefunded, want: claim.ChargebackNone},
		{name: "contested, not settled", giveStatus: claim.StatusClosed, wantStatus: claim.StatusClosed, want: claim.ChargebackContested,
			giveAmend: contest},
		{name: "contest upheld before the window ended", giveStatus: claim.StatusClosed, wantStatus: claim.StatusClosed, want: claim.ChargebackUpheld,
			giveAmend: func(t *testing.T, c *claim.Claim) {
				contest(t, c)
				require.NoError(t, c.ResolveContest(agentActor, true, "fake", before))
			}},
		{name: "contest reversed before the window ended", giveStatus: claim.StatusClosed, wantStatus: claim.StatusClosed, want: claim.ChargebackReversed,
			giveAmend: func(t *testing.T, c *claim.Claim) {
				contest(t, c)
				require.NoError(t, c.ResolveContest(agentActor, false, "genuine", before))
			}},
		{name: "waived", giveStatus: claim.StatusClosed, wantStatus: claim.StatusClosed, want: claim.ChargebackWaived,
			giveAmend: func(t *testing.T, c *claim.Claim) {
				require.NoError(t, c.WaiveChargeback(agentActor, "goodwill", before))
			}},
		{name: "voided: the refund bounced", giveStatus: claim.StatusClosed, wantStatus: claim.StatusRefundFailed, want: claim.ChargebackVoided,
			giveAmend: func(t *testing.T, c *claim.Claim) {
				require.NoError(t, c.FailRefund(claim.Failure{Code: "refund_bounced", Reason: "returned"}, before.Add(24*time.Hour), before))
			}},
		{name: "final already", giveStatus: claim.StatusClosed, wantStatus: claim.StatusClosed, want: claim.ChargebackFinal,
			giveAmend: func(t *testing.T, c *claim.Claim) { require.True(t, c.FinalizeChargeback(stepContestBy)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, step := setupDeadline(t, tt.giveStatus, decision.Policy{}, stepContestBy.Add(time.Hour))
			if tt.giveAmend != nil {
				amendStored(t, b, func(c *claim.Claim) { tt.giveAmend(t, c) })
			}

			again, err := step.RunContest(context.Background(), stepClaimID)

			require.NoError(t, err)
			require.Zero(t, again)
			requireUntouched(t, b, tt.wantStatus)
			require.Equal(t, tt.want, b.store.Claim(t, stepClaimID).Chargeback().Status)
		})
	}
}

func TestContestDeadlineMissingClaim(t *testing.T) {
	t.Parallel()
	b, step := setupDeadline(t, claim.StatusClosed, decision.Policy{}, stepContestBy)

	again, err := step.RunContest(context.Background(), "clm_nope")

	require.ErrorIs(t, err, claimflow.ErrNotFound)
	require.Contains(t, err.Error(), "contest window of claim clm_nope")
	require.Zero(t, again)
	requireUntouched(t, b, claim.StatusClosed)
}

func TestReviewRuleFor(t *testing.T) {
	t.Parallel()
	byDefault := decision.ReviewRule{SLA: decision.DefaultReviewSLA, OnExpiry: decision.ExpiryEscalate}
	tests := []struct {
		name       string
		givePolicy decision.Policy
		giveReason claim.Reason
		want       decision.ReviewRule
	}{
		{name: "no rules", giveReason: claim.ReasonDamaged, want: byDefault},
		{name: "a rule for another reason", givePolicy: approveOnExpiry(time.Hour), giveReason: claim.ReasonCounterfeit, want: byDefault},
		{name: "the reason's rule", givePolicy: approveOnExpiry(time.Hour), giveReason: claim.ReasonDamaged,
			want: decision.ReviewRule{SLA: time.Hour, OnExpiry: decision.ExpiryApprove}},
		{name: "no expiry action: escalate", giveReason: claim.ReasonDamaged,
			givePolicy: decision.Policy{Review: map[claim.Reason]decision.ReviewRule{claim.ReasonDamaged: {SLA: 48 * time.Hour}}},
			want:       decision.ReviewRule{SLA: 48 * time.Hour, OnExpiry: decision.ExpiryEscalate}},
		{name: "no time-box: the default, whatever the action", giveReason: claim.ReasonDamaged, givePolicy: approveOnExpiry(0), want: byDefault},
		{name: "negative time-box: the default", giveReason: claim.ReasonDamaged, givePolicy: approveOnExpiry(-time.Hour), want: byDefault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.givePolicy.ReviewRuleFor(tt.giveReason))
		})
	}
	require.Equal(t, 24*time.Hour, decision.DefaultReviewSLA)
}

func TestContestWindowOrDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give time.Duration
		want time.Duration
	}{
		{name: "unset", give: 0, want: 72 * time.Hour},
		{name: "negative", give: -time.Hour, want: 72 * time.Hour},
		{name: "set", give: 10 * time.Hour, want: 10 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, decision.Policy{ContestWindow: tt.give}.ContestWindowOrDefault())
		})
	}
}

func TestParseExpiry(t *testing.T) {
	t.Parallel()
	for _, want := range []decision.Expiry{decision.ExpiryEscalate, decision.ExpiryApprove} {
		got, err := decision.ParseExpiry(want.String())
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	for _, give := range []string{"", "grant", "Approve"} {
		_, err := decision.ParseExpiry(give)
		require.Error(t, err, give)
	}
}
