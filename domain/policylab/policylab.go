// Package policylab holds what the policy lab reasons about, as plain Go:
// the life of a policy version (draft, shadow, active, retired), the replay
// of recorded decisions under a candidate policy and the report that
// tallies it, and the diff between two policy documents.
//
// A replay is exact: each claim's decision was recorded with the facts it
// weighed and the moment it was made, and decision.Decide is a pure
// function of the policy, those facts and that moment. Replaying the policy
// that decided a claim therefore gives the outcome it got, and a candidate
// is judged on the same inputs, never on today's data.
//
//	r := policylab.NewReport()
//	for _, c := range cases {
//		r.Add(c, decision.Decide(candidate, c.Facts, c.DecidedAt))
//	}
//	r.Changed // claims whose outcome the candidate changes
package policylab

import (
	"errors"
	"fmt"
)

// Status is where a policy version stands. Only the package's variables
// and ParseStatus produce one.
type Status struct{ slug string }

// The statuses. Exactly one version is active at a time (it decides new
// claims); at most one is in shadow (it decides every new claim beside the
// active one, recorded, never acted on). A draft has never been either; a
// retired version was and may be again.
var (
	StatusDraft   = Status{"draft"}
	StatusShadow  = Status{"shadow"}
	StatusActive  = Status{"active"}
	StatusRetired = Status{"retired"}
)

// Statuses lists every status.
var Statuses = []Status{StatusDraft, StatusShadow, StatusActive, StatusRetired}

// ErrUnknownStatus is returned by ParseStatus for a slug it does not know.
var ErrUnknownStatus = errors.New("unknown policy status")

// ParseStatus returns the status for its slug, e.g. "shadow".
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

// BacktestStatus is where a backtest run stands.
type BacktestStatus struct{ slug string }

// The backtest statuses: queued, then running, then completed or failed.
var (
	BacktestQueued    = BacktestStatus{"queued"}
	BacktestRunning   = BacktestStatus{"running"}
	BacktestCompleted = BacktestStatus{"completed"}
	BacktestFailed    = BacktestStatus{"failed"}
)

var backtestStatuses = []BacktestStatus{BacktestQueued, BacktestRunning, BacktestCompleted, BacktestFailed}

// ParseBacktestStatus returns the status for its slug.
func ParseBacktestStatus(s string) (BacktestStatus, error) {
	for _, st := range backtestStatuses {
		if st.slug == s {
			return st, nil
		}
	}
	return BacktestStatus{}, fmt.Errorf("unknown backtest status %q", s)
}

// String returns the status's slug.
func (s BacktestStatus) String() string { return s.slug }

// Done reports whether the run is over.
func (s BacktestStatus) Done() bool { return s == BacktestCompleted || s == BacktestFailed }
