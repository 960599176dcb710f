package claimflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/domain/standing"
)

// Effects are what a claim update writes besides the claim and its events,
// all in the same transaction: ledger transactions (each written once per
// key), the steps to run next and the timers to set.
type Effects struct {
	Ledger []ledger.Transaction
	Next   []Step
	Timers []Timer
}

// ErrNothingToDo is returned by an update function when the claim has
// already moved past the step: the store writes nothing and reports
// success, which is how a step that runs twice finds its work done.
var ErrNothingToDo = errors.New("nothing to do")

// StepStore is the persistence the steps need.
type StepStore interface {
	// GetClaim returns one claim. Errors: *NotFoundError.
	GetClaim(ctx context.Context, id string) (Record, error)
	// GetOrder returns one order. Errors: *NotFoundError.
	GetOrder(ctx context.Context, id string) (*order.Order, error)
	// GetClaimOrder returns one claim and its order, read together.
	// Errors: *NotFoundError (the claim's, or its order's).
	GetClaimOrder(ctx context.Context, id string) (Record, *order.Order, error)
	// UpdateClaim locks the claim, calls fn with it and, unless fn returns
	// an error, writes the changed claim, its new events and fn's Effects
	// in one transaction. fn returning ErrNothingToDo writes nothing and
	// UpdateClaim returns nil. Errors: *NotFoundError, fn's error.
	UpdateClaim(ctx context.Context, id string, fn func(c *claim.Claim) (Effects, error)) error
	// UpdateRecord is UpdateClaim handing fn the claim's whole record (its
	// decision and the facts it was decided on), read under the same lock.
	UpdateRecord(ctx context.Context, id string, fn func(r Record) (Effects, error)) error
	// UpdateSeen is UpdateRecord for a record read earlier (GetClaim,
	// GetClaimOrder): fn is called with seen, and its change written only
	// if the claim is still as seen (its version). Otherwise, or when fn
	// returns ErrNothingToDo, it is UpdateRecord: fn is called again with
	// the claim read under its lock. It saves the second read of a step
	// that read the claim before calling a provider.
	UpdateSeen(ctx context.Context, seen Record, fn func(r Record) (Effects, error)) error
}

// Providers are the payment providers by the name orders record.
type Providers map[string]PaymentProvider

// RefundKey is the idempotency key of a claim's refund, at the provider
// and in the ledger, for the claim's refund attempt: "claim/<id>/refund",
// then "claim/<id>/refund/2" after an agent retried a refused refund.
func RefundKey(claimID string, attempt int) string { return attemptKey(claimID, "refund", attempt) }

// ChargeSellerKey is the idempotency key of a claim's seller charge.
func ChargeSellerKey(claimID string, attempt int) string {
	return attemptKey(claimID, "charge_seller", attempt)
}

func attemptKey(claimID, step string, attempt int) string {
	k := "claim/" + claimID + "/" + step
	if attempt > 1 {
		k += "/" + strconv.Itoa(attempt)
	}
	return k
}

// reviewDeadline is when a claim entering review at now must be decided.
func reviewDeadline(p decision.Policy, c *claim.Claim, now time.Time) time.Time {
	return now.Add(p.ReviewRuleFor(c.Reason()).SLA)
}

// RefundStep refunds an approved claim through the order's payment
// provider. Its effect is idempotent at the provider (RefundKey) and in
// the store (it acts only on an approved claim, and ledger keys are
// unique), so running it twice refunds once.
type RefundStep struct {
	Store     StepStore
	Providers Providers
	Now       func() time.Time
	Log       *slog.Logger
	// Policy sets the deadline of a claim whose refund failed: Policies'
	// active one when set.
	Policy   decision.Policy
	Policies Policies
	// Charge, if set, charges the seller in the refund's own transaction
	// when the provider settles the refund at once and the charge needs
	// no call of its own (see ChargeSellerStep): the refund, the charge and the
	// ledger are one step, one job and one commit. Otherwise the refund
	// schedules the charge as its own step, as without Charge.
	Charge *ChargeSellerStep
}

