package claimflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/ledger"
)

// RefundUpdate is a provider's later word on a refund (a webhook, or a
// lookup of a refund left pending).
type RefundUpdate struct {
	Provider      string
	RefundID      string
	ClaimID       string // from the refund's metadata
	Status        string // succeeded, pending, requires_action, failed, canceled
	FailureReason string // the provider's reason when failed
}

// Settler applies providers' later word on refunds to claims.
type Settler struct {
	Store StepStore
	Now   func() time.Time
	Log   *slog.Logger
	// Policy sets the deadline of a claim whose refund failed: Policies'
	// active one when set.
	Policy   decision.Policy
	Policies Policies
	// Charge, if set, charges the seller in the transaction that records
	// a pending refund's success, where the charge needs no call of its
	// own (see RefundStep.Charge); otherwise the charge is scheduled.
	Charge *ChargeSellerStep
}

// RefundReversalKey is the key of the ledger transaction that undoes a
// claim's refund when the provider reports it failed after all.
func RefundReversalKey(claimID string, attempt int) string {
	return RefundKey(claimID, attempt) + "/reversed"
}

// ChargeSellerReversalKey is the key of the transaction that undoes the
// seller charge of a refund that failed after all.
func ChargeSellerReversalKey(claimID string, attempt int) string {
	return ChargeSellerKey(claimID, attempt) + "/reversed"
}

// ChargebackReleaseKey is the key of the transaction that takes a charge
// off the seller (waived, or reversed on contest).
func ChargebackReleaseKey(claimID string, attempt int) string {
	return ChargeSellerKey(claimID, attempt) + "/released"
}

// ChargebackReleaseReversalKey is the key of the transaction that undoes
// a release when the refund it was for failed after all.
func ChargebackReleaseReversalKey(claimID string, attempt int) string {
	return ChargebackReleaseKey(claimID, attempt) + "/reversed"
}

// ErrRefundNotRecorded is returned by Settle when the claim is still
// waiting for its refund step to record the refund the update speaks of:
// the provider's word came first, and must be delivered again later.
var ErrRefundNotRecorded = errors.New("the claim has not recorded this refund yet")

// Settle applies u to its claim, once: a pending refund that succeeded
// becomes refunded (ledger, then the seller charge is scheduled); a refund
// that failed moves the claim to refund_failed with the provider's reason,
// reversing in the ledger what was recorded for it. An update for a refund
// the claim does not know, or one that changes nothing, is ignored.
// Errors: the store's.
func (s *Settler) Settle(ctx context.Context, u RefundUpdate) error {
	if u.ClaimID == "" || u.RefundID == "" {
		return nil // not a refund this engine made
	}
	err := s.Store.UpdateRecord(ctx, u.ClaimID, func(rec Record) (Effects, error) {
		c := rec.Claim
		if c.Refund().ID != u.RefundID {
			if c.Status() == claim.StatusApproved {
				// The refund step has asked but not yet recorded the
				// answer: settle once it has.
				return Effects{}, ErrRefundNotRecorded
			}
			return Effects{}, ErrNothingToDo // another refund
		}
		now := s.Now().UTC()
		switch u.Status {
		case "succeeded":
			if c.Status() != claim.StatusRefundPending {
				return Effects{}, ErrNothingToDo
			}
			ref := c.Refund()
			ref.At = now
			if err := c.MarkRefunded(ref, now); err != nil {
				return Effects{}, err
			}
			tx, err := ledger.Transfer(RefundKey(c.ID(), c.RefundAttempt()), ledger.KindRefund, ledger.ProviderCash(ref.Provider), ledger.ClaimsClearing, c.Amount())
			if err != nil {
				return Effects{}, err
			}
			return afterRefund(s.Charge, rec, tx, now)
		case "failed", "canceled":
			return s.reverse(c, u, now)
		}
		return Effects{}, ErrNothingToDo
	})
	if err != nil {
		return fmt.Errorf("settle refund %s of claim %s: %w", u.RefundID, u.ClaimID, err)
	}
	return nil
}

