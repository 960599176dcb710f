package claim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/validation"
)

// The fixtures' timeline: a claim is filed at now (claim_test.go), decided
// an hour later, refunded and charged to its seller soon after; the tests
// act at actAt, before the review deadline and inside the contest window.
var (
	agent       = claim.Actor{Kind: "agent", ID: "agt_ana"}
	sellerActor = claim.Actor{Kind: "seller", ID: "sel_1"}
	decidedAt   = now.Add(time.Hour)
	reviewBy    = decidedAt.Add(24 * time.Hour)
	refundedAt  = now.Add(2 * time.Hour)
	chargedAt   = now.Add(3 * time.Hour)
	contestBy   = chargedAt.Add(72 * time.Hour)
	contestedAt = chargedAt.Add(time.Hour)
	settledAt   = chargedAt.Add(2 * time.Hour)
	actAt       = now.Add(6 * time.Hour)
)

// claimIn returns a claim for the whole of testOrder (50.00 EUR) moved to
// status through the claim's own methods, its events popped as if just
// loaded from the store. A failed refund failed with card_declined; a
// charged claim's chargeback is open. The same status always builds an
// equal claim, so a test compares the claim it acted on with an untouched
// twin.
func claimIn(t *testing.T, status claim.Status) *claim.Claim {
	t.Helper()
	return claimFailedWith(t, status, "card_declined")
}

// claimFailedWith is claimIn with the failure code of a failed refund.
func claimFailedWith(t *testing.T, status claim.Status, failureCode claim.FailureCode) *claim.Claim {
	t.Helper()
	c, err := claim.New("clm_1", testOrder(t, true), claim.Request{ShopperID: "shp_1", Reason: "counterfeit", Description: "fake"}, eur(5000), now)
	require.NoError(t, err)
	ref := claim.RefundRef{Provider: order.ProviderSandbox, ID: "re_1", At: refundedAt}
	approve := func() error { return c.Approve(claim.SystemActor, "", nil, decidedAt) }
	refund := func() error { return c.MarkRefunded(ref, refundedAt) }
	charge := func() error { return c.ChargeSeller(chargedAt, "", "", contestBy) }
	paths := map[claim.Status][]func() error{
		claim.StatusSubmitted:     nil,
		claim.StatusInReview:      {func() error { return c.SendToReview(claim.SystemActor, "", nil, reviewBy, decidedAt) }},
		claim.StatusRejected:      {func() error { return c.Reject(claim.SystemActor, "", nil, decidedAt) }},
		claim.StatusApproved:      {approve},
		claim.StatusRefundPending: {approve, func() error { return c.MarkRefundPending(ref, refundedAt) }},
		claim.StatusRefundFailed: {approve, func() error {
			return c.FailRefund(claim.Failure{Code: failureCode, Reason: "The provider said no."}, reviewBy, refundedAt)
		}},
		claim.StatusRefunded:      {approve, refund},
		claim.StatusSellerCharged: {approve, refund, charge},
		claim.StatusClosed:        {approve, refund, charge, func() error { return c.Close(chargedAt) }},
	}
	path, ok := paths[status]
	require.True(t, ok, "no path to %s", status)
	for _, move := range path {
		require.NoError(t, move())
	}
	require.Equal(t, status, c.Status())
	c.PopEvents()
	return c
}

// escalatedIn returns a claim waiting in status (in_review or
// refund_failed) whose review deadline passed and was escalated.
func escalatedIn(t *testing.T, status claim.Status) *claim.Claim {
	t.Helper()
	c := claimIn(t, status)
	require.True(t, c.Escalate(reviewBy))
	c.PopEvents()
	return c
}

// rejectedByAgent returns a claim an agent rejected from review.
func rejectedByAgent(t *testing.T, reason claim.RejectionReason) *claim.Claim {
	t.Helper()
	c := claimIn(t, claim.StatusInReview)
	require.NoError(t, c.OverrideReject(agent, reason, "no proof", decidedAt.Add(time.Hour)))
	c.PopEvents()
	return c
}

