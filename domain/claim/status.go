package claim

import (
	"errors"
	"fmt"
)

// Status is where a claim stands in its journey. Only the package's
// variables and ParseStatus produce one, so it never holds an unknown value.
type Status struct{ slug string }

// The statuses of a claim; see DESIGN §2 for the journey.
var (
	StatusSubmitted     = Status{"submitted"}
	StatusInReview      = Status{"in_review"}
	StatusApproved      = Status{"approved"}
	StatusRejected      = Status{"rejected"}
	StatusRefundPending = Status{"refund_pending"}
	StatusRefunded      = Status{"refunded"}
	StatusRefundFailed  = Status{"refund_failed"}
	StatusSellerCharged = Status{"seller_charged"}
	StatusClosed        = Status{"closed"}
)

// Statuses lists every status in journey order.
var Statuses = []Status{
	StatusSubmitted, StatusInReview, StatusApproved, StatusRejected,
	StatusRefundPending, StatusRefunded, StatusRefundFailed,
	StatusSellerCharged, StatusClosed,
}

// transitions is the whole state machine: from → the statuses it may move to.
var transitions = map[Status][]Status{
	StatusSubmitted:     {StatusApproved, StatusInReview, StatusRejected},
	StatusInReview:      {StatusApproved, StatusRejected},
	StatusRejected:      {StatusApproved},                                          // an agent overturns a rejection
	StatusApproved:      {StatusRefundPending, StatusRefunded, StatusRefundFailed}, // the refund step
	StatusRefundPending: {StatusRefunded, StatusRefundFailed},
	StatusRefundFailed:  {StatusApproved, StatusRejected}, // an agent retries or gives up
	// A refund the provider reported done can still fail later (a card
	// refund bounces): the claim then goes back to waiting for an agent.
	StatusRefunded:      {StatusSellerCharged, StatusRefundFailed},
	StatusSellerCharged: {StatusClosed, StatusRefundFailed},
	StatusClosed:        {StatusRefundFailed},
}

// ErrUnknownStatus is returned by ParseStatus for a slug it does not know.
var ErrUnknownStatus = errors.New("unknown claim status")

// ParseStatus returns the Status for its slug, e.g. "in_review".
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses {
		if st.slug == s {
			return st, nil
		}
	}
	return Status{}, fmt.Errorf("%w: %q", ErrUnknownStatus, s)
}

// String returns the status's slug.
func (s Status) String() string { return s.slug }

// CanMoveTo reports whether the state machine allows s → to.
func (s Status) CanMoveTo(to Status) bool {
	for _, t := range transitions[s] {
		if t == to {
			return true
		}
	}
	return false
}

// IsTerminal reports whether the claim's journey is over: nothing but a
// provider's late word (a refund that bounced) moves it again.
func (s Status) IsTerminal() bool { return s == StatusClosed }

// WaitsForPerson reports whether a claim in status s waits for an agent:
// in review, or with a refund that failed.
func (s Status) WaitsForPerson() bool { return s == StatusInReview || s == StatusRefundFailed }

// MoneyBack reports whether a claim in status s has its refund made and
// standing: refunded, charged on to the seller, or closed. A refund that
// failed afterwards (refund_failed) is no longer money back, even though
// the claim still records it.
func (s Status) MoneyBack() bool {
	return s == StatusRefunded || s == StatusSellerCharged || s == StatusClosed
}

// HoldsAmount reports whether a claim in status s still counts against what
// can be claimed on its order: every claim except a rejected one does.
func (s Status) HoldsAmount() bool { return s != StatusRejected }

// TransitionError reports a move the state machine does not allow.
type TransitionError struct {
	From, To Status
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("claim cannot move from %s to %s", e.From, e.To)
}

// Reason is why the shopper claims. Only the package's variables and
// ParseReason produce one.
type Reason struct{ slug string }

// The reasons a shopper may give.
var (
	ReasonCounterfeit    = Reason{"counterfeit"}
	ReasonNotAsDescribed = Reason{"not_as_described"}
	ReasonDamaged        = Reason{"damaged"}
	ReasonNotReceived    = Reason{"not_received"}
)

// Reasons lists every reason.
var Reasons = []Reason{ReasonCounterfeit, ReasonNotAsDescribed, ReasonDamaged, ReasonNotReceived}

// ErrUnknownReason is returned by ParseReason for a slug it does not know.
var ErrUnknownReason = errors.New("unknown claim reason")

// ParseReason returns the Reason for its slug, e.g. "counterfeit".
func ParseReason(s string) (Reason, error) {
	for _, r := range Reasons {
		if r.slug == s {
			return r, nil
		}
	}
	return Reason{}, fmt.Errorf("%w: %q", ErrUnknownReason, s)
}

// String returns the reason's slug.
func (r Reason) String() string { return r.slug }