// Run refunds claim id. attempt and maxAttempts come from the job: a
// transient error is returned for a retry, except on the last attempt,
// when the claim is moved to refund_failed so it never waits silently.
func (s *RefundStep) Run(ctx context.Context, id string, attempt, maxAttempts int) error {
	rec, o, err := s.Store.GetClaimOrder(ctx, id)
	if err != nil {
		return fmt.Errorf("refund step: %w", err)
	}
	if rec.Claim.Status() != claim.StatusApproved {
		return nil // already refunded, failed or moved on by an agent
	}
	provider, ok := s.Providers[o.Payment().Provider]
	if !ok {
		return s.fail(ctx, id, claim.Failure{Code: claim.FailureProviderNotConfigured,
			Reason: fmt.Sprintf("The order was paid through %q, which this engine is not configured for.", o.Payment().Provider)})
	}
	attempt0 := rec.Claim.RefundAttempt()
	req := RefundRequest{
		IdempotencyKey: RefundKey(id, attempt0), ClaimID: id, OrderID: o.ID(), Payment: o.Payment(), Amount: rec.Claim.Amount(),
	}
	ref, err := provider.Refund(ctx, req)
	if err != nil {
		var pe *PaymentError
		switch {
		case IsPermanent(err) && errors.As(err, &pe):
			return s.fail(ctx, id, claim.Failure{Code: claim.FailureCode(pe.Code), Reason: pe.Message})
		case attempt < maxAttempts:
			return fmt.Errorf("refund claim %s (attempt %d of %d): %w", id, attempt, maxAttempts, err)
		}
		// The last try failed without saying whether the money moved (a
		// timeout can come after the provider acted): ask before giving up,
		// so a refund made is never recorded as failed.
		found, ok, findErr := findRefund(ctx, provider, req)
		if findErr == nil && ok {
			ref, err = found, nil
		}
		if err != nil {
			if s.Log != nil {
				s.Log.WarnContext(ctx, "refund retries exhausted", "claim_id", id, "attempts", attempt, "err", err, "lookup_err", findErr)
			}
			if findErr != nil {
				return s.fail(ctx, id, claim.Failure{Code: claim.FailureOutcomeUnknown,
					Reason: "The payment provider did not answer, and whether the refund was made could not be confirmed; check with the provider before refunding again."})
			}
			reason := fmt.Sprintf("The payment provider failed %d times in a row.", attempt)
			if _, asked := provider.(RefundFinder); asked {
				reason += " It confirms no refund was made."
			}
			return s.fail(ctx, id, claim.Failure{Code: claim.FailureRetriesExhausted, Reason: reason})
		}
	}
	if ref.Amount != rec.Claim.Amount() {
		// The money moved, but not as asked: a person must look, and the
		// ledger must not record what did not happen.
		return s.fail(ctx, id, claim.Failure{Code: claim.FailureAmountMismatch, Reason: fmt.Sprintf(
			"The provider refunded %s (refund %s) but the claim is for %s.", ref.Amount, ref.ID, rec.Claim.Amount())})
	}
	return s.Store.UpdateSeen(ctx, rec, func(rec Record) (Effects, error) {
		c := rec.Claim
		if c.Status() != claim.StatusApproved || c.RefundAttempt() != attempt0 {
			return Effects{}, ErrNothingToDo
		}
		now := s.Now().UTC()
		// The provider we called, not what its answer says, names the
		// ledger account: the money left our account there.
		r := claim.RefundRef{Provider: provider.Name(), ID: ref.ID, At: now}
		if ref.Status == RefundPending {
			if err := c.MarkRefundPending(r, now); err != nil {
				return Effects{}, err
			}
			return then(c), nil
		}
		if err := c.MarkRefunded(r, now); err != nil {
			return Effects{}, err
		}
		tx, err := ledger.Transfer(RefundKey(id, attempt0), ledger.KindRefund, ledger.ProviderCash(r.Provider), ledger.ClaimsClearing, c.Amount())
		if err != nil {
			return Effects{}, err
		}
		return afterRefund(s.Charge, rec, tx, now)
	})
}

