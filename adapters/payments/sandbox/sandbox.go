// Package sandbox is the built-in, zero-config payment provider. It keeps
// its refunds in the sandbox_refunds table and behaves like a real
// provider: a refund is made once per idempotency key, some cards are
// declined, and it can be told to be slow or to fail, so people can watch
// the claim workflow retry and recover without refunding twice.
//
//	p := sandbox.New(store.DB(), sandbox.Config{FailRate: 0.2, Latency: 300 * time.Millisecond})
//	refund, err := p.Refund(ctx, claimflow.RefundRequest{IdempotencyKey: "claim/c_1/refund", ...})
//
// Orders whose payment reference starts with "pay_decline" are always
// declined; Config.DeclineAbove declines large refunds.
package sandbox

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// ProviderName is the name orders record for payments made through the
// sandbox.
const ProviderName = order.ProviderSandbox

// DeclinePrefix marks payment references whose refunds are always
// declined, e.g. "pay_decline_1".
const DeclinePrefix = "pay_decline"

// Error codes of the *claimflow.PaymentError values Refund returns.
const (
	// CodeInvalidRequest: the request is malformed (no key, amount not
	// positive, payment not made through the sandbox). Permanent.
	CodeInvalidRequest = "invalid_request"
	// CodeCardDeclined: the order was paid with a declining card
	// (reference starting with DeclinePrefix). Permanent.
	CodeCardDeclined = "card_declined"
	// CodeAmountTooLarge: the amount is above Config.DeclineAbove. Permanent.
	CodeAmountTooLarge = "amount_too_large"
	// CodeIdempotencyMismatch: the key was already used for a refund of
	// another amount or currency. Permanent.
	CodeIdempotencyMismatch = "idempotency_mismatch"
	// CodeProcessingError: an injected fault before anything was recorded.
	// Transient.
	CodeProcessingError = "processing_error"
	// CodeTimeout: an injected fault after the refund was recorded; the
	// answer was lost, and a retry with the same key returns the refund.
	// Transient.
	CodeTimeout = "timeout"
)

// Config tunes how the sandbox misbehaves. The zero Config is a fast,
// reliable provider that declines nothing but DeclinePrefix references.
type Config struct {
	// FailRate is the share (0..1) of calls that fail with a transient
	// error: half of those before anything is recorded, half after the
	// refund is recorded but before answering.
	FailRate float64
	// Latency is added to every call; the call gives up when its context
	// ends first.
	Latency time.Duration
	// SpikeRate is the share (0..1) of calls that take SpikeLatency
	// instead of Latency: a provider's bad moments, which can outlast the
	// caller's timeout.
	SpikeRate    float64
	SpikeLatency time.Duration
	// DeclineAbove, when positive, declines refunds of more than this many
	// minor units.
	DeclineAbove int64
	// Rand drives fault injection, for deterministic tests; nil uses the
	// process-wide random source. The Provider guards it with a mutex.
	Rand *mrand.Rand
}

// Provider is the sandbox payment provider. It is safe for concurrent use.
type Provider struct {
	db    *sql.DB
	cfg   Config
	mu    sync.Mutex // guards cfg.Rand
	calls atomic.Int64
}

var _ claimflow.PaymentProvider = (*Provider)(nil)

// New returns a Provider recording its refunds in db, which must hold the
// sandbox_refunds table (migration 0002).
func New(db *sql.DB, cfg Config) *Provider {
	return &Provider{db: db, cfg: cfg}
}

// Name returns "sandbox", the provider name orders record.
func (p *Provider) Name() string { return ProviderName }

// Calls returns how many times Refund has been called, whatever the
// outcome.
func (p *Provider) Calls() int64 { return p.calls.Load() }

// Refund refunds req.Amount, once per req.IdempotencyKey: a repeated call
// with the same key returns the refund already made. Errors:
//   - a permanent *claimflow.PaymentError with code CodeInvalidRequest,
//     CodeCardDeclined, CodeAmountTooLarge or CodeIdempotencyMismatch;
//   - a transient *claimflow.PaymentError with code CodeProcessingError or
//     CodeTimeout (injected faults, see Config.FailRate);
//   - a plain error, transient, when the context ends during the latency
//     or the database fails.
func (p *Provider) Refund(ctx context.Context, req claimflow.RefundRequest) (claimflow.Refund, error) {
	p.calls.Add(1)
	if err := p.wait(ctx); err != nil {
		return claimflow.Refund{}, fmt.Errorf("sandbox refund %s: %w", req.IdempotencyKey, err)
	}
	if err := p.check(req); err != nil {
		return claimflow.Refund{}, err
	}
	fail, afterRecord := p.roll()
	if fail && !afterRecord {
		return claimflow.Refund{}, &claimflow.PaymentError{
			Code:    CodeProcessingError,
			Message: "The sandbox could not process the refund (injected fault); nothing was refunded.",
		}
	}
	refund, err := p.record(ctx, req)
	if err != nil {
		return claimflow.Refund{}, err
	}
	if fail {
		return claimflow.Refund{}, &claimflow.PaymentError{
			Code:    CodeTimeout,
			Message: "The sandbox made the refund but its answer was lost (injected fault).",
		}
	}
	return refund, nil
}

