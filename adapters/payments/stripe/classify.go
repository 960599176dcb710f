package stripe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/claimsd/claimsd/workflows/claimflow"
)

// Error codes of the *claimflow.PaymentError values Refund returns. A card
// error keeps Stripe's own code (e.g. "expired_card").
const (
	// CodeInvalidRequest: the request is malformed, or Stripe refused it as
	// invalid (unknown charge, charge not refundable, …). Permanent.
	CodeInvalidRequest = "invalid_request"
	// CodeChargeDisputed: the shopper disputed the charge; the dispute
	// settles the money, so no refund is made. Permanent.
	CodeChargeDisputed = "charge_disputed"
	// CodeNoTransfer: the order paid the seller no Connect transfer, so
	// there is nothing to reverse.
	CodeNoTransfer = "no_transfer"
	// CodeCurrencyMismatch: the claim's currency is not the charge's.
	// Permanent.
	CodeCurrencyMismatch = "currency_mismatch"
	// CodeAmountTooLarge: more than is left to refund on the charge.
	// Permanent.
	CodeAmountTooLarge = "amount_too_large"
	// CodeChargeAlreadyRefunded: the charge was fully refunded, and not by
	// this claim. Permanent.
	CodeChargeAlreadyRefunded = "charge_already_refunded"
	// CodeIdempotencyMismatch: the claim's key was used with other
	// parameters. Permanent.
	CodeIdempotencyMismatch = "idempotency_mismatch"
	// CodeRefundFailed: Stripe accepted the refund, then it failed or was
	// canceled; the message carries Stripe's failure_reason. Permanent.
	CodeRefundFailed = "refund_failed"
	// CodeDeclined: a card error without a more specific code. Permanent.
	CodeDeclined = "declined"
	// CodeRateLimited: Stripe answered 429 twice (or the client-side pacing
	// could not fit the call in the context's time). Transient.
	CodeRateLimited = "rate_limited"
	// CodeUnavailable: Stripe answered 5xx or unreadably, or could not be
	// reached. Transient.
	CodeUnavailable = "stripe_unavailable"
	// CodeTimeout: the call outlived Config.Timeout or the context's
	// deadline; the refund may have been made, and a retry with the same
	// key returns it. Transient.
	CodeTimeout = "timeout"
	// CodeAuthFailed: Stripe refused the API key (401/403). Transient: it
	// is the deployment that is wrong, not the claim, so the workflow keeps
	// retrying while someone fixes the key.
	CodeAuthFailed = "auth_failed"
	// CodeIdempotencyKeyInUse: another call with the same key is still in
	// flight at Stripe. Transient.
	CodeIdempotencyKeyInUse = "idempotency_key_in_use"
)

const disputedMessage = "card dispute open"

// classify turns any error of an API call into a *claimflow.PaymentError
// that says whether retrying can help. It is the one place that reads
// Stripe's error types, codes and status codes; nil stays nil.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pe *claimflow.PaymentError
	if errors.As(err, &pe) {
		return pe
	}
	permanent := func(code, msg string) error {
		return &claimflow.PaymentError{Code: code, Message: msg, Permanent: true, Err: err}
	}
	transient := func(code, msg string) error {
		return &claimflow.PaymentError{Code: code, Message: msg, Err: err}
	}

	var se *stripego.Error
	if errors.As(err, &se) {
		msg := se.Msg
		if msg == "" {
			msg = http.StatusText(se.HTTPStatusCode)
		}
		if se.RequestID != "" {
			msg = fmt.Sprintf("%s (Stripe request %s)", msg, se.RequestID)
		}
		status := se.HTTPStatusCode
		switch {
		case status == http.StatusTooManyRequests || se.Code == stripego.ErrorCodeRateLimit:
			return transient(CodeRateLimited, msg)
		case se.Code == stripego.ErrorCodeIdempotencyKeyInUse:
			return transient(CodeIdempotencyKeyInUse, msg)
		case se.Type == stripego.ErrorTypeIdempotency:
			return permanent(CodeIdempotencyMismatch, msg)
		case se.Code == stripego.ErrorCodeChargeAlreadyRefunded:
			return permanent(CodeChargeAlreadyRefunded, msg)
		case se.Code == stripego.ErrorCodeChargeDisputed:
			return permanent(CodeChargeDisputed, disputedMessage)
		case se.Code == stripego.ErrorCodeAmountTooLarge,
			se.Type == stripego.ErrorTypeInvalidRequest && se.Param == "amount" && se.Code == "":
			return permanent(CodeAmountTooLarge, msg)
		case se.Type == stripego.ErrorTypeCard:
			code := string(se.Code)
			if code == "" {
				code = CodeDeclined
			}
			if se.DeclineCode != "" {
				msg = fmt.Sprintf("%s [decline code %s]", msg, se.DeclineCode)
			}
			return permanent(code, msg)
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return transient(CodeAuthFailed, msg)
		case status >= 500 || se.Type == stripego.ErrorTypeAPI:
			return transient(CodeUnavailable, msg)
		case se.Type == stripego.ErrorTypeInvalidRequest || (status >= 400 && status < 500):
			return permanent(CodeInvalidRequest, msg)
		}
		return transient(CodeUnavailable, msg)
	}

	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return transient(CodeTimeout, "Stripe did not answer in time: "+err.Error())
	}
	// Connection refused or reset, a canceled context, an unreadable answer
	// (a proxy's HTML error page): nothing says the refund is impossible.
	return transient(CodeUnavailable, "Stripe could not be reached or answered unreadably: "+err.Error())
}