// afterRefund is what follows a refund recorded (its ledger transaction
// tx) on rec's claim: with a charge step that needs no call of its own,
// the charge and the claim's close, in the same update; otherwise the
// charge step, scheduled.
func afterRefund(charge *ChargeSellerStep, rec Record, tx ledger.Transaction, now time.Time) (Effects, error) {
	if charge == nil || !charge.inline() {
		return then(rec.Claim, tx), nil
	}
	eff, err := charge.charge(rec, now)
	if err != nil {
		return Effects{}, err
	}
	eff.Ledger = append([]ledger.Transaction{tx}, eff.Ledger...)
	return eff, nil
}

// RefundFinder is implemented by providers that can find the refund made
// under a request's idempotency key.
type RefundFinder interface {
	// FindRefund returns the refund made for req, if any.
	FindRefund(ctx context.Context, req RefundRequest) (Refund, bool, error)
}

// findRefund asks the provider, if it can be asked, whether req was
// refunded; a provider that cannot be asked is taken at its error's word.
func findRefund(ctx context.Context, p PaymentProvider, req RefundRequest) (Refund, bool, error) {
	f, ok := p.(RefundFinder)
	if !ok {
		return Refund{}, false, nil
	}
	return f.FindRefund(ctx, req)
}

// fail moves an approved claim to refund_failed with the reason.
func (s *RefundStep) fail(ctx context.Context, id string, f claim.Failure) error {
	if s.Log != nil {
		s.Log.WarnContext(ctx, "refund failed", "claim_id", id, "code", f.Code, "reason", f.Reason)
	}
	return s.Store.UpdateClaim(ctx, id, func(c *claim.Claim) (Effects, error) {
		if c.Status() != claim.StatusApproved {
			return Effects{}, ErrNothingToDo
		}
		now := s.Now().UTC()
		if err := c.FailRefund(f, reviewDeadline(activePolicy(s.Policy, s.Policies), c, now), now); err != nil {
			return Effects{}, err
		}
		return then(c), nil
	})
}

// SellerRecoveryKey is the idempotency key of recovering a claim's amount
// from its seller (a Connect transfer reversal) and of its ledger entry.
func SellerRecoveryKey(claimID string, attempt int) string {
	return attemptKey(claimID, "seller_recovery", attempt)
}

// RecoverRequest asks a payment provider to take a refunded amount back
// from the seller's account.
type RecoverRequest struct {
	IdempotencyKey string // SellerRecoveryKey
	ClaimID        string
	Payment        order.Payment
	SellerAccount  string // e.g. a Stripe Connect account, acct_…
	Amount         money.Money
}

// SellerRecoverer takes money back from sellers at the provider.
type SellerRecoverer interface {
	// RecoverFromSeller returns the provider's reference of the recovery
	// (e.g. a transfer reversal, trr_…). The same key recovers once.
	// Errors: *PaymentError as Refund's.
	RecoverFromSeller(ctx context.Context, req RecoverRequest) (string, error)
}

// SellerReader reads seller profiles.
type SellerReader interface {
	GetSeller(ctx context.Context, id string) (*seller.Seller, error)
}

// ChargeSellerStep charges a refunded claim's amount to its seller in the
// ledger (the seller's receivable grows) and closes the claim. How the
// money comes back from the seller depends on the platform's set-up:
//   - by default the debt stays in the ledger, to be netted against payouts;
//   - RecoveredWithRefund: the refund itself took it back (a Connect
//     destination charge refunded with reverse_transfer), and the ledger
//     records the recovery at once;
//   - Recoverer: the step takes it back at the provider (a Connect
//     transfer reversal) and records the recovery; when the provider
//     refuses for good, the debt stays in the ledger and the timeline says
//     why.
//
// A claim against a seller whose standing the policy protects (the
// standing in the claim's facts snapshot, read against Policy when the
// step runs) is charged to platform_protection instead, and nothing is
// recovered at the provider: the seller is charged only once the charge
// is confirmed (see ProtectionConfirmKey), and a confirmed protected
// charge stays on the seller's ledger balance, to be netted against
// payouts. Recovery through the provider applies to charges confirmed
// when they are made. With RecoveredWithRefund the provider already took
// the amount from the seller with the refund, so protection cannot hold
// it back: such a claim is charged as unprotected, and the timeline says
// so.
type ChargeSellerStep struct {
	Store               StepStore
	Now                 func() time.Time
	RecoveredWithRefund bool
	Recoverer           SellerRecoverer
	Sellers             SellerReader // needed with Recoverer
	// Policy sets how long the seller may contest the charge, and which
	// seller standings are protected. With Policies, the version that
	// decided the claim does: what the seller is held to does not change
	// with later activations.
	Policy   decision.Policy
	Policies Policies
}