// requireRefused checks err is a *claim.RefusedError with code and a
// message that says why.
func requireRefused(t *testing.T, err error, code string) *claim.RefusedError {
	t.Helper()
	var re *claim.RefusedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, code, re.Code)
	require.NotEmpty(t, re.Message)
	require.Equal(t, code+": "+re.Message, err.Error())
	return re
}

// requireOneEvent pops the claim's events and checks there is exactly
// want, comparing Data too.
func requireOneEvent(t *testing.T, c *claim.Claim, want claim.Event) {
	t.Helper()
	require.Equal(t, []claim.Event{want}, c.PopEvents())
}

// statusAction is an action on a claim and the statuses it is allowed in.
type statusAction struct {
	name      string
	do        func(c *claim.Claim) error
	allowed   map[claim.Status]claim.Status // from → to
	wantEvent string
	wantActor claim.Actor
	wantNote  string
	wantCode  string // the refusal in every other status
}

func statusActions() []statusAction {
	return []statusAction{
		{
			name: "override approve",
			do:   func(c *claim.Claim) error { return c.OverrideApprove(agent, "looks fake", eur(5000), actAt) },
			allowed: map[claim.Status]claim.Status{
				claim.StatusInReview: claim.StatusApproved,
				claim.StatusRejected: claim.StatusApproved,
			},
			wantEvent: "override", wantActor: agent, wantNote: "looks fake", wantCode: "cannot_approve",
		},
		{
			name: "override reject",
			do:   func(c *claim.Claim) error { return c.OverrideReject(agent, claim.RejectDuplicate, "see clm_0", actAt) },
			allowed: map[claim.Status]claim.Status{
				claim.StatusInReview:     claim.StatusRejected,
				claim.StatusRefundFailed: claim.StatusRejected,
			},
			wantEvent: "override", wantActor: agent, wantNote: "see clm_0", wantCode: "cannot_reject",
		},
		{
			name:      "retry refund",
			do:        func(c *claim.Claim) error { return c.RetryRefund(agent, "new card on file", actAt) },
			allowed:   map[claim.Status]claim.Status{claim.StatusRefundFailed: claim.StatusApproved},
			wantEvent: "override", wantActor: agent, wantNote: "new card on file", wantCode: "no_failed_refund",
		},
		{
			name: "contest",
			do:   func(c *claim.Claim) error { return c.Contest(sellerActor, "It was genuine.", nil, actAt) },
			allowed: map[claim.Status]claim.Status{
				claim.StatusSellerCharged: claim.StatusSellerCharged,
				claim.StatusClosed:        claim.StatusClosed,
			},
			wantEvent: "chargeback_contested", wantActor: sellerActor, wantCode: "no_chargeback",
		},
		{
			name:      "resolve contest",
			do:        func(c *claim.Claim) error { return c.ResolveContest(agent, true, "the photos match", actAt) },
			allowed:   map[claim.Status]claim.Status{},
			wantEvent: "contest_upheld", wantActor: agent, wantNote: "the photos match", wantCode: "no_open_contest",
		},
		{
			name: "waive chargeback",
			do:   func(c *claim.Claim) error { return c.WaiveChargeback(agent, "goodwill", actAt) },
			allowed: map[claim.Status]claim.Status{
				claim.StatusSellerCharged: claim.StatusSellerCharged,
				claim.StatusClosed:        claim.StatusClosed,
			},
			wantEvent: "chargeback_waived", wantActor: agent, wantNote: "goodwill", wantCode: "no_chargeback",
		},
	}
}

// TestStatusActionsRefused runs every action in every status it is not
// allowed in: it is refused with its code and the claim is unchanged
// (status, version, events, every field).
func TestStatusActionsRefused(t *testing.T) {
	t.Parallel()
	for _, a := range statusActions() {
		for _, give := range claim.Statuses {
			if _, ok := a.allowed[give]; ok {
				continue // TestStatusActionsAllowed
			}
			t.Run(a.name+"/"+give.String(), func(t *testing.T) {
				t.Parallel()
				c, twin := claimIn(t, give), claimIn(t, give)

				requireRefused(t, a.do(c), a.wantCode)

				require.Equal(t, twin, c, "a refused action changes nothing")
				require.Empty(t, c.PopEvents())
			})
		}
	}
}

