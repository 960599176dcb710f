// Package finance holds the rules finance signs off the money by: the
// period a report covers, what recovering a seller's debt posts to the
// ledger, how a seller statement adds up, and how the engine's claims,
// the payment provider's refunds and the ledger are matched against each
// other (Reconcile).
//
//	p, err := finance.NewPeriod(from, to) // [from, to)
//	items := finance.Reconcile(claims, providerRefunds, ledgerRefunds)
package finance

import (
	"fmt"
	"time"

	"github.com/claimsd/claimsd/domain/validation"
)

// RefusedError refuses a finance action that makes no sense as things
// stand, with a stable code that says why (e.g. "over_recovery").
type RefusedError struct {
	Code    string
	Message string
}

func (e *RefusedError) Error() string { return e.Code + ": " + e.Message }

func refused(code, format string, args ...any) *RefusedError {
	return &RefusedError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Period is a half-open span of time [From, To) in UTC.
type Period struct {
	From, To time.Time
}

// MaxReconcileSpan is the longest period one reconciliation run covers.
const MaxReconcileSpan = 31 * 24 * time.Hour

// NewPeriod returns [from, to). Errors: *validation.Error naming the
// bound that is unset (the zero time), or outside the span of time the
// engine takes (validation.CheckTime), or "to" when it is not after from.
func NewPeriod(from, to time.Time) (Period, error) {
	switch {
	case from.IsZero():
		return Period{}, validation.New("from", "required", "is required")
	case to.IsZero():
		return Period{}, validation.New("to", "required", "is required")
	}
	if err := validation.CheckTime("from", from); err != nil {
		return Period{}, err
	}
	if err := validation.CheckTime("to", to); err != nil {
		return Period{}, err
	}
	if !to.After(from) {
		return Period{}, validation.New("to", "invalid_period", "must be after from")
	}
	return Period{From: from.UTC(), To: to.UTC()}, nil
}

// Day returns the UTC calendar day that holds t.
func Day(t time.Time) Period {
	y, m, d := t.UTC().Date()
	from := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return Period{From: from, To: from.AddDate(0, 0, 1)}
}

// Contains reports whether t falls in the period.
func (p Period) Contains(t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

// String renders the period as "from/to" in RFC 3339.
func (p Period) String() string {
	return p.From.Format(time.RFC3339) + "/" + p.To.Format(time.RFC3339)
}
