package claimflow

import (
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/ledger"
)

// Step names a durable step of the claim workflow; the job queue runs one
// job per step and claim.
type Step string

// The workflow's steps.
const (
	// StepRefund refunds an approved claim (RefundStep).
	StepRefund Step = "refund"
	// StepChargeSeller charges a refunded claim to its seller and closes
	// it (ChargeSellerStep).
	StepChargeSeller Step = "charge_seller"
	// StepReviewDeadline is the timer of a claim waiting for a person
	// (DeadlineStep.RunReview).
	StepReviewDeadline Step = "review_deadline"
	// StepContestDeadline is the timer of the end of a charge's contest
	// window (DeadlineStep.RunContest).
	StepContestDeadline Step = "contest_deadline"
)

// IsTimer reports whether the step runs at a set time, not at once.
func (s Step) IsTimer() bool { return s == StepReviewDeadline || s == StepContestDeadline }

// Timer is a step to run at a set time, not before.
type Timer struct {
	Step Step
	At   time.Time
}

// Next is what a claim waits for the engine to do: a step, and since when
// it is due.
type Next struct {
	Step Step
	// At is when the step became due: a timer's deadline, or for a step
	// that runs at once the claim's last change.
	At time.Time
}

// NextStep says what follows a claim as it stands. It is the one place
// that maps a claim's state to the work that follows; intake, the steps,
// agents' actions, the timers and the redrive all schedule through it.
// A claim's journey, read from here:
//
//	approved                             → refund (RefundStep)
//	refunded                             → charge_seller (ChargeSellerStep)
//	in_review, refund_failed, with a     → review_deadline at the deadline
//	  deadline and not yet escalated       (DeadlineStep.RunReview)
//	charged to its seller, charge open   → contest_deadline at the end of
//	                                       the window (DeadlineStep.RunContest)
//
// ok is false for a claim that waits for nothing the engine runs:
// rejected, its refund pending at the provider (the provider's word, or
// the sweep of pending refunds, settles it), escalated to a person, or
// done.
func NextStep(c *claim.Claim) (next Next, ok bool) {
	switch st := c.Status(); {
	case st == claim.StatusApproved:
		return Next{Step: StepRefund, At: c.UpdatedAt()}, true
	case st == claim.StatusRefunded:
		return Next{Step: StepChargeSeller, At: c.UpdatedAt()}, true
	case st.WaitsForPerson():
		if c.ReviewDeadline().IsZero() || !c.EscalatedAt().IsZero() {
			return Next{}, false
		}
		return Next{Step: StepReviewDeadline, At: c.ReviewDeadline()}, true
	case c.Chargeback().Status == claim.ChargebackOpen:
		return Next{Step: StepContestDeadline, At: c.Chargeback().ContestBy}, true
	}
	return Next{}, false
}

// Effects returns what schedules n: its step to run now, or its timer.
func (n Next) Effects() Effects {
	if n.Step.IsTimer() {
		return Effects{Timers: []Timer{{Step: n.Step, At: n.At}}}
	}
	return Effects{Next: []Step{n.Step}}
}

// then returns the effects of a change that leaves c as it stands: the
// ledger transactions txs, and whatever follows c (NextStep).
func then(c *claim.Claim, txs ...ledger.Transaction) Effects {
	var eff Effects
	if next, ok := NextStep(c); ok {
		eff = next.Effects()
	}
	if len(txs) > 0 {
		eff.Ledger = txs
	}
	return eff
}