// TestStatusActionsAllowed runs every action in every status it is
// allowed in: one event, one version.
func TestStatusActionsAllowed(t *testing.T) {
	t.Parallel()
	for _, a := range statusActions() {
		for from, to := range a.allowed {
			t.Run(a.name+"/"+from.String(), func(t *testing.T) {
				t.Parallel()
				c := claimIn(t, from)
				version := c.Version()

				require.NoError(t, a.do(c))

				require.Equal(t, to, c.Status())
				require.Equal(t, version+1, c.Version())
				require.Equal(t, actAt, c.UpdatedAt())
				events := c.PopEvents()
				require.Len(t, events, 1)
				events[0].Data = nil // checked by each action's own test
				require.Equal(t, claim.Event{Type: a.wantEvent, From: from, To: to, Actor: a.wantActor, Note: a.wantNote, At: actAt}, events[0])
			})
		}
	}
}

func TestOverrideApprove(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		give           func(t *testing.T) *claim.Claim
		giveRefundable int64
		wantFrom       claim.Status
	}{
		{name: "in review", give: func(t *testing.T) *claim.Claim { return claimIn(t, claim.StatusInReview) },
			giveRefundable: 5000, wantFrom: claim.StatusInReview},
		{name: "in review holds its amount already: refundable is not asked", giveRefundable: 0,
			give: func(t *testing.T) *claim.Claim { return claimIn(t, claim.StatusInReview) }, wantFrom: claim.StatusInReview},
		{name: "escalated review", give: func(t *testing.T) *claim.Claim { return escalatedIn(t, claim.StatusInReview) },
			giveRefundable: 5000, wantFrom: claim.StatusInReview},
		{name: "rejected by the engine, exactly refundable", give: func(t *testing.T) *claim.Claim { return claimIn(t, claim.StatusRejected) },
			giveRefundable: 5000, wantFrom: claim.StatusRejected},
		{name: "rejected by the engine, more than refundable", give: func(t *testing.T) *claim.Claim { return claimIn(t, claim.StatusRejected) },
			giveRefundable: 9000, wantFrom: claim.StatusRejected},
		{name: "rejected by an agent", give: func(t *testing.T) *claim.Claim { return rejectedByAgent(t, claim.RejectItemAuthentic) },
			giveRefundable: 5000, wantFrom: claim.StatusRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.give(t)
			version := c.Version()

			require.NoError(t, c.OverrideApprove(agent, "the seller admitted it", eur(tt.giveRefundable), actAt))

			require.Equal(t, claim.StatusApproved, c.Status())
			require.Equal(t, version+1, c.Version())
			require.Zero(t, c.Rejection(), "the shopper no longer reads a rejection")
			require.Zero(t, c.ReviewDeadline())
			require.Zero(t, c.EscalatedAt())
			requireOneEvent(t, c, claim.Event{
				Type: "override", From: tt.wantFrom, To: claim.StatusApproved, Actor: agent, Note: "the seller admitted it",
				Data: map[string]any{"action": "approve", "from": tt.wantFrom.String()}, At: actAt,
			})
		})
	}
}

func TestOverrideApproveNoLongerRefundable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		give           func(t *testing.T) *claim.Claim
		giveRefundable int64
	}{
		{name: "rejected by the engine, a cent short", give: func(t *testing.T) *claim.Claim { return claimIn(t, claim.StatusRejected) }, giveRefundable: 4999},
		{name: "rejected by an agent, nothing left", give: func(t *testing.T) *claim.Claim { return rejectedByAgent(t, claim.RejectDuplicate) }, giveRefundable: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, twin := tt.give(t), tt.give(t)

			re := requireRefused(t, c.OverrideApprove(agent, "changed my mind", eur(tt.giveRefundable), actAt), "amount_no_longer_refundable")

			require.Contains(t, re.Message, "50.00 EUR")
			require.Contains(t, re.Message, eur(tt.giveRefundable).String())
			require.Equal(t, twin, c, "a refused action changes nothing, the rejection included")
		})
	}
}

