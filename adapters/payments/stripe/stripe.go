// Package stripe refunds orders paid through Stripe. It implements
// claimflow.PaymentProvider on stripe-go v76 (Stripe API version
// 2023-10-16) with a client of its own: the package-global stripe.Key is
// never read or set, so several Providers with different keys can live in
// one process.
//
//	p, err := stripe.New(stripe.Config{APIKey: os.Getenv("STRIPE_SECRET_KEY")})
//	refund, err := p.Refund(ctx, claimflow.RefundRequest{
//		IdempotencyKey: "claim/c_1/refund", ClaimID: "c_1", OrderID: "o_1",
//		Payment: order.Payment{Provider: "stripe", Reference: "pi_3Nv…"},
//		Amount:  money.Of(1999, money.MustCurrency("EUR")),
//	})
//
// Before refunding, Refund reads the charge and refuses disputed charges
// and charges in another currency. Every refund carries the claim's
// deterministic idempotency key and its claim and order ids as metadata, so
// a retry never refunds twice and a refund made by an earlier attempt whose
// key Stripe has since forgotten is still recognised as ours.
//
// Errors are classified once, in classify: a permanent
// *claimflow.PaymentError when retrying cannot help, a transient one
// otherwise (see the Code constants).
package stripe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"golang.org/x/time/rate"

	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// ProviderName is the name orders record for payments made through Stripe.
const ProviderName = order.ProviderStripe

// Defaults of the Config fields left zero.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultRatePerSec = 20.0 // Stripe allows 25 requests/s in test mode, 100/s live
	DefaultBurst      = 1
)

// maxRetryAfter caps how long Refund waits out a 429 before retrying: a
// longer pause is better spent by the workflow's own backoff.
const maxRetryAfter = 10 * time.Second

// defaultRetryAfter is the pause after a 429 that names none.
const defaultRetryAfter = time.Second

// Metadata keys set on every refund.
const (
	MetadataClaimID = "claim_id"
	MetadataOrderID = "order_id"
)

// Config sets up a Provider. Only APIKey is required.
type Config struct {
	// APIKey is a secret (sk_…) or restricted (rk_…) key. stripe-mock
	// accepts any sk_test_ key, e.g. "sk_test_123".
	APIKey string
	// APIBase is the API's base URL; "" is Stripe's. For stripe-mock:
	// "http://127.0.0.1:12111".
	APIBase string
	// Timeout bounds each HTTP call; 0 is DefaultTimeout.
	Timeout time.Duration
	// RatePerSec paces the API calls of this Provider (lookups included,
	// so a refund costs two); 0 is DefaultRatePerSec.
	RatePerSec float64
	// Burst is how many calls may go out at once before pacing starts; 0 is
	// DefaultBurst.
	Burst int
	// MaxRetries is the SDK's own retries of network errors and 5xx. Leave
	// it 0: the workflow retries transient errors with backoff, and the
	// SDK sleeps between its retries without watching the context.
	MaxRetries int
	// HTTPClient, if set, makes the calls; nil uses a fresh client.
	HTTPClient *http.Client
	// Logger receives the SDK's logs at debug level (its warnings at warn)
	// and the Provider's own notes; nil discards them.
	Logger *slog.Logger
	// ReverseTransfer refunds Connect destination charges with
	// reverse_transfer and refund_application_fee, so the refund takes the
	// amount back from the seller's account at once.
	ReverseTransfer bool
}

// Provider refunds Stripe payments. It is safe for concurrent use; all its
// calls share one rate limiter.
type Provider struct {
	reverseTransfer bool

	api     *client.API
	limiter *rate.Limiter
	timeout time.Duration
	logger  *slog.Logger
}

var _ claimflow.PaymentProvider = (*Provider)(nil)