// ProtectionConfirmKey is the key of the transaction that moves a
// confirmed protected charge from platform_protection to the seller's
// receivable.
func ProtectionConfirmKey(claimID string, attempt int) string {
	return attemptKey(claimID, "protection_confirm", attempt)
}

// protectedNoRecovery is the timeline's note on a protected seller's
// charge that the refund already recovered from the seller.
const protectedNoRecovery = "The seller's standing is protected, but the refund already took the amount back from the seller's account, so the charge is made as usual; the seller may still contest it."

// Run charges the seller for claim id; a claim that is not refunded (any
// more) is left alone. attempt and maxAttempts matter only with a
// Recoverer, whose transient errors are retried.
func (s *ChargeSellerStep) Run(ctx context.Context, id string, attempt, maxAttempts int) error {
	if s.inline() {
		// Charging in the ledger alone reads the claim under its lock, in
		// one transaction.
		return s.Store.UpdateRecord(ctx, id, func(r Record) (Effects, error) {
			if r.Claim.Status() != claim.StatusRefunded {
				return Effects{}, ErrNothingToDo
			}
			return s.charge(r, s.Now().UTC())
		})
	}
	// Taking the money back at the provider happens outside the claim's
	// transaction, so it needs the claim first.
	rec, err := s.Store.GetClaim(ctx, id)
	if err != nil {
		return fmt.Errorf("charge seller step: %w", err)
	}
	if rec.Claim.Status() != claim.StatusRefunded {
		return nil // charged already, or the refund failed
	}
	var recovery, note string
	if !Protected(decidingPolicy(s.Policy, s.Policies, rec.Decision.PolicyVersion), rec.Facts) {
		if recovery, note, err = s.recover(ctx, rec, attempt, maxAttempts); err != nil {
			return err
		}
	}
	return s.Store.UpdateRecord(ctx, id, func(r Record) (Effects, error) {
		if r.Claim.Status() != claim.StatusRefunded {
			return Effects{}, ErrNothingToDo
		}
		return s.chargeRecovered(r, recovery, note, s.Now().UTC())
	})
}

// inline reports whether the charge needs no call to the provider, so it
// can be made in the transaction that finds the claim refunded: nothing
// to recover, or the refund recovered it already.
func (s *ChargeSellerStep) inline() bool { return s.Recoverer == nil || s.RecoveredWithRefund }

// charge charges a refunded claim without calling the provider (inline):
// with RecoveredWithRefund the refund already took the amount back from
// the seller, which the ledger records with the charge.
func (s *ChargeSellerStep) charge(r Record, now time.Time) (Effects, error) {
	var recovery, note string
	if s.RecoveredWithRefund {
		recovery = "reversed_with_refund"
		if Protected(decidingPolicy(s.Policy, s.Policies, r.Decision.PolicyVersion), r.Facts) {
			note = protectedNoRecovery
		}
	}
	return s.chargeRecovered(r, recovery, note, now)
}