func TestOverrideReject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		give       func(t *testing.T) *claim.Claim
		giveReason claim.RejectionReason
		wantFrom   claim.Status
	}{
		{name: "in review", give: func(t *testing.T) *claim.Claim { return claimIn(t, claim.StatusInReview) },
			giveReason: claim.RejectInsufficientEvidence, wantFrom: claim.StatusInReview},
		{name: "escalated review", give: func(t *testing.T) *claim.Claim { return escalatedIn(t, claim.StatusInReview) },
			giveReason: claim.RejectItemAuthentic, wantFrom: claim.StatusInReview},
		{name: "failed refund", give: func(t *testing.T) *claim.Claim { return claimIn(t, claim.StatusRefundFailed) },
			giveReason: claim.RejectResolvedWithSeller, wantFrom: claim.StatusRefundFailed},
		{name: "escalated failed refund", give: func(t *testing.T) *claim.Claim { return escalatedIn(t, claim.StatusRefundFailed) },
			giveReason: claim.RejectOutsidePolicy, wantFrom: claim.StatusRefundFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.give(t)
			version := c.Version()

			require.NoError(t, c.OverrideReject(agent, tt.giveReason, "no proof", actAt))

			require.Equal(t, claim.StatusRejected, c.Status())
			require.Equal(t, version+1, c.Version())
			require.Equal(t, tt.giveReason, c.Rejection())
			require.Zero(t, c.ReviewDeadline())
			require.Zero(t, c.EscalatedAt())
			requireOneEvent(t, c, claim.Event{
				Type: "override", From: tt.wantFrom, To: claim.StatusRejected, Actor: agent, Note: "no proof",
				Data: map[string]any{"action": "reject", "reason_code": tt.giveReason.String()}, At: actAt,
			})
		})
	}
}

func TestRetryRefund(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		giveCode    claim.FailureCode
		giveRetries int // earlier retries that failed again with giveCode
		wantAttempt int
	}{
		{name: "definite refusal: a new request", giveCode: "card_declined", wantAttempt: 2},
		{name: "definite refusal, third attempt", giveCode: "card_declined", giveRetries: 1, wantAttempt: 3},
		{name: "outcome unknown: replay", giveCode: claim.FailureOutcomeUnknown, wantAttempt: 1},
		{name: "outcome unknown after a new request: replay it", giveCode: claim.FailureOutcomeUnknown, giveRetries: 1, wantAttempt: 1},
		{name: "retries exhausted: replay", giveCode: claim.FailureRetriesExhausted, wantAttempt: 1},
		{name: "provider not configured: replay", giveCode: claim.FailureProviderNotConfigured, wantAttempt: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := claimFailedWith(t, claim.StatusRefundFailed, tt.giveCode)
			at := actAt
			for range tt.giveRetries {
				require.NoError(t, c.RetryRefund(agent, "try again", at))
				at = at.Add(time.Minute)
				require.NoError(t, c.FailRefund(claim.Failure{Code: tt.giveCode, Reason: "again"}, at.Add(24*time.Hour), at))
			}
			c.PopEvents()
			version := c.Version()

			require.NoError(t, c.RetryRefund(agent, "new card on file", at))

			require.Equal(t, claim.StatusApproved, c.Status())
			require.Equal(t, version+1, c.Version())
			require.Equal(t, tt.wantAttempt, c.RefundAttempt())
			require.Zero(t, c.Refund())
			require.Zero(t, c.Failure())
			require.Zero(t, c.ReviewDeadline())
			require.Zero(t, c.EscalatedAt())
			requireOneEvent(t, c, claim.Event{
				Type: "override", From: claim.StatusRefundFailed, To: claim.StatusApproved, Actor: agent, Note: "new card on file",
				Data: map[string]any{"action": "retry_refund", "refund_attempt": tt.wantAttempt, "failure_code": tt.giveCode.String()}, At: at,
			})
		})
	}
}