// New checks cfg and returns a Provider. It makes no API call.
func New(cfg Config) (*Provider, error) {
	switch {
	case cfg.APIKey == "":
		return nil, errors.New("stripe config: APIKey is required")
	case !strings.HasPrefix(cfg.APIKey, "sk_") && !strings.HasPrefix(cfg.APIKey, "rk_"):
		return nil, errors.New("stripe config: APIKey must be a secret (sk_…) or restricted (rk_…) key")
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("stripe config: Timeout %s is negative", cfg.Timeout)
	case cfg.RatePerSec < 0:
		return nil, fmt.Errorf("stripe config: RatePerSec %g is negative", cfg.RatePerSec)
	case cfg.Burst < 0:
		return nil, fmt.Errorf("stripe config: Burst %d is negative", cfg.Burst)
	case cfg.MaxRetries < 0:
		return nil, fmt.Errorf("stripe config: MaxRetries %d is negative", cfg.MaxRetries)
	}
	if cfg.APIBase != "" {
		u, err := url.Parse(cfg.APIBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("stripe config: APIBase %q is not an http(s) URL", cfg.APIBase)
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.RatePerSec == 0 {
		cfg.RatePerSec = DefaultRatePerSec
	}
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}

	backend := &stripego.BackendConfig{
		HTTPClient:        cfg.HTTPClient,
		MaxNetworkRetries: stripego.Int64(int64(cfg.MaxRetries)),
		LeveledLogger:     sdkLogger{cfg.Logger},
		EnableTelemetry:   stripego.Bool(false),
	}
	if cfg.APIBase != "" {
		backend.URL = stripego.String(cfg.APIBase)
	}
	api := &client.API{}
	api.Init(cfg.APIKey, &stripego.Backends{
		API: stripego.GetBackendWithConfig(stripego.APIBackend, backend),
	})
	return &Provider{
		api:     api,
		limiter: rate.NewLimiter(rate.Limit(cfg.RatePerSec), cfg.Burst),
		timeout: cfg.Timeout,
		logger:  cfg.Logger,

		reverseTransfer: cfg.ReverseTransfer,
	}, nil
}

// Name returns "stripe", the provider name orders record.
func (p *Provider) Name() string { return ProviderName }

// Refund refunds req.Amount of the charge or PaymentIntent named by
// req.Payment.Reference (ch_…, py_… or pi_…), with req.IdempotencyKey as
// Stripe's idempotency key. A refund Stripe reports as succeeded is
// RefundSucceeded; pending or requires_action is RefundPending.
//
// Errors are *claimflow.PaymentError values:
//   - permanent: CodeInvalidRequest, CodeChargeDisputed (no refund is
//     attempted), CodeCurrencyMismatch, CodeAmountTooLarge,
//     CodeChargeAlreadyRefunded (by someone else: a refund carrying this
//     claim's id is returned as success instead), CodeIdempotencyMismatch,
//     CodeRefundFailed, or a card error's code (CodeDeclined when generic);
//   - transient: CodeRateLimited (after one retry that honours
//     Retry-After), CodeUnavailable, CodeTimeout, CodeAuthFailed,
//     CodeIdempotencyKeyInUse.
func (p *Provider) Refund(ctx context.Context, req claimflow.RefundRequest) (claimflow.Refund, error) {
	t, err := check(req)
	if err != nil {
		return claimflow.Refund{}, err
	}
	if err := p.guard(ctx, t, req.Amount.Currency()); err != nil {
		return claimflow.Refund{}, err
	}

	var re *stripego.Refund
	err = p.do(ctx, func(ctx context.Context) error {
		params := &stripego.RefundParams{
			Amount: stripego.Int64(req.Amount.Amount()),
			Reason: stripego.String(string(stripego.RefundReasonRequestedByCustomer)),
			Metadata: map[string]string{
				MetadataClaimID: req.ClaimID,
				MetadataOrderID: req.OrderID,
			},
		}
		t.setOn(params)
		if p.reverseTransfer {
			params.ReverseTransfer = stripego.Bool(true)
			params.RefundApplicationFee = stripego.Bool(true)
		}
		params.Context = ctx
		// The claim's key, never the SDK's random one: a retry after a lost
		// answer must get the first refund back, not make a second.
		params.SetIdempotencyKey(req.IdempotencyKey)
		var err error
		re, err = p.api.Refunds.New(params)
		return err
	})
	var pe *claimflow.PaymentError
	if errors.As(err, &pe) && pe.Code == CodeChargeAlreadyRefunded {
		// Stripe forgets idempotency keys after 24 hours; an earlier attempt
		// of this claim may be what refunded the charge.
		ours, findErr := p.findRefund(ctx, t, req.ClaimID)
		if findErr != nil {
			return claimflow.Refund{}, findErr
		}
		if ours == nil {
			return claimflow.Refund{}, err
		}
		p.logger.InfoContext(ctx, "stripe charge already refunded by this claim",
			"claim_id", req.ClaimID, "refund_id", ours.ID)
		re = ours
	} else if err != nil {
		return claimflow.Refund{}, err
	}
	return result(re, req.Amount.Currency())
}

// target is what a refund is made against: a PaymentIntent or a charge.
type target struct {
	paymentIntent string
	charge        string
}

func (t target) setOn(params *stripego.RefundParams) {
	if t.paymentIntent != "" {
		params.PaymentIntent = stripego.String(t.paymentIntent)
	} else {
		params.Charge = stripego.String(t.charge)
	}
}

// check validates req and finds what to refund; it returns a permanent
// *claimflow.PaymentError or nil.
func check(req claimflow.RefundRequest) (target, error) {
	invalid := func(msg string) error {
		return &claimflow.PaymentError{Code: CodeInvalidRequest, Message: msg, Permanent: true}
	}
	switch {
	case req.IdempotencyKey == "":
		return target{}, invalid("An idempotency key is required.")
	case req.Amount.Currency().IsZero():
		return target{}, invalid("The refund amount has no currency.")
	case !req.Amount.IsPositive():
		return target{}, invalid(fmt.Sprintf("The refund amount must be positive, not %s.", req.Amount))
	case req.Payment.Provider != ProviderName:
		return target{}, invalid(fmt.Sprintf("The payment was made through %q, not Stripe.", req.Payment.Provider))
	}
	ref := req.Payment.Reference
	switch {
	case strings.HasPrefix(ref, "pi_") && len(ref) > 3:
		return target{paymentIntent: ref}, nil
	case (strings.HasPrefix(ref, "ch_") || strings.HasPrefix(ref, "py_")) && len(ref) > 3:
		return target{charge: ref}, nil
	}
	return target{}, invalid(fmt.Sprintf(
		"The payment reference %q is neither a Stripe PaymentIntent (pi_…) nor a charge (ch_…, py_…).", ref))
}

// guard reads the charge behind t and refuses to refund a disputed charge
// (the dispute already holds the money; refunding too would pay the
// shopper twice) or one in a currency other than want. A charge whose
// currency Stripe leaves empty is not checked.
func (p *Provider) guard(ctx context.Context, t target, want money.Currency) error {
	var ch *stripego.Charge
	currency := ""
	err := p.do(ctx, func(ctx context.Context) error {
		if t.charge != "" {
			params := &stripego.ChargeParams{}
			params.Context = ctx
			c, err := p.api.Charges.Get(t.charge, params)
			if err != nil {
				return err
			}
			ch, currency = c, string(c.Currency)
			return nil
		}
		params := &stripego.PaymentIntentParams{}
		params.Context = ctx
		params.AddExpand("latest_charge")
		pi, err := p.api.PaymentIntents.Get(t.paymentIntent, params)
		if err != nil {
			return err
		}
		// A PaymentIntent that never charged has no latest charge; the
		// refund call then answers for itself.
		ch, currency = pi.LatestCharge, string(pi.Currency)
		if ch != nil && ch.Currency != "" {
			currency = string(ch.Currency)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if ch != nil && ch.Disputed {
		return &claimflow.PaymentError{Code: CodeChargeDisputed, Message: disputedMessage, Permanent: true}
	}
	if currency != "" && !strings.EqualFold(currency, want.String()) {
		return &claimflow.PaymentError{
			Code: CodeCurrencyMismatch,
			Message: fmt.Sprintf("The payment was made in %s; a refund in %s is not possible.",
				strings.ToUpper(currency), want),
			Permanent: true,
		}
	}
	return nil
}

// findRefund returns the refund of t made for claimID, or nil.
func (p *Provider) findRefund(ctx context.Context, t target, claimID string) (*stripego.Refund, error) {
	var found *stripego.Refund
	err := p.do(ctx, func(ctx context.Context) error {
		found = nil
		params := &stripego.RefundListParams{}
		params.Context = ctx
		params.Limit = stripego.Int64(100)
		if t.paymentIntent != "" {
			params.PaymentIntent = stripego.String(t.paymentIntent)
		} else {
			params.Charge = stripego.String(t.charge)
		}
		it := p.api.Refunds.List(params)
		for it.Next() {
			if re := it.Refund(); re.Metadata[MetadataClaimID] == claimID {
				found = re
				return nil
			}
		}
		return it.Err()
	})
	return found, err
}

// result turns the refund Stripe made into the workflow's Refund. want is
// the requested currency, used when Stripe's answer names none.
func result(re *stripego.Refund, want money.Currency) (claimflow.Refund, error) {
	var status claimflow.RefundStatus
	switch re.Status {
	case stripego.RefundStatusSucceeded:
		status = claimflow.RefundSucceeded
	case stripego.RefundStatusFailed, stripego.RefundStatusCanceled:
		reason := string(re.FailureReason)
		if reason == "" {
			reason = "unknown"
		}
		return claimflow.Refund{}, &claimflow.PaymentError{
			Code:      CodeRefundFailed,
			Message:   fmt.Sprintf("Stripe reports refund %s as %s (reason: %s).", re.ID, re.Status, reason),
			Permanent: true,
		}
	default:
		// pending and requires_action: accepted, not yet settled; the
		// charge.refund.updated webhook tells the rest. An unknown status
		// is treated the same, since the refund exists and a retry would
		// only return it again.
		status = claimflow.RefundPending
	}
	currency := want
	if re.Currency != "" {
		c, err := money.ParseCurrency(strings.ToUpper(string(re.Currency)))
		if err != nil {
			return claimflow.Refund{}, &claimflow.PaymentError{
				Code:      CodeCurrencyMismatch,
				Message:   fmt.Sprintf("Stripe made refund %s in %q, a currency this engine does not handle.", re.ID, re.Currency),
				Permanent: true,
				Err:       err,
			}
		}
		currency = c
	}
	return claimflow.Refund{
		ID: re.ID, Provider: ProviderName, Status: status, Amount: money.Of(re.Amount, currency),
	}, nil
}

// do makes one API call: it waits for the rate limiter, bounds the call by
// the configured timeout, and classifies its error. A 429 is waited out
// (Retry-After, capped at maxRetryAfter and bounded by ctx) and the call
// made once more, so a burst of refunds queues instead of failing.
func (p *Provider) do(ctx context.Context, call func(ctx context.Context) error) error {
	for attempt := 1; ; attempt++ {
		if err := p.limiter.Wait(ctx); err != nil {
			return &claimflow.PaymentError{
				Code:    CodeRateLimited,
				Message: "The call could not be paced within the time left: " + err.Error(),
				Err:     err,
			}
		}
		callCtx, cancel := context.WithTimeout(ctx, p.timeout)
		err := call(callCtx)
		cancel()
		if err == nil {
			return nil
		}
		classified := classify(err)
		var pe *claimflow.PaymentError
		if attempt > 1 || !errors.As(classified, &pe) || pe.Code != CodeRateLimited {
			return classified
		}
		wait := retryAfter(err)
		p.logger.InfoContext(ctx, "stripe rate limited; retrying once", "after", wait)
		if !sleep(ctx, wait) {
			return classified
		}
	}
}

// retryAfter reads the Retry-After header of a 429 (seconds or an HTTP
// date), capped at maxRetryAfter.
func retryAfter(err error) time.Duration {
	wait := defaultRetryAfter
	var se *stripego.Error
	if errors.As(err, &se) && se.LastResponse != nil {
		if v := se.LastResponse.Header.Get("Retry-After"); v != "" {
			if secs, convErr := strconv.Atoi(v); convErr == nil && secs >= 0 {
				wait = time.Duration(secs) * time.Second
			} else if at, dateErr := http.ParseTime(v); dateErr == nil {
				wait = max(time.Until(at), 0)
			}
		}
	}
	return min(wait, maxRetryAfter)
}

// sleep waits d and reports true, or reports false at once when ctx ends
// first or cannot last that long.
func sleep(ctx context.Context, d time.Duration) bool {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// sdkLogger hands the SDK's printf-style logs to slog. Its errors go out
// at debug level: every one of them is also returned, classified, to the
// workflow, which logs it once.
type sdkLogger struct{ l *slog.Logger }

func (s sdkLogger) Debugf(format string, v ...any) { s.log(slog.LevelDebug, format, v) }
func (s sdkLogger) Infof(format string, v ...any)  { s.log(slog.LevelDebug, format, v) }
func (s sdkLogger) Warnf(format string, v ...any)  { s.log(slog.LevelWarn, format, v) }
func (s sdkLogger) Errorf(format string, v ...any) { s.log(slog.LevelDebug, format, v) }

func (s sdkLogger) log(level slog.Level, format string, v []any) {
	ctx := context.Background()
	if !s.l.Enabled(ctx, level) {
		return
	}
	s.l.Log(ctx, level, fmt.Sprintf(format, v...), "component", "stripe-go")
}

// LookupRefund implements claimflow.RefundLookup: Stripe's current word on
// one refund, for refunds whose webhook never came.
func (p *Provider) LookupRefund(ctx context.Context, refundID string) (claimflow.RefundUpdate, error) {
	var re *stripego.Refund
	err := p.do(ctx, func(ctx context.Context) error {
		params := &stripego.RefundParams{}
		params.Context = ctx
		var err error
		re, err = p.api.Refunds.Get(refundID, params)
		return err
	})
	if err != nil {
		return claimflow.RefundUpdate{}, err
	}
	return claimflow.RefundUpdate{
		Provider: ProviderName, RefundID: re.ID, ClaimID: re.Metadata["claim_id"],
		Status: string(re.Status), FailureReason: string(re.FailureReason),
	}, nil
}

var _ claimflow.SellerRecoverer = (*Provider)(nil)

// RecoverFromSeller reverses, on the seller's connected account, the
// transfer that paid them for the order: the charge's own transfer
// (destination charges) or the transfer to req.SellerAccount in the
// charge's transfer group (separate charges and transfers). It returns
// the reversal's id (trr_…); req.IdempotencyKey makes a retry reverse
// once. Errors: as Refund's, and permanent CodeNoTransfer when the order
// paid the seller no transfer.
func (p *Provider) RecoverFromSeller(ctx context.Context, req claimflow.RecoverRequest) (string, error) {
	t, err := check(claimflow.RefundRequest{IdempotencyKey: req.IdempotencyKey, Payment: req.Payment, Amount: req.Amount})
	if err != nil {
		return "", err
	}
	var transferID string
	err = p.do(ctx, func(ctx context.Context) error {
		var ch *stripego.Charge
		if t.charge != "" {
			params := &stripego.ChargeParams{}
			params.Context = ctx
			c, err := p.api.Charges.Get(t.charge, params)
			if err != nil {
				return err
			}
			ch = c
		} else {
			params := &stripego.PaymentIntentParams{}
			params.Context = ctx
			params.AddExpand("latest_charge")
			pi, err := p.api.PaymentIntents.Get(t.paymentIntent, params)
			if err != nil {
				return err
			}
			ch = pi.LatestCharge
		}
		if ch == nil {
			return nil
		}
		if ch.Transfer != nil && ch.Transfer.ID != "" {
			transferID = ch.Transfer.ID
			return nil
		}
		if ch.TransferGroup == "" {
			return nil
		}
		params := &stripego.TransferListParams{TransferGroup: stripego.String(ch.TransferGroup), Destination: stripego.String(req.SellerAccount)}
		params.Context = ctx
		it := p.api.Transfers.List(params)
		if it.Next() {
			transferID = it.Transfer().ID
		}
		return it.Err()
	})
	if err != nil {
		return "", err
	}
	if transferID == "" {
		return "", &claimflow.PaymentError{Code: CodeNoTransfer, Permanent: true,
			Message: "The order paid the seller no Connect transfer to reverse."}
	}
	var rev *stripego.TransferReversal
	err = p.do(ctx, func(ctx context.Context) error {
		params := &stripego.TransferReversalParams{
			ID: stripego.String(transferID), Amount: stripego.Int64(req.Amount.Amount()),
			RefundApplicationFee: stripego.Bool(true),
			Metadata:             map[string]string{MetadataClaimID: req.ClaimID},
		}
		params.Context = ctx
		params.SetIdempotencyKey(req.IdempotencyKey)
		var err error
		rev, err = p.api.TransferReversals.New(params)
		return err
	})
	if err != nil {
		return "", err
	}
	return rev.ID, nil
}

var _ claimflow.RefundFinder = (*Provider)(nil)

// FindRefund implements claimflow.RefundFinder: the refund on req's
// charge or PaymentIntent that carries req's claim id in its metadata.
func (p *Provider) FindRefund(ctx context.Context, req claimflow.RefundRequest) (claimflow.Refund, bool, error) {
	t, err := check(req)
	if err != nil {
		return claimflow.Refund{}, false, err
	}
	re, err := p.findRefund(ctx, t, req.ClaimID)
	if err != nil || re == nil {
		return claimflow.Refund{}, false, err
	}
	r, err := result(re, req.Amount.Currency())
	if err != nil {
		return claimflow.Refund{}, false, err
	}
	return r, true, nil
}
