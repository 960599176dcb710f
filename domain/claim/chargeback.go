package claim

import (
	"fmt"
	"time"

	"github.com/claimsd/claimsd/domain/validation"
)

// ChargebackStatus is where the charge of a claim to its seller stands.
// Only the package's variables and ParseChargebackStatus produce one.
type ChargebackStatus struct{ slug string }

// The chargeback statuses. A charge is open while its seller may contest
// it; it ends final (uncontested), upheld or reversed (contested and
// settled by an agent), waived (the platform absorbs the cost) or voided
// (the refund failed after all, so there is nothing to charge).
var (
	ChargebackNone      = ChargebackStatus{}
	ChargebackOpen      = ChargebackStatus{"open"}
	ChargebackContested = ChargebackStatus{"contested"}
	ChargebackUpheld    = ChargebackStatus{"upheld"}
	ChargebackFinal     = ChargebackStatus{"final"}
	ChargebackReversed  = ChargebackStatus{"reversed"}
	ChargebackWaived    = ChargebackStatus{"waived"}
	ChargebackVoided    = ChargebackStatus{"voided"}
)

var chargebackStatuses = []ChargebackStatus{
	ChargebackOpen, ChargebackContested, ChargebackUpheld, ChargebackFinal,
	ChargebackReversed, ChargebackWaived, ChargebackVoided,
}

// ParseChargebackStatus returns the status for its slug; "" is
// ChargebackNone.
func ParseChargebackStatus(s string) (ChargebackStatus, error) {
	if s == "" {
		return ChargebackNone, nil
	}
	for _, st := range chargebackStatuses {
		if st.slug == s {
			return st, nil
		}
	}
	return ChargebackStatus{}, fmt.Errorf("unknown chargeback status %q", s)
}

// String returns the slug ("" for none).
func (s ChargebackStatus) String() string { return s.slug }

// Charged reports whether the seller bears the cost in this status.
func (s ChargebackStatus) Charged() bool {
	return s == ChargebackOpen || s == ChargebackContested || s == ChargebackUpheld || s == ChargebackFinal
}

// Released reports whether the charge was taken off the seller (reversed
// on contest, or waived): the platform bears the cost.
func (s ChargebackStatus) Released() bool { return s == ChargebackReversed || s == ChargebackWaived }

// Contest is a seller's case against a chargeback.
type Contest struct {
	Statement string
	Evidence  []Evidence
	At        time.Time
}

// Chargeback is the charge of a refunded claim to its seller.
type Chargeback struct {
	Status    ChargebackStatus
	ChargedAt time.Time
	ContestBy time.Time // the seller may contest before this
	Recovery  string    // how the amount was taken back at once, if it was
	// Protected says the seller's standing was protected when charged:
	// the platform carries the cost until the charge is confirmed (final,
	// or upheld on contest); only then is it the seller's.
	Protected bool
	Contest   *Contest
	// The settlement of a contest or a waiver: who, when and why.
	ResolvedBy Actor
	ResolvedAt time.Time
	Note       string
}

// OnSeller reports whether the seller's receivable holds the charge: a
// charged status, and for a protected charge only once confirmed.
func (cb Chargeback) OnSeller() bool {
	if cb.Protected {
		return cb.Status == ChargebackFinal || cb.Status == ChargebackUpheld
	}
	return cb.Status.Charged()
}

// Advanced reports whether the platform carries the charge for a
// protected seller: open or contested, not yet confirmed.
func (cb Chargeback) Advanced() bool {
	return cb.Protected && (cb.Status == ChargebackOpen || cb.Status == ChargebackContested)
}

// MaxStatement is the longest statement a seller may contest with.
const MaxStatement = 4000

