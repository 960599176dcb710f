package decision

import (
	"fmt"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/validation"
)

// Defaults for the time-boxes a policy may leave out.
const (
	DefaultReviewSLA     = 24 * time.Hour
	DefaultContestWindow = 72 * time.Hour
	MinTimeBox           = time.Hour
	MaxReviewSLA         = 30 * 24 * time.Hour
	MaxContestWindow     = 90 * 24 * time.Hour
)

// Expiry is what happens to a claim still waiting for a person when its
// review deadline passes. Only the package's variables and ParseExpiry
// produce one.
type Expiry struct{ slug string }

// The expiry actions.
var (
	// ExpiryEscalate marks the claim escalated: a timeline event, and the
	// review queue shows it as overdue at the top.
	ExpiryEscalate = Expiry{"escalate"}
	// ExpiryApprove grants the claim, as marketplaces do when nobody
	// answers a claim in time; the refund follows at once.
	ExpiryApprove = Expiry{"approve"}
)

// ParseExpiry returns the Expiry for its slug.
func ParseExpiry(s string) (Expiry, error) {
	switch s {
	case ExpiryEscalate.slug:
		return ExpiryEscalate, nil
	case ExpiryApprove.slug:
		return ExpiryApprove, nil
	}
	return Expiry{}, fmt.Errorf("unknown expiry action %q", s)
}

// String returns the slug.
func (e Expiry) String() string { return e.slug }

// ReviewRule is how long a claim of one reason may wait for a person, and
// what happens when it has waited that long.
type ReviewRule struct {
	SLA      time.Duration
	OnExpiry Expiry
}

// ReviewRuleFor returns the review rule for a claim reason: the policy's,
// or 24 hours then escalation when it names none.
func (p Policy) ReviewRuleFor(r claim.Reason) ReviewRule {
	rule, ok := p.Review[r]
	if !ok || rule.SLA <= 0 {
		return ReviewRule{SLA: DefaultReviewSLA, OnExpiry: ExpiryEscalate}
	}
	if rule.OnExpiry == (Expiry{}) {
		rule.OnExpiry = ExpiryEscalate
	}
	return rule
}

// ContestWindowOrDefault is how long a charged seller may contest: the
// policy's ContestWindow, or 72 hours.
func (p Policy) ContestWindowOrDefault() time.Duration {
	if p.ContestWindow <= 0 {
		return DefaultContestWindow
	}
	return p.ContestWindow
}

// validateTimeBoxes checks the review rules and the contest window.
func (p Policy) validateTimeBoxes() []error {
	var errs []error
	for r, rule := range p.Review {
		field := "review." + r.String()
		if r == (claim.Reason{}) {
			errs = append(errs, validation.New("review", "unknown_reason", "has a rule for an empty claim reason"))
			continue
		}
		if rule.SLA < MinTimeBox || rule.SLA > MaxReviewSLA {
			errs = append(errs, validation.Newf(field+".sla_hours", "out_of_range", "must be between 1 and %d hours", int(MaxReviewSLA/time.Hour)))
		}
		if rule.OnExpiry == (Expiry{}) {
			errs = append(errs, validation.New(field+".on_expiry", "required", "must be escalate or approve"))
		}
	}
	if p.ContestWindow != 0 && (p.ContestWindow < MinTimeBox || p.ContestWindow > MaxContestWindow) {
		errs = append(errs, validation.Newf("contest_window_hours", "out_of_range", "must be between 1 and %d hours", int(MaxContestWindow/time.Hour)))
	}
	return errs
}