// TestRetryRefundAfterBounce: a refund that bounced after it was made is
// retried as a new request, and the bounced refund is forgotten.
func TestRetryRefundAfterBounce(t *testing.T) {
	t.Parallel()
	c := claimIn(t, claim.StatusClosed)
	require.NoError(t, c.FailRefund(claim.Failure{Code: "refund_bounced", Reason: "The bank returned it."}, actAt.Add(24*time.Hour), actAt))
	require.Equal(t, "re_1", c.Refund().ID, "the bounced refund is kept while the claim waits")

	require.NoError(t, c.RetryRefund(agent, "new account", actAt.Add(time.Hour)))

	require.Equal(t, claim.StatusApproved, c.Status())
	require.Equal(t, 2, c.RefundAttempt())
	require.Zero(t, c.Refund())
	require.Zero(t, c.Failure())
}

func TestRetryRefundAmountMismatchRefused(t *testing.T) {
	t.Parallel()
	c := claimFailedWith(t, claim.StatusRefundFailed, claim.FailureAmountMismatch)
	twin := claimFailedWith(t, claim.StatusRefundFailed, claim.FailureAmountMismatch)

	requireRefused(t, c.RetryRefund(agent, "try again", actAt), "refund_amount_mismatch")

	require.Equal(t, twin, c)
	require.Equal(t, 1, c.RefundAttempt())
}

func TestEscalate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		give     claim.Status
		giveAt   time.Time
		wantData string
	}{
		{name: "in review, at the deadline", give: claim.StatusInReview, giveAt: reviewBy},
		{name: "in review, a day late", give: claim.StatusInReview, giveAt: reviewBy.Add(24 * time.Hour)},
		{name: "failed refund, at the deadline", give: claim.StatusRefundFailed, giveAt: reviewBy},
		{name: "clock outside UTC", give: claim.StatusInReview, giveAt: reviewBy.In(time.FixedZone("CET", 3600))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := claimIn(t, tt.give)
			version := c.Version()
			require.True(t, c.ReviewDue(tt.giveAt))

			require.True(t, c.Escalate(tt.giveAt))

			require.Equal(t, tt.give, c.Status())
			require.Equal(t, version+1, c.Version())
			require.True(t, c.EscalatedAt().Equal(tt.giveAt))
			require.Equal(t, reviewBy, c.ReviewDeadline(), "the deadline stays: the queue shows it overdue")
			require.True(t, c.ReviewDue(tt.giveAt), "still due: escalation is not a decision")
			requireOneEvent(t, c, claim.Event{
				Type: "escalated", From: tt.give, To: tt.give, Actor: claim.SystemActor,
				Note: "The review deadline passed without a decision.",
				Data: map[string]any{"deadline": "2026-11-28T13:00:00Z"}, At: tt.giveAt,
			})

			require.False(t, c.Escalate(tt.giveAt.Add(time.Hour)), "once")
			require.Equal(t, version+1, c.Version())
			require.Empty(t, c.PopEvents())
		})
	}
}

// rehydrated is a claim as the store reads it, in status with a review
// deadline whether or not the status waits for a person.
func rehydrated(status claim.Status, deadline time.Time) *claim.Claim {
	return claim.Rehydrate(claim.RehydrateParams{
		ID: "clm_1", OrderID: "ord_1", ShopperID: "shp_1", SellerID: "sel_1", Reason: claim.ReasonDamaged,
		Amount: eur(5000), Description: "broken", Status: status, Version: 3,
		CreatedAt: now, UpdatedAt: decidedAt, ReviewDeadline: deadline,
	})
}

func TestEscalateRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		give   func(t *testing.T) *claim.Claim
		giveAt time.Time
	}{
		{name: "in review, a nanosecond early", giveAt: reviewBy.Add(-time.Nanosecond),
			give: func(t *testing.T) *claim.Claim { return claimIn(t, claim.StatusInReview) }},
		{name: "failed refund, an hour early", giveAt: reviewBy.Add(-time.Hour),
			give: func(t *testing.T) *claim.Claim { return claimIn(t, claim.StatusRefundFailed) }},
		{name: "escalated already", giveAt: reviewBy.Add(time.Hour),
			give: func(t *testing.T) *claim.Claim { return escalatedIn(t, claim.StatusInReview) }},
		{name: "in review without a deadline", giveAt: reviewBy,
			give: func(*testing.T) *claim.Claim { return rehydrated(claim.StatusInReview, time.Time{}) }},
		{name: "approved with a stale deadline", giveAt: reviewBy,
			give: func(*testing.T) *claim.Claim { return rehydrated(claim.StatusApproved, reviewBy) }},
		{name: "rejected with a stale deadline", giveAt: reviewBy,
			give: func(*testing.T) *claim.Claim { return rehydrated(claim.StatusRejected, reviewBy) }},
		{name: "approved", giveAt: reviewBy, give: func(t *testing.T) *claim.Claim { return claimIn(t, claim.StatusApproved) }},
		{name: "closed", giveAt: reviewBy, give: func(t *testing.T) *claim.Claim { return claimIn(t, claim.StatusClosed) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, twin := tt.give(t), tt.give(t)

			require.False(t, c.Escalate(tt.giveAt))

			require.Equal(t, twin, c)
		})
	}
}

func TestReviewDue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		give   *claim.Claim
		giveAt time.Time
		want   bool
	}{
		{name: "in review, before", give: rehydrated(claim.StatusInReview, reviewBy), giveAt: reviewBy.Add(-time.Nanosecond), want: false},
		{name: "in review, at", give: rehydrated(claim.StatusInReview, reviewBy), giveAt: reviewBy, want: true},
		{name: "in review, after", give: rehydrated(claim.StatusInReview, reviewBy), giveAt: reviewBy.Add(time.Hour), want: true},
		{name: "failed refund, after", give: rehydrated(claim.StatusRefundFailed, reviewBy), giveAt: reviewBy.Add(time.Hour), want: true},
		{name: "in review, no deadline", give: rehydrated(claim.StatusInReview, time.Time{}), giveAt: reviewBy, want: false},
		{name: "submitted", give: rehydrated(claim.StatusSubmitted, reviewBy), giveAt: reviewBy, want: false},
		{name: "approved", give: rehydrated(claim.StatusApproved, reviewBy), giveAt: reviewBy, want: false},
		{name: "rejected", give: rehydrated(claim.StatusRejected, reviewBy), giveAt: reviewBy, want: false},
		{name: "refunded", give: rehydrated(claim.StatusRefunded, reviewBy), giveAt: reviewBy, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.give.ReviewDue(tt.giveAt))
		})
	}
}

// TestLeavingWaitClearsDeadline: every way out of in_review and
// refund_failed forgets the deadline and the escalation, so the next wait
// gets its own deadline and can be escalated again.
func TestLeavingWaitClearsDeadline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give claim.Status
		move func(c *claim.Claim) error
		want claim.Status
	}{
		{name: "review approved by the engine", give: claim.StatusInReview, want: claim.StatusApproved,
			move: func(c *claim.Claim) error { return c.Approve(claim.SystemActor, "", nil, actAt) }},
		{name: "review rejected by the engine", give: claim.StatusInReview, want: claim.StatusRejected,
			move: func(c *claim.Claim) error { return c.Reject(claim.SystemActor, "", nil, actAt) }},
		{name: "review approved by an agent", give: claim.StatusInReview, want: claim.StatusApproved,
			move: func(c *claim.Claim) error { return c.OverrideApprove(agent, "ok", eur(5000), actAt) }},
		{name: "review rejected by an agent", give: claim.StatusInReview, want: claim.StatusRejected,
			move: func(c *claim.Claim) error { return c.OverrideReject(agent, claim.RejectDuplicate, "dup", actAt) }},
		{name: "failed refund retried", give: claim.StatusRefundFailed, want: claim.StatusApproved,
			move: func(c *claim.Claim) error { return c.RetryRefund(agent, "again", actAt) }},
		{name: "failed refund given up", give: claim.StatusRefundFailed, want: claim.StatusRejected,
			move: func(c *claim.Claim) error { return c.OverrideReject(agent, claim.RejectOutsidePolicy, "late", actAt) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := escalatedIn(t, tt.give)
			require.NotZero(t, c.ReviewDeadline())
			require.NotZero(t, c.EscalatedAt())

			require.NoError(t, tt.move(c))

			require.Equal(t, tt.want, c.Status())
			require.Zero(t, c.ReviewDeadline())
			require.Zero(t, c.EscalatedAt())
			require.False(t, c.ReviewDue(actAt.Add(1000*time.Hour)))
		})
	}
}