// Contest records the seller's case against the chargeback; an agent
// settles it with ResolveContest. Errors: *validation.Error for the
// statement or evidence, *RefusedError when there is no open charge or
// the window has closed.
func (c *Claim) Contest(seller Actor, statement string, evidence []Evidence, now time.Time) error {
	if err := validation.CheckText("statement", statement, 1, MaxStatement); err != nil {
		return err
	}
	if err := checkEvidence(evidence); err != nil {
		return err
	}
	cb := c.chargeback
	switch {
	case cb.Status == ChargebackOpen && !now.Before(cb.ContestBy):
		return refused("contest_window_closed", "the window to contest this charge closed at %s", cb.ContestBy.UTC().Format(time.RFC3339))
	case cb.Status == ChargebackOpen:
	case cb.Status == ChargebackContested:
		return refused("already_contested", "the charge is already contested; an agent will settle it")
	case cb.Status == ChargebackFinal:
		return refused("contest_window_closed", "the window to contest this charge closed at %s", cb.ContestBy.UTC().Format(time.RFC3339))
	case cb.Status == ChargebackUpheld || cb.Status.Released():
		return refused("chargeback_settled", "the charge was already settled (%s)", cb.Status)
	default:
		return refused("no_chargeback", "the seller has not been charged for this claim")
	}
	c.chargeback.Status = ChargebackContested
	c.chargeback.Contest = &Contest{Statement: statement, Evidence: append([]Evidence(nil), evidence...), At: now}
	c.record("chargeback_contested", seller, "", c.protectedData(map[string]any{"evidence": len(evidence)}), now)
	return nil
}

// ResolveContest settles a contested chargeback: uphold keeps the charge
// on the seller, otherwise it is reversed and the platform bears the cost.
// Errors: *RefusedError when no contest is open.
func (c *Claim) ResolveContest(agent Actor, uphold bool, note string, now time.Time) error {
	if c.chargeback.Status != ChargebackContested {
		return refused("no_open_contest", "there is no open contest on this claim (chargeback: %s)", c.chargebackSlug())
	}
	to := ChargebackReversed
	if uphold {
		to = ChargebackUpheld
	}
	c.settleChargeback(to, "contest_"+map[bool]string{true: "upheld", false: "reversed"}[uphold], agent, note, now)
	return nil
}

// WaiveChargeback takes the charge off the seller: the platform absorbs
// the cost. Errors: *RefusedError when the seller bears no charge.
func (c *Claim) WaiveChargeback(agent Actor, note string, now time.Time) error {
	if !c.chargeback.Status.Charged() {
		if c.chargeback.Status.Released() {
			return refused("chargeback_released", "the charge was already taken off the seller (%s)", c.chargeback.Status)
		}
		return refused("no_chargeback", "the seller bears no charge for this claim (chargeback: %s)", c.chargebackSlug())
	}
	c.settleChargeback(ChargebackWaived, "chargeback_waived", agent, note, now)
	return nil
}

// FinalizeChargeback makes an open charge final once its contest window
// has passed; it reports whether it did.
func (c *Claim) FinalizeChargeback(now time.Time) bool {
	if c.chargeback.Status != ChargebackOpen || now.Before(c.chargeback.ContestBy) {
		return false
	}
	c.chargeback.Status = ChargebackFinal
	note := "The seller did not contest within the window."
	if c.chargeback.Protected {
		note += " The protected charge is confirmed: it moves from the platform to the seller's balance."
	}
	c.record("chargeback_final", SystemActor, note,
		c.protectedData(map[string]any{"contest_by": c.chargeback.ContestBy.UTC().Format(time.RFC3339)}), now)
	return true
}

func (c *Claim) settleChargeback(to ChargebackStatus, eventType string, agent Actor, note string, now time.Time) {
	from := c.chargeback.Status
	c.chargeback.Status = to
	c.chargeback.ResolvedBy, c.chargeback.ResolvedAt, c.chargeback.Note = agent, now, note
	c.record(eventType, agent, note, c.protectedData(map[string]any{"chargeback_from": from.String(), "chargeback_to": to.String()}), now)
}

// protectedData marks an event's data as being about a protected charge.
func (c *Claim) protectedData(data map[string]any) map[string]any {
	if c.chargeback.Protected {
		data["protected"] = true
	}
	return data
}

func (c *Claim) chargebackSlug() string {
	if c.chargeback.Status == ChargebackNone {
		return "none"
	}
	return c.chargeback.Status.String()
}
