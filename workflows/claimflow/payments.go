package claimflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
)

// RefundStatus is what the provider says became of a refund.
type RefundStatus string

// Refund statuses: succeeded means the money moved; pending means the
// provider accepted the refund but has not settled it yet.
const (
	RefundSucceeded RefundStatus = "succeeded"
	RefundPending   RefundStatus = "pending"
)

// RefundRequest asks a provider to return money to the shopper.
type RefundRequest struct {
	// IdempotencyKey is derived from the claim ("claim/<id>/refund"): the
	// provider returns the same refund for the same key, however often it
	// is asked.
	IdempotencyKey string
	ClaimID        string
	OrderID        string
	Payment        order.Payment // where the order was paid
	Amount         money.Money
}

// Refund is the provider's record of a refund.
type Refund struct {
	ID       string // the provider's id, e.g. re_…
	Provider string
	Status   RefundStatus
	Amount   money.Money
}

// PaymentProvider moves money back to shoppers.
type PaymentProvider interface {
	// Name is the provider's name as orders record it ("sandbox", "stripe").
	Name() string
	// Refund refunds req.Amount of the order's payment. Calling it again
	// with the same IdempotencyKey returns the first refund. Errors: a
	// *PaymentError, Permanent when retrying cannot help (declined,
	// disputed, not refundable); any other error is treated as transient.
	Refund(ctx context.Context, req RefundRequest) (Refund, error)
}

// PaymentError is a provider's refusal or failure, classified once at the
// adapter so the workflow knows whether to retry.
type PaymentError struct {
	Code      string // stable, e.g. "declined", "rate_limited", "charge_disputed"
	Message   string // the provider's reason, shown in the timeline
	Permanent bool
	Err       error // the underlying error, if any
}

func (e *PaymentError) Error() string {
	kind := "transient"
	if e.Permanent {
		kind = "permanent"
	}
	return fmt.Sprintf("payment %s error %s: %s", kind, e.Code, e.Message)
}

func (e *PaymentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a provider error retrying cannot fix.
func IsPermanent(err error) bool {
	var pe *PaymentError
	return errors.As(err, &pe) && pe.Permanent
}