// RefundsFor lists the refunds recorded for a claim, oldest first.
func (p *Provider) RefundsFor(ctx context.Context, claimID string) ([]claimflow.Refund, error) {
	rows, err := p.db.QueryContext(ctx, `
		SELECT id, status, amount, currency FROM sandbox_refunds
		 WHERE claim_id = $1 ORDER BY created_at, id`, claimID)
	if err != nil {
		return nil, fmt.Errorf("list sandbox refunds of claim %s: %w", claimID, err)
	}
	defer func() { _ = rows.Close() }()
	var out []claimflow.Refund
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.status, &r.amount, &r.currency); err != nil {
			return nil, fmt.Errorf("scan sandbox refund of claim %s: %w", claimID, err)
		}
		refund, err := r.refund()
		if err != nil {
			return nil, fmt.Errorf("sandbox refund of claim %s: %w", claimID, err)
		}
		out = append(out, refund)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sandbox refunds of claim %s: %w", claimID, err)
	}
	return out, nil
}

// wait sleeps for the configured latency (or, for a SpikeRate share of
// calls, SpikeLatency), or until ctx ends.
func (p *Provider) wait(ctx context.Context) error {
	d := p.cfg.Latency
	if p.cfg.SpikeRate > 0 && p.float() < p.cfg.SpikeRate {
		d = p.cfg.SpikeLatency
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("waiting out sandbox latency: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}

// float draws from Config.Rand, or the process-wide source.
func (p *Provider) float() float64 {
	if r := p.cfg.Rand; r != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		return r.Float64()
	}
	return mrand.Float64()
}

// check applies the validation and decline rules; it returns a permanent
// *claimflow.PaymentError or nil.
func (p *Provider) check(req claimflow.RefundRequest) error {
	invalid := func(msg string) error {
		return &claimflow.PaymentError{Code: CodeInvalidRequest, Message: msg, Permanent: true}
	}
	switch {
	case req.IdempotencyKey == "":
		return invalid("An idempotency key is required.")
	case req.Amount.Currency().IsZero():
		return invalid("The refund amount has no currency.")
	case !req.Amount.IsPositive():
		return invalid(fmt.Sprintf("The refund amount must be positive, not %s.", req.Amount))
	case req.Payment.Provider != ProviderName:
		return invalid(fmt.Sprintf("The payment was made through %q, not the sandbox.", req.Payment.Provider))
	case strings.HasPrefix(req.Payment.Reference, DeclinePrefix):
		return &claimflow.PaymentError{
			Code: CodeCardDeclined, Message: "The card issuer declined the refund.", Permanent: true,
		}
	case p.cfg.DeclineAbove > 0 && req.Amount.Amount() > p.cfg.DeclineAbove:
		limit := money.Of(p.cfg.DeclineAbove, req.Amount.Currency())
		return &claimflow.PaymentError{
			Code:      CodeAmountTooLarge,
			Message:   fmt.Sprintf("The refund of %s is above the sandbox limit of %s.", req.Amount, limit),
			Permanent: true,
		}
	}
	return nil
}

// roll decides whether this call fails and, if so, whether it fails after
// recording the refund.
func (p *Provider) roll() (fail, afterRecord bool) {
	if p.cfg.FailRate <= 0 {
		return false, false
	}
	var x float64
	var coin int
	if r := p.cfg.Rand; r != nil {
		p.mu.Lock()
		x, coin = r.Float64(), r.IntN(2)
		p.mu.Unlock()
	} else {
		x, coin = mrand.Float64(), mrand.IntN(2)
	}
	if x >= p.cfg.FailRate {
		return false, false
	}
	return true, coin == 1
}

// record inserts the refund unless its key is already used, and returns
// the refund recorded under the key.
func (p *Provider) record(ctx context.Context, req claimflow.RefundRequest) (claimflow.Refund, error) {
	id := newID()
	// ON CONFLICT waits for a concurrent insert of the same key to commit,
	// so when nothing is inserted the winner's row is there to read.
	res, err := p.db.ExecContext(ctx, `
		INSERT INTO sandbox_refunds
		       (id, idempotency_key, payment_reference, claim_id, amount, currency, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (idempotency_key) DO NOTHING`,
		id, req.IdempotencyKey, req.Payment.Reference, req.ClaimID,
		req.Amount.Amount(), req.Amount.Currency().String(), string(claimflow.RefundSucceeded),
		time.Now().UTC())
	if err != nil {
		return claimflow.Refund{}, fmt.Errorf("record sandbox refund %s: %w", req.IdempotencyKey, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return claimflow.Refund{}, fmt.Errorf("record sandbox refund %s: %w", req.IdempotencyKey, err)
	}
	if n == 1 {
		return claimflow.Refund{
			ID: id, Provider: ProviderName, Status: claimflow.RefundSucceeded, Amount: req.Amount,
		}, nil
	}

	var r row
	err = p.db.QueryRowContext(ctx, `
		SELECT id, status, amount, currency FROM sandbox_refunds WHERE idempotency_key = $1`,
		req.IdempotencyKey).Scan(&r.id, &r.status, &r.amount, &r.currency)
	if errors.Is(err, sql.ErrNoRows) {
		return claimflow.Refund{}, fmt.Errorf("read sandbox refund %s: key conflicted but no row found", req.IdempotencyKey)
	}
	if err != nil {
		return claimflow.Refund{}, fmt.Errorf("read sandbox refund %s: %w", req.IdempotencyKey, err)
	}
	existing, err := r.refund()
	if err != nil {
		return claimflow.Refund{}, fmt.Errorf("read sandbox refund %s: %w", req.IdempotencyKey, err)
	}
	if existing.Amount != req.Amount {
		return claimflow.Refund{}, &claimflow.PaymentError{
			Code: CodeIdempotencyMismatch,
			Message: fmt.Sprintf("The idempotency key %q was already used for a refund of %s, not %s.",
				req.IdempotencyKey, existing.Amount, req.Amount),
			Permanent: true,
		}
	}
	return existing, nil
}

// row is a sandbox_refunds row as Refund and RefundsFor read it.
type row struct {
	id, status, currency string
	amount               int64
}

func (r row) refund() (claimflow.Refund, error) {
	amount, err := money.New(r.amount, strings.TrimSpace(r.currency))
	if err != nil {
		return claimflow.Refund{}, fmt.Errorf("refund %s: %w", r.id, err)
	}
	return claimflow.Refund{
		ID: r.id, Provider: ProviderName, Status: claimflow.RefundStatus(r.status), Amount: amount,
	}, nil
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns a refund id: "re_sbx_" and 24 random base32 characters.
func newID() string {
	b := make([]byte, 15) // 15 bytes are exactly 24 base32 characters
	_, _ = rand.Read(b)   // never fails: crypto/rand crashes the program instead
	return "re_sbx_" + idEncoding.EncodeToString(b)
}

// LookupRefund implements claimflow.RefundLookup from the sandbox's own
// records.
func (p *Provider) LookupRefund(ctx context.Context, refundID string) (claimflow.RefundUpdate, error) {
	var claimID, status string
	err := p.db.QueryRowContext(ctx, `SELECT claim_id, status FROM sandbox_refunds WHERE id = $1`, refundID).Scan(&claimID, &status)
	if err != nil {
		return claimflow.RefundUpdate{}, fmt.Errorf("look up sandbox refund %s: %w", refundID, err)
	}
	return claimflow.RefundUpdate{Provider: ProviderName, RefundID: refundID, ClaimID: claimID, Status: status}, nil
}

var _ claimflow.RefundFinder = (*Provider)(nil)

// FindRefund implements claimflow.RefundFinder: the refund recorded under
// req's idempotency key, if any.
func (p *Provider) FindRefund(ctx context.Context, req claimflow.RefundRequest) (claimflow.Refund, bool, error) {
	var r row
	err := p.db.QueryRowContext(ctx, `SELECT id, status, amount, currency FROM sandbox_refunds WHERE idempotency_key = $1`,
		req.IdempotencyKey).Scan(&r.id, &r.status, &r.amount, &r.currency)
	if errors.Is(err, sql.ErrNoRows) {
		return claimflow.Refund{}, false, nil
	}
	if err != nil {
		return claimflow.Refund{}, false, fmt.Errorf("find sandbox refund %s: %w", req.IdempotencyKey, err)
	}
	ref, err := r.refund()
	if err != nil {
		return claimflow.Refund{}, false, err
	}
	return ref, true, nil
}
