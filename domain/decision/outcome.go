package decision

import (
	"errors"
	"fmt"
)

// Outcome is what the engine decided for a claim. Only the package's
// variables and ParseOutcome produce one, so it never holds an unknown value.
type Outcome struct{ slug string }

// The outcomes Decide returns.
var (
	// OutcomeInstantRefund: refund now, no person involved.
	OutcomeInstantRefund = Outcome{"instant_refund"}
	// OutcomeManualReview: a person decides.
	OutcomeManualReview = Outcome{"manual_review"}
	// OutcomeRejected: the claim cannot be accepted; the reasons say why.
	OutcomeRejected = Outcome{"rejected"}
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{OutcomeInstantRefund, OutcomeManualReview, OutcomeRejected}

// ErrUnknownOutcome is returned by ParseOutcome for a slug it does not know.
var ErrUnknownOutcome = errors.New("unknown decision outcome")

// ParseOutcome returns the Outcome for its slug, e.g. "manual_review".
func ParseOutcome(s string) (Outcome, error) {
	for _, o := range Outcomes {
		if o.slug == s {
			return o, nil
		}
	}
	return Outcome{}, fmt.Errorf("%w: %q", ErrUnknownOutcome, s)
}

// String returns the outcome's slug, or "" for the zero Outcome.
func (o Outcome) String() string { return o.slug }
