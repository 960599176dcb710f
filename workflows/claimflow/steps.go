package claimflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/order"
)

// Step names a durable step of the claim workflow; the job queue runs one
// job per step and claim.
type Step string

// The workflow's steps.
const (
	StepRefund       Step = "refund"
	StepChargeSeller Step = "charge_seller"
)

// Effects are what a claim update writes besides the claim and its events,
// all in the same transaction: ledger transactions (each written once per
// key) and the steps to run next.
type Effects struct {
	Ledger []ledger.Transaction
	Next   []Step
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
	// UpdateClaim locks the claim, calls fn with it and, unless fn returns
	// an error, writes the changed claim, its new events and fn's Effects
	// in one transaction. fn returning ErrNothingToDo writes nothing and
	// UpdateClaim returns nil. Errors: *NotFoundError, fn's error.
	UpdateClaim(ctx context.Context, id string, fn func(c *claim.Claim) (Effects, error)) error
}

// Providers are the payment providers by the name orders record.
type Providers map[string]PaymentProvider

// RefundKey is the idempotency key of a claim's refund, at the provider
// and in the ledger.
func RefundKey(claimID string) string { return "claim/" + claimID + "/refund" }

// ChargeSellerKey is the idempotency key of a claim's seller charge.
func ChargeSellerKey(claimID string) string { return "claim/" + claimID + "/charge_seller" }

// RefundStep refunds an approved claim through the order's payment
// provider. Its effect is idempotent at the provider (RefundKey) and in
// the store (it acts only on an approved claim, and ledger keys are
// unique), so running it twice refunds once.
type RefundStep struct {
	Store     StepStore
	Providers Providers
	Now       func() time.Time
	Log       *slog.Logger
}

// Run refunds claim id. attempt and maxAttempts come from the job: a
// transient error is returned for a retry, except on the last attempt,
// when the claim is moved to refund_failed so it never waits silently.
func (s *RefundStep) Run(ctx context.Context, id string, attempt, maxAttempts int) error {
	rec, err := s.Store.GetClaim(ctx, id)
	if err != nil {
		return fmt.Errorf("refund step: %w", err)
	}
	if rec.Claim.Status() != claim.StatusApproved {
		return nil // already refunded, failed or moved on by an agent
	}
	o, err := s.Store.GetOrder(ctx, rec.Claim.OrderID())
	if err != nil {
		return fmt.Errorf("refund step: %w", err)
	}
	provider, ok := s.Providers[o.Payment().Provider]
	if !ok {
		return s.fail(ctx, id, claim.Failure{Code: "provider_not_configured",
			Reason: fmt.Sprintf("The order was paid through %q, which this engine is not configured for.", o.Payment().Provider)})
	}
	ref, err := provider.Refund(ctx, RefundRequest{
		IdempotencyKey: RefundKey(id), ClaimID: id, OrderID: o.ID(), Payment: o.Payment(), Amount: rec.Claim.Amount(),
	})
	if err != nil {
		var pe *PaymentError
		switch {
		case IsPermanent(err) && errors.As(err, &pe):
			return s.fail(ctx, id, claim.Failure{Code: pe.Code, Reason: pe.Message})
		case attempt >= maxAttempts:
			return s.fail(ctx, id, claim.Failure{Code: "retries_exhausted",
				Reason: fmt.Sprintf("The refund failed %d times; the last error: %v", attempt, err)})
		}
		return fmt.Errorf("refund claim %s (attempt %d of %d): %w", id, attempt, maxAttempts, err)
	}
	if ref.Amount != rec.Claim.Amount() {
		// The money moved, but not as asked: a person must look, and the
		// ledger must not record what did not happen.
		return s.fail(ctx, id, claim.Failure{Code: "refund_amount_mismatch", Reason: fmt.Sprintf(
			"The provider refunded %s (refund %s) but the claim is for %s.", ref.Amount, ref.ID, rec.Claim.Amount())})
	}
	return s.Store.UpdateClaim(ctx, id, func(c *claim.Claim) (Effects, error) {
		if c.Status() != claim.StatusApproved {
			return Effects{}, ErrNothingToDo
		}
		now := s.Now().UTC()
		// The provider we called, not what its answer says, names the
		// ledger account: the money left our account there.
		r := claim.RefundRef{Provider: provider.Name(), ID: ref.ID, At: now}
		if ref.Status == RefundPending {
			return Effects{}, c.MarkRefundPending(r, now)
		}
		if err := c.MarkRefunded(r, now); err != nil {
			return Effects{}, err
		}
		tx, err := ledger.Transfer(RefundKey(id), ledger.KindRefund, ledger.ProviderCash(r.Provider), ledger.ClaimsClearing, c.Amount())
		if err != nil {
			return Effects{}, err
		}
		return Effects{Ledger: []ledger.Transaction{tx}, Next: []Step{StepChargeSeller}}, nil
	})
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
		return Effects{}, c.FailRefund(f, s.Now().UTC())
	})
}

// ChargeSellerStep charges a refunded claim's amount to its seller in the
// ledger (the seller's receivable grows) and closes the claim.
type ChargeSellerStep struct {
	Store StepStore
	Now   func() time.Time
}

// Run charges the seller for claim id; a claim that is not refunded (any
// more) is left alone.
func (s *ChargeSellerStep) Run(ctx context.Context, id string) error {
	return s.Store.UpdateClaim(ctx, id, func(c *claim.Claim) (Effects, error) {
		if c.Status() != claim.StatusRefunded {
			return Effects{}, ErrNothingToDo
		}
		now := s.Now().UTC()
		tx, err := ledger.Transfer(ChargeSellerKey(id), ledger.KindSellerCharge, ledger.ClaimsClearing, ledger.SellerReceivable(c.SellerID()), c.Amount())
		if err != nil {
			return Effects{}, err
		}
		if err := c.ChargeSeller(now); err != nil {
			return Effects{}, err
		}
		if err := c.Close(now); err != nil {
			return Effects{}, err
		}
		return Effects{Ledger: []ledger.Transaction{tx}}, nil
	})
}
