package claimflow

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
)

// DeadlineStep acts when a claim's time-box runs out: a review deadline
// passing (the claim is escalated, or granted where the policy says so)
// or a contest window closing (the charge becomes final). Its timers may
// fire late, early or more than once; it acts once, and only when the
// deadline it finds on the claim has passed by its own clock.
type DeadlineStep struct {
	Store StepStore
	// Policy says what happens when a review deadline passes: Policies'
	// active one when set (the rule in force when the deadline passes).
	Policy   decision.Policy
	Policies Policies
	Now      func() time.Time
	Log      *slog.Logger
}

// RunReview acts on claim id's review deadline. It returns how long to
// wait before looking again if the deadline is still ahead (zero
// otherwise).
func (s *DeadlineStep) RunReview(ctx context.Context, id string) (time.Duration, error) {
	var again time.Duration
	err := s.Store.UpdateClaim(ctx, id, func(c *claim.Claim) (Effects, error) {
		again = 0
		now := s.Now().UTC()
		if !c.Status().WaitsForPerson() || c.ReviewDeadline().IsZero() || !c.EscalatedAt().IsZero() {
			return Effects{}, ErrNothingToDo // decided, or escalated already
		}
		if !c.ReviewDue(now) {
			again = c.ReviewDeadline().Sub(now)
			return Effects{}, ErrNothingToDo
		}
		rule := activePolicy(s.Policy, s.Policies).ReviewRuleFor(c.Reason())
		if c.Status() == claim.StatusInReview && rule.OnExpiry == decision.ExpiryApprove {
			note := fmt.Sprintf("No agent decided within %s; the policy grants the claim.", hours(rule.SLA))
			if err := c.Approve(claim.SystemActor, note, map[string]any{"rule": "review_deadline", "deadline": c.ReviewDeadline().UTC().Format(time.RFC3339)}, now); err != nil {
				return Effects{}, err
			}
			return then(c), nil
		}
		c.Escalate(now)
		return then(c), nil
	})
	if err != nil {
		return 0, fmt.Errorf("review deadline of claim %s: %w", id, err)
	}
	return again, nil
}

// RunContest makes claim id's charge final if its contest window has
// closed with no contest; a protected charge moves from the platform's
// advance to the seller's receivable in the same transaction. It returns how long to wait before looking
// again if the window is still open (zero otherwise).
func (s *DeadlineStep) RunContest(ctx context.Context, id string) (time.Duration, error) {
	var again time.Duration
	err := s.Store.UpdateClaim(ctx, id, func(c *claim.Claim) (Effects, error) {
		again = 0
		cb := c.Chargeback()
		if cb.Status != claim.ChargebackOpen {
			return Effects{}, ErrNothingToDo // contested, settled, waived or voided
		}
		now := s.Now().UTC()
		if !c.FinalizeChargeback(now) {
			again = cb.ContestBy.Sub(now)
			return Effects{}, ErrNothingToDo
		}
		// A protected charge is confirmed now: the seller bears it.
		return confirmEffects(c, cb)
	})
	if err != nil {
		return 0, fmt.Errorf("contest window of claim %s: %w", id, err)
	}
	return again, nil
}

func hours(d time.Duration) string {
	if h := int(d / time.Hour); h != 1 {
		return fmt.Sprintf("%d hours", h)
	}
	return "1 hour"
}