// chargeRecovered charges r's claim, refunded, to its seller in the ledger
// (or to platform_protection when its standing is protected) and closes
// it. recovery says how the amount came back from the seller ("" when the
// debt stays in the ledger), note why it did not when it could not.
func (s *ChargeSellerStep) chargeRecovered(r Record, recovery, note string, now time.Time) (Effects, error) {
	c := r.Claim
	id := c.ID()
	// With RecoveredWithRefund the provider already took the amount
	// from the seller: the charge cannot be held back.
	p := decidingPolicy(s.Policy, s.Policies, r.Decision.PolicyVersion)
	protected := Protected(p, r.Facts) && !s.RecoveredWithRefund
	n := c.RefundAttempt()
	contestBy := now.Add(p.ContestWindowOrDefault())
	if protected {
		tx, err := ledger.Transfer(ChargeSellerKey(id, n), ledger.KindProtectedCharge, ledger.ClaimsClearing, ledger.PlatformProtection, c.Amount())
		if err != nil {
			return Effects{}, err
		}
		if err := c.ChargeSellerProtected(now, "", contestBy); err != nil {
			return Effects{}, err
		}
		if err := c.Close(now); err != nil {
			return Effects{}, err
		}
		return then(c, tx), nil
	}
	receivable := ledger.SellerReceivable(c.SellerID())
	tx, err := ledger.Transfer(ChargeSellerKey(id, n), ledger.KindSellerCharge, ledger.ClaimsClearing, receivable, c.Amount())
	if err != nil {
		return Effects{}, err
	}
	txs := []ledger.Transaction{tx}
	if recovery != "" {
		rtx, err := ledger.Transfer(SellerRecoveryKey(id, n), ledger.KindSellerRecovery, receivable, ledger.ProviderCash(c.Refund().Provider), c.Amount())
		if err != nil {
			return Effects{}, err
		}
		txs = append(txs, rtx)
	}
	if err := c.ChargeSeller(now, recovery, note, contestBy); err != nil {
		return Effects{}, err
	}
	if err := c.Close(now); err != nil {
		return Effects{}, err
	}
	return then(c, txs...), nil
}

// Protected reports whether a claim decided on facts is charged to its
// seller only once confirmed: the seller's standing in the facts snapshot
// ("" reads as standard) is one the policy protects. It depends on the
// stored snapshot and the policy alone, so a replay decides the same.
func Protected(p decision.Policy, f decision.Facts) bool {
	l := f.SellerStanding
	if l == "" {
		l = standing.LevelStandard
	}
	return p.Protects(l)
}

// recover takes the amount back from the seller where the set-up says so,
// and returns how ("" when the debt stays in the ledger) and, when it
// could not, why.
func (s *ChargeSellerStep) recover(ctx context.Context, rec Record, attempt, maxAttempts int) (string, string, error) {
	id := rec.Claim.ID()
	if s.RecoveredWithRefund {
		return "reversed_with_refund", "", nil
	}
	if s.Recoverer == nil {
		return "", "", nil
	}
	o, err := s.Store.GetOrder(ctx, rec.Claim.OrderID())
	if err != nil {
		return "", "", fmt.Errorf("charge seller step: %w", err)
	}
	sl, err := s.Sellers.GetSeller(ctx, rec.Claim.SellerID())
	if err != nil {
		return "", "", fmt.Errorf("charge seller step: %w", err)
	}
	if sl.StripeAccount() == "" {
		return "", "The seller has no connected account to recover from; the amount stays on their ledger balance.", nil
	}
	ref, err := s.Recoverer.RecoverFromSeller(ctx, RecoverRequest{
		IdempotencyKey: SellerRecoveryKey(id, rec.Claim.RefundAttempt()), ClaimID: id, Payment: o.Payment(),
		SellerAccount: sl.StripeAccount(), Amount: rec.Claim.Amount(),
	})
	var pe *PaymentError
	switch {
	case err == nil:
		return ref, "", nil
	case IsPermanent(err) && errors.As(err, &pe):
		return "", fmt.Sprintf("The provider refused to recover the amount (%s: %s); it stays on the seller's ledger balance.", pe.Code, pe.Message), nil
	case attempt >= maxAttempts:
		return "", fmt.Sprintf("Recovering the amount failed %d times (%v); it stays on the seller's ledger balance.", attempt, err), nil
	}
	return "", "", fmt.Errorf("recover claim %s from seller (attempt %d of %d): %w", id, attempt, maxAttempts, err)
}