// reverse moves a claim whose refund failed to refund_failed and undoes
// in the ledger what its refund and seller charge recorded.
func (s *Settler) reverse(c *claim.Claim, u RefundUpdate, now time.Time) (Effects, error) {
	var txs []ledger.Transaction
	switch c.Status() {
	case claim.StatusRefundPending:
		// Nothing was recorded in the ledger yet.
	case claim.StatusRefunded, claim.StatusSellerCharged, claim.StatusClosed:
		n := c.RefundAttempt()
		tx, err := ledger.Transfer(RefundReversalKey(c.ID(), n), ledger.KindRefundReversal,
			ledger.ClaimsClearing, ledger.ProviderCash(c.Refund().Provider), c.Amount())
		if err != nil {
			return Effects{}, err
		}
		txs = append(txs, tx)
		switch cb := c.Chargeback(); {
		case cb.Advanced():
			// The platform carried a protected charge for a refund that
			// did not happen; the seller was never charged.
			tx, err = ledger.Transfer(ChargeSellerReversalKey(c.ID(), n), ledger.KindSellerChargeReversal,
				ledger.PlatformProtection, ledger.ClaimsClearing, c.Amount())
		case cb.OnSeller():
			// The seller was charged for a refund that did not happen.
			tx, err = ledger.Transfer(ChargeSellerReversalKey(c.ID(), n), ledger.KindSellerChargeReversal,
				ledger.SellerReceivable(c.SellerID()), ledger.ClaimsClearing, c.Amount())
		case cb.Status.Released():
			// The platform took on a cost that did not arise.
			tx, err = ledger.Transfer(ChargebackReleaseReversalKey(c.ID(), n), ledger.KindChargebackReleaseReversal,
				ledger.ClaimsAbsorbed, ledger.ClaimsClearing, c.Amount())
		default:
			tx, err = ledger.Transaction{}, nil
		}
		if err != nil {
			return Effects{}, err
		}
		if tx.Key() != "" {
			txs = append(txs, tx)
		}
	default:
		return Effects{}, ErrNothingToDo
	}
	reason := u.FailureReason
	if reason == "" {
		reason = "unknown"
	}
	code := claim.FailureRefundFailed
	if u.Status == "canceled" {
		code = claim.FailureRefundCanceled
	}
	f := claim.Failure{Code: code, Reason: fmt.Sprintf("The provider reports the refund %s %s: %s.", u.RefundID, u.Status, reason)}
	if err := c.FailRefund(f, reviewDeadline(activePolicy(s.Policy, s.Policies), c, now), now); err != nil {
		return Effects{}, err
	}
	if s.Log != nil {
		s.Log.Warn("refund failed after it was made", "claim_id", c.ID(), "refund_id", u.RefundID, "reason", reason)
	}
	return then(c, txs...), nil
}

// RefundLookup is implemented by providers that can be asked what became
// of a refund.
type RefundLookup interface {
	// LookupRefund returns the refund's current state. Errors: as Refund's.
	LookupRefund(ctx context.Context, refundID string) (RefundUpdate, error)
}

// PendingRefund is a claim waiting for its provider's word.
type PendingRefund struct {
	ClaimID, Provider, RefundID string
}

// PendingRefunds lists claims whose refund has been pending since before
// a time.
type PendingRefunds interface {
	PendingRefunds(ctx context.Context, since time.Time, limit int) ([]PendingRefund, error)
}

// SweepPending asks the providers about refunds pending since before
// olderThan ago — their webhooks may have been lost — and settles what
// they say. It returns how many it settled or found still pending; one
// refund's error is logged and the sweep goes on.
func (s *Settler) SweepPending(ctx context.Context, list PendingRefunds, providers Providers, olderThan time.Duration) (int, error) {
	// A hundred per run: with a provider paced at 20 calls a second this
	// fits well inside a job's timeout, and the oldest go first.
	pending, err := list.PendingRefunds(ctx, s.Now().Add(-olderThan), 100)
	if err != nil {
		return 0, fmt.Errorf("sweep pending refunds: %w", err)
	}
	done := 0
	for _, p := range pending {
		lookup, ok := providers[p.Provider].(RefundLookup)
		if !ok {
			continue
		}
		u, err := lookup.LookupRefund(ctx, p.RefundID)
		if err == nil {
			if u.ClaimID == "" {
				u.ClaimID = p.ClaimID
			}
			err = s.Settle(ctx, u)
		}
		if err != nil {
			if s.Log != nil {
				s.Log.WarnContext(ctx, "sweep pending refund", "claim_id", p.ClaimID, "refund_id", p.RefundID, "err", err)
			}
			continue
		}
		done++
	}
	return done, nil
}
