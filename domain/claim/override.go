package claim

import (
	"fmt"
	"time"

	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
)

// RefusedError reports an action that makes no sense for the claim as it
// stands, with a stable code that says why (e.g. "cannot_approve").
type RefusedError struct {
	Code    string
	Message string
}

func (e *RefusedError) Error() string { return e.Code + ": " + e.Message }

func refused(code, format string, args ...any) *RefusedError {
	return &RefusedError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// MaxNote is the longest note an agent may write on an action.
const MaxNote = 2000

// CheckNote validates an agent's note: required, plain text.
func CheckNote(note string) error {
	if err := validation.CheckText("note", note, 1, MaxNote); err != nil {
		return err
	}
	return nil
}

// OverrideApprove grants the claim on an agent's word: from in_review, or
// from rejected when the order can still refund the claim's amount
// (refundable: what was paid less what other live claims hold). The refund
// follows. Errors: *RefusedError.
func (c *Claim) OverrideApprove(agent Actor, note string, refundable money.Money, now time.Time) error {
	switch c.status {
	case StatusInReview:
	case StatusRejected:
		if c.amount.Amount() > refundable.Amount() {
			return refused("amount_no_longer_refundable",
				"the claim is for %s but only %s of its order can still be refunded", c.amount, refundable)
		}
	default:
		return refused("cannot_approve", "the claim is %s; only a claim in review or rejected can be approved", c.status)
	}
	from := c.status
	c.rejection = RejectionReason{}
	return c.moveTo(StatusApproved, "override", agent, note, map[string]any{"action": "approve", "from": from.String()}, now)
}

// OverrideReject rejects the claim on an agent's word, for a reason the
// shopper is shown: from in_review, or from refund_failed when the agent
// gives up on the refund. Errors: *validation.Error without a reason,
// *RefusedError.
func (c *Claim) OverrideReject(agent Actor, reason RejectionReason, note string, now time.Time) error {
	if reason == (RejectionReason{}) {
		return validation.New("reason_code", "required", "is required to reject: the shopper is shown it")
	}
	if c.status != StatusInReview && c.status != StatusRefundFailed {
		return refused("cannot_reject", "the claim is %s; only a claim in review or with a failed refund can be rejected", c.status)
	}
	if err := c.moveTo(StatusRejected, "override", agent, note, map[string]any{"action": "reject", "reason_code": reason.slug}, now); err != nil {
		return err
	}
	c.rejection = reason
	return nil
}

// RetryRefund sends a claim whose refund failed back to the refund step.
// The failure's code decides the request (FailureCode.Retry): after a
// definite refusal the retry is a new request (RefundAttempt grows); after
// an unknown outcome it replays the first. Errors: *RefusedError, also when
// the provider refunded another amount than the claim's, which a retry
// cannot mend.
func (c *Claim) RetryRefund(agent Actor, note string, now time.Time) error {
	if c.status != StatusRefundFailed {
		return refused("no_failed_refund", "the claim is %s; only a failed refund can be retried", c.status)
	}
	attempt := c.refundAttempt
	switch c.failure.Code.Retry() {
	case RetryRefused:
		return refused(string(c.failure.Code), "the provider refunded another amount than the claim's; settle it with the provider, then reject or close the claim")
	case RetryNewAttempt:
		attempt++
	case RetrySameKey:
	}
	if err := c.moveTo(StatusApproved, "override", agent, note,
		map[string]any{"action": "retry_refund", "refund_attempt": attempt, "failure_code": c.failure.Code.String()}, now); err != nil {
		return err
	}
	c.refundAttempt = attempt
	c.refund, c.failure = RefundRef{}, Failure{}
	return nil
}

// Escalate marks a claim that waits for a person past its deadline; it
// reports whether it did (not before the deadline, and once).
func (c *Claim) Escalate(now time.Time) bool {
	if !c.ReviewDue(now) || !c.escalatedAt.IsZero() {
		return false
	}
	c.escalatedAt = now
	c.record("escalated", SystemActor, "The review deadline passed without a decision.",
		map[string]any{"deadline": c.reviewDeadline.UTC().Format(time.RFC3339)}, now)
	return true
}

// ReviewDue reports whether the claim waits for a person and its deadline
// has passed.
func (c *Claim) ReviewDue(now time.Time) bool {
	return c.status.WaitsForPerson() && !c.reviewDeadline.IsZero() && !now.Before(c.reviewDeadline)
}

// RejectionReason is why an agent rejects a claim, with the sentence the
// shopper reads, what evidence would change the outcome, and the sentence
// the seller reads. Only the package's variables and ParseRejectionReason
// produce one.
type RejectionReason struct{ slug, text, helps, seller string }

// The reasons an agent may reject a claim for.
var (
	RejectInsufficientEvidence = RejectionReason{"insufficient_evidence",
		"We could not confirm the problem from the evidence you sent.",
		"Clear photos of the item, its labels and its packaging, or an independent report, would let us look again.",
		"The shopper's evidence did not confirm the problem."}
	RejectItemAuthentic = RejectionReason{"item_authentic",
		"Our review found the item to be genuine.",
		"An authenticity report from the brand or an accredited authenticator that says otherwise would let us look again.",
		"The review found the item to be genuine."}
	RejectDamageNotShown = RejectionReason{"damage_not_shown",
		"The photos do not show the damage or the difference described.",
		"Photos that show the damage, or how the item differs from its listing, together with the packaging it came in, would let us look again.",
		"The shopper's photos did not show the damage or the difference described."}
	RejectDeliveryConfirmed = RejectionReason{"delivery_confirmed",
		"The carrier confirmed delivery to your address.",
		"A statement from the carrier that the parcel was lost, or a police report for a stolen parcel, would let us look again.",
		"The carrier confirmed delivery to the shopper."}
	RejectOutsidePolicy = RejectionReason{"outside_policy",
		"The claim falls outside the marketplace's refund policy.",
		"Proof that you reported the problem in time, such as earlier messages to the seller, would let us look again.",
		"The claim falls outside the marketplace's refund policy."}
	RejectDuplicate = RejectionReason{"duplicate",
		"Another claim already covers these items.",
		"Follow the other claim; if it does not cover what went wrong, file a new claim for the items it leaves out.",
		"Another claim already covers these items."}
	RejectResolvedWithSeller = RejectionReason{"resolved_with_seller",
		"The seller already resolved this with you (a replacement or a refund).",
		"If the replacement or the seller's refund never arrived, tell us with the seller's messages and we will look again.",
		"You had already resolved this with the shopper."}
)

// RejectionReasons lists every reason an agent may reject for.
var RejectionReasons = []RejectionReason{
	RejectInsufficientEvidence, RejectItemAuthentic, RejectDamageNotShown, RejectDeliveryConfirmed,
	RejectOutsidePolicy, RejectDuplicate, RejectResolvedWithSeller,
}

// ParseRejectionReason returns the reason for its code; "" and unknown
// codes are errors.
func ParseRejectionReason(code string) (RejectionReason, error) {
	for _, r := range RejectionReasons {
		if r.slug == code {
			return r, nil
		}
	}
	return RejectionReason{}, fmt.Errorf("unknown rejection reason %q", code)
}

// String returns the reason's code; "" for none.
func (r RejectionReason) String() string { return r.slug }

// Text is the sentence the shopper reads.
func (r RejectionReason) Text() string { return r.text }

// Helps says what evidence would change the outcome.
func (r RejectionReason) Helps() string { return r.helps }

// SellerText is the sentence the seller reads: the same finding, without
// addressing the shopper.
func (r RejectionReason) SellerText() string { return r.seller }