// TestEscalatedOncePerWait: a refund that fails again after a retry waits
// anew, with the new deadline, and is escalated again when it passes.
func TestEscalatedOncePerWait(t *testing.T) {
	t.Parallel()
	c := escalatedIn(t, claim.StatusRefundFailed)
	require.NoError(t, c.RetryRefund(agent, "again", actAt))
	again := actAt.Add(time.Minute)
	deadline := again.Add(48 * time.Hour)

	require.NoError(t, c.FailRefund(claim.Failure{Code: "card_declined", Reason: "no"}, deadline, again))

	require.Equal(t, deadline, c.ReviewDeadline())
	require.Zero(t, c.EscalatedAt())
	require.False(t, c.Escalate(deadline.Add(-time.Second)))
	require.True(t, c.Escalate(deadline))
}

func TestWaitsSetDeadline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give claim.Status
		move func(c *claim.Claim, deadline time.Time) error
		want claim.Status
	}{
		{name: "sent to review", give: claim.StatusSubmitted, want: claim.StatusInReview,
			move: func(c *claim.Claim, d time.Time) error { return c.SendToReview(claim.SystemActor, "", nil, d, actAt) }},
		{name: "refund failed", give: claim.StatusApproved, want: claim.StatusRefundFailed,
			move: func(c *claim.Claim, d time.Time) error {
				return c.FailRefund(claim.Failure{Code: "card_declined", Reason: "no"}, d, actAt)
			}},
		{name: "refund bounced", give: claim.StatusClosed, want: claim.StatusRefundFailed,
			move: func(c *claim.Claim, d time.Time) error {
				return c.FailRefund(claim.Failure{Code: "refund_bounced", Reason: "no"}, d, actAt)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := claimIn(t, tt.give)
			deadline := actAt.Add(36 * time.Hour)

			require.NoError(t, tt.move(c, deadline))

			require.Equal(t, tt.want, c.Status())
			require.Equal(t, deadline, c.ReviewDeadline())
			require.Zero(t, c.EscalatedAt())
		})
	}
}

// TestRefusedTransitionKeepsDeadline: a move the state machine refuses
// leaves the deadline and the claim as they were.
func TestRefusedTransitionKeepsDeadline(t *testing.T) {
	t.Parallel()
	c, twin := escalatedIn(t, claim.StatusInReview), escalatedIn(t, claim.StatusInReview)

	err := c.SendToReview(claim.SystemActor, "", nil, actAt.Add(time.Hour), actAt)

	var te *claim.TransitionError
	require.ErrorAs(t, err, &te)
	require.Equal(t, twin, c)
}

func TestRejectionReasons(t *testing.T) {
	t.Parallel()
	codes := make([]string, len(claim.RejectionReasons))
	for i, r := range claim.RejectionReasons {
		codes[i] = r.String()
	}
	require.Equal(t, []string{
		"insufficient_evidence", "item_authentic", "damage_not_shown", "delivery_confirmed",
		"outside_policy", "duplicate", "resolved_with_seller",
	}, codes)
	helps := map[string]bool{}
	for _, r := range claim.RejectionReasons {
		t.Run(r.String(), func(t *testing.T) {
			t.Parallel()
			got, err := claim.ParseRejectionReason(r.String())
			require.NoError(t, err)
			require.Equal(t, r, got)
			require.NotEmpty(t, r.Text())
			require.True(t, strings.HasSuffix(r.Text(), "."), "a sentence: %q", r.Text())
			require.NotEmpty(t, r.Helps())
		})
		require.False(t, helps[r.Helps()], "each reason says what helps in its own words: %s", r)
		helps[r.Helps()] = true
	}
	require.Empty(t, claim.RejectionReason{}.String())
}

func TestParseRejectionReasonRefuses(t *testing.T) {
	t.Parallel()
	for _, give := range []string{"", "nope", "Duplicate", " duplicate", "insufficient evidence"} {
		t.Run(give, func(t *testing.T) {
			t.Parallel()
			got, err := claim.ParseRejectionReason(give)
			require.Error(t, err)
			require.Zero(t, got)
		})
	}
}

func TestCheckNoteAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give string
	}{
		{name: "short", give: "ok"},
		{name: "longest", give: strings.Repeat("a", claim.MaxNote)},
		{name: "multi-byte at the limit", give: strings.Repeat("é", claim.MaxNote/2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, claim.CheckNote(tt.give))
		})
	}
}

func TestCheckNoteRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		give     string
		wantCode string
	}{
		{name: "empty", give: "", wantCode: "required"},
		{name: "too long", give: strings.Repeat("a", claim.MaxNote+1), wantCode: "too_long"},
		{name: "multi-byte past the limit", give: strings.Repeat("é", claim.MaxNote/2) + "a", wantCode: "too_long"},
		{name: "NUL", give: "a\x00b", wantCode: "invalid_text"},
		{name: "not UTF-8", give: "a\xffb", wantCode: "invalid_text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ve *validation.Error
			require.ErrorAs(t, claim.CheckNote(tt.give), &ve)
			require.Equal(t, "note", ve.Field)
			require.Equal(t, tt.wantCode, ve.Code)
		})
	}
}

func TestChargeSellerOpensChargeback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		giveRecovery  string
		giveContestBy time.Time
	}{
		{name: "on the seller's balance", giveContestBy: contestBy},
		{name: "reversed with the refund", giveRecovery: "reversed_with_refund", giveContestBy: contestBy},
		{name: "window given outside UTC", giveContestBy: contestBy.In(time.FixedZone("CET", 3600))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := claimIn(t, claim.StatusRefunded)
			require.Equal(t, claim.ChargebackNone, c.Chargeback().Status)

			require.NoError(t, c.ChargeSeller(chargedAt, tt.giveRecovery, "", tt.giveContestBy))

			require.Equal(t, claim.Chargeback{Status: claim.ChargebackOpen, ChargedAt: chargedAt, ContestBy: tt.giveContestBy, Recovery: tt.giveRecovery}, c.Chargeback())
			events := c.PopEvents()
			require.Len(t, events, 1)
			require.Equal(t, "2026-11-30T15:00:00Z", events[0].Data["contest_by"])
		})
	}
}

func TestChargeSellerRefusedLeavesNoChargeback(t *testing.T) {
	t.Parallel()
	c, twin := claimIn(t, claim.StatusApproved), claimIn(t, claim.StatusApproved)

	err := c.ChargeSeller(chargedAt, "", "", contestBy)

	var te *claim.TransitionError
	require.ErrorAs(t, err, &te)
	require.Equal(t, twin, c)
	require.Equal(t, claim.ChargebackNone, c.Chargeback().Status)
}

// TestOverrideRejectNeedsAReason: a rejection the shopper would get no
// reason for is refused, and changes nothing.
func TestOverrideRejectNeedsAReason(t *testing.T) {
	t.Parallel()
	c := claimIn(t, claim.StatusInReview)
	version := c.Version()
	err := c.OverrideReject(claim.Actor{Kind: "agent", ID: "ana"}, claim.RejectionReason{}, "no reason", time.Now())
	var ve *validation.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "reason_code", ve.Field)
	require.Equal(t, claim.StatusInReview, c.Status())
	require.Equal(t, version, c.Version())
}
