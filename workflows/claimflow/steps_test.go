package claimflow_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/claimflow/storetest"
)

var _ claimflow.PaymentProvider = (*scriptedProvider)(nil)

// balance sums an account's postings in minor units.
func balance(t *testing.T, st *storetest.Memory, account ledger.Account) int64 {
	t.Helper()
	bs, err := st.Balances(context.Background(), account)
	require.NoError(t, err)
	var sum int64
	for _, b := range bs {
		sum += b.Amount()
	}
	return sum
}

// refundResult is one scripted answer of a scriptedProvider.
type refundResult struct {
	refund claimflow.Refund
	err    error
}

// scriptedProvider is a claimflow.PaymentProvider answering each call with
// the next scripted result and recording the requests.
type scriptedProvider struct {
	mu     sync.Mutex
	script []refundResult
	calls  []claimflow.RefundRequest
	during func() // if set, runs inside every call, as a concurrent writer
}

func (p *scriptedProvider) Name() string { return order.ProviderSandbox }

func (p *scriptedProvider) Refund(_ context.Context, req claimflow.RefundRequest) (claimflow.Refund, error) {
	if p.during != nil {
		p.during()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, req)
	if len(p.calls) > len(p.script) {
		return claimflow.Refund{}, fmt.Errorf("scriptedProvider: unscripted call %d", len(p.calls))
	}
	r := p.script[len(p.calls)-1]
	return r.refund, r.err
}

var (
	stepFiledAt = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	stepNow     = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	eur         = money.MustCurrency("EUR")
)

const (
	stepClaimID  = "clm_step1"
	stepSellerID = "sel_9"
)

// stepBundle is a claim in the store and the steps that act on it.
type stepBundle struct {
	store    *storetest.Memory
	provider *scriptedProvider
	refund   *claimflow.RefundStep
	charge   *claimflow.ChargeSellerStep
	order    *order.Order
	amount   money.Money
}

// setupSteps stores a claim for the whole of an order paid through
// paidThrough, moved to status through the domain's methods; only the
// sandbox provider is configured, answering with script.
func setupSteps(t *testing.T, paidThrough string, status claim.Status, script ...refundResult) *stepBundle {
	t.Helper()
	paid := stepFiledAt.Add(-72 * time.Hour)
	o, err := order.New(order.Params{
		ID: "ord_step1", BuyerID: "shp_7", SellerID: stepSellerID, Currency: "EUR", Amount: 2500,
		Items:   []order.Item{{SKU: "sku_1", Name: "Shoes", Quantity: 2, UnitAmount: 1250}},
		Payment: order.Payment{Provider: paidThrough, Reference: "pay_1"}, PaidAt: &paid,
	})
	require.NoError(t, err)
	c, err := claim.New(stepClaimID, o, claim.Request{ShopperID: "shp_7", Reason: "damaged", Description: "arrived torn"},
		o.Amount(), stepFiledAt)
	require.NoError(t, err)
	moveClaim(t, c, status)

	store := storetest.NewMemory()
	store.Put(o, c)
	provider := &scriptedProvider{script: script}
	// A clock outside UTC: the steps must record UTC times.
	clock := func() time.Time { return stepNow.In(time.FixedZone("CET", 3600)) }
	return &stepBundle{
		store:    store,
		provider: provider,
		refund: &claimflow.RefundStep{Store: store, Providers: claimflow.Providers{order.ProviderSandbox: provider},
			Now: clock, Log: slog.New(slog.DiscardHandler)},
		charge: &claimflow.ChargeSellerStep{Store: store, Now: clock},
		order:  o,
		amount: money.Of(2500, eur),
	}
}

// moveClaim drives a submitted claim to status the way the engine would.
func moveClaim(t *testing.T, c *claim.Claim, status claim.Status) {
	t.Helper()
	at := stepFiledAt
	ref := claim.RefundRef{Provider: order.ProviderSandbox, ID: "re_old", At: at}
	approve := func() error { return c.Approve(claim.SystemActor, "", nil, at) }
	refunded := func() error { return c.MarkRefunded(ref, at) }
	charged := func() error { return c.ChargeSeller(at, "", "", at.Add(72*time.Hour)) }
	paths := map[claim.Status][]func() error{
		claim.StatusSubmitted:     nil,
		claim.StatusInReview:      {func() error { return c.SendToReview(claim.SystemActor, "", nil, at.Add(24*time.Hour), at) }},
		claim.StatusRejected:      {func() error { return c.Reject(claim.SystemActor, "", nil, at) }},
		claim.StatusApproved:      {approve},
		claim.StatusRefundPending: {approve, func() error { return c.MarkRefundPending(ref, at) }},
		claim.StatusRefundFailed:  {approve, func() error { return c.FailRefund(claim.Failure{Code: "x", Reason: "y"}, at.Add(24*time.Hour), at) }},
		claim.StatusRefunded:      {approve, refunded},
		claim.StatusSellerCharged: {approve, refunded, charged},
		claim.StatusClosed:        {approve, refunded, charged, func() error { return c.Close(at) }},
	}
	path, ok := paths[status]
	require.True(t, ok, "no path to %s", status)
	for _, move := range path {
		require.NoError(t, move())
	}
	require.Equal(t, status, c.Status())
}

func succeeded(status claimflow.RefundStatus) refundResult {
	return refundResult{refund: claimflow.Refund{ID: "re_1", Provider: order.ProviderSandbox, Status: status,
		Amount: money.Of(2500, eur)}}
}

// requireUntouched checks that nothing was written since setup.
func requireUntouched(t *testing.T, b *stepBundle, status claim.Status) {
	t.Helper()
	c := b.store.Claim(t, stepClaimID)
	require.Equal(t, status, c.Status())
	require.Zero(t, b.store.Updates())
	require.Empty(t, b.store.Events(stepClaimID))
	require.Empty(t, b.store.Ledger())
	require.Empty(t, b.store.Scheduled(stepClaimID).Steps)
}

func TestRefundStepRefundsApprovedClaim(t *testing.T) {
	t.Parallel()
	b := setupSteps(t, order.ProviderSandbox, claim.StatusApproved, succeeded(claimflow.RefundSucceeded))

	require.NoError(t, b.refund.Run(context.Background(), stepClaimID, 1, 3))

	require.Equal(t, []claimflow.RefundRequest{{
		IdempotencyKey: "claim/clm_step1/refund", ClaimID: stepClaimID, OrderID: "ord_step1",
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_1"}, Amount: b.amount,
	}}, b.provider.calls)
	require.Equal(t, claimflow.RefundKey(stepClaimID, 1), b.provider.calls[0].IdempotencyKey)

	c := b.store.Claim(t, stepClaimID)
	require.Equal(t, claim.StatusRefunded, c.Status())
	require.Equal(t, claim.RefundRef{Provider: order.ProviderSandbox, ID: "re_1", At: stepNow}, c.Refund())
	require.Zero(t, c.Failure())
	require.Equal(t, stepNow, c.UpdatedAt())
	require.Equal(t, []claim.Event{{
		Type: "refunded", From: claim.StatusApproved, To: claim.StatusRefunded, Actor: claim.SystemActor,
		Data: map[string]any{"provider": order.ProviderSandbox, "refund_id": "re_1"}, At: stepNow,
	}}, b.store.Events(stepClaimID))

	require.Len(t, b.store.Ledger(), 1)
	tx := b.store.Ledger()[0]
	require.Equal(t, claimflow.RefundKey(stepClaimID, 1), tx.Key())
	require.Equal(t, ledger.KindRefund, tx.Kind())
	require.Equal(t, []ledger.Posting{
		{Account: ledger.ClaimsClearing, Amount: money.Of(2500, eur)},
		{Account: ledger.ProviderCash(order.ProviderSandbox), Amount: money.Of(-2500, eur)},
	}, tx.Postings())
	require.Equal(t, []claimflow.Step{claimflow.StepChargeSeller}, b.store.Scheduled(stepClaimID).Steps)
}

func TestRefundStepTwiceRefundsOnce(t *testing.T) {
	t.Parallel()
	b := setupSteps(t, order.ProviderSandbox, claim.StatusApproved, succeeded(claimflow.RefundSucceeded))
	ctx := context.Background()

	require.NoError(t, b.refund.Run(ctx, stepClaimID, 1, 3))
	require.NoError(t, b.refund.Run(ctx, stepClaimID, 1, 3))

	require.Len(t, b.provider.calls, 1, "the second run finds the claim refunded")
	require.Equal(t, 1, b.store.Updates())
	require.Len(t, b.store.Events(stepClaimID), 1)
	require.Len(t, b.store.Ledger(), 1)
	require.Equal(t, []claimflow.Step{claimflow.StepChargeSeller}, b.store.Scheduled(stepClaimID).Steps)
	require.Equal(t, claim.StatusRefunded, b.store.Claim(t, stepClaimID).Status())
}

func TestRefundStepClaimMovedDuringRefund(t *testing.T) {
	t.Parallel()
	b := setupSteps(t, order.ProviderSandbox, claim.StatusApproved, succeeded(claimflow.RefundSucceeded))
	ctx := context.Background()
	// Another run of the step records the refund while this one waits for
	// the provider.
	b.provider.during = func() {
		require.NoError(t, b.store.UpdateClaim(ctx, stepClaimID, func(c *claim.Claim) (claimflow.Effects, error) {
			return claimflow.Effects{}, c.MarkRefunded(claim.RefundRef{Provider: order.ProviderSandbox, ID: "re_1", At: stepFiledAt}, stepFiledAt)
		}))
	}

	require.NoError(t, b.refund.Run(ctx, stepClaimID, 1, 3))

	require.Len(t, b.provider.calls, 1)
	require.Equal(t, 1, b.store.Updates(), "only the other run's update")
	require.Len(t, b.store.Events(stepClaimID), 1)
	require.Equal(t, stepFiledAt, b.store.Events(stepClaimID)[0].At)
	require.Empty(t, b.store.Ledger())
	require.Empty(t, b.store.Scheduled(stepClaimID).Steps)
}

func TestRefundStepPending(t *testing.T) {
	t.Parallel()
	b := setupSteps(t, order.ProviderSandbox, claim.StatusApproved, succeeded(claimflow.RefundPending))

	require.NoError(t, b.refund.Run(context.Background(), stepClaimID, 1, 3))

	c := b.store.Claim(t, stepClaimID)
	require.Equal(t, claim.StatusRefundPending, c.Status())
	require.Equal(t, claim.RefundRef{Provider: order.ProviderSandbox, ID: "re_1", At: stepNow}, c.Refund())
	require.Equal(t, []claim.Event{{
		Type: "refund_pending", From: claim.StatusApproved, To: claim.StatusRefundPending, Actor: claim.SystemActor,
		Data: map[string]any{"provider": order.ProviderSandbox, "refund_id": "re_1"}, At: stepNow,
	}}, b.store.Events(stepClaimID))
	require.Empty(t, b.store.Ledger(), "no money moved yet")
	require.Empty(t, b.store.Scheduled(stepClaimID).Steps)
	require.Len(t, b.provider.calls, 1)
}

func TestRefundStepPermanentError(t *testing.T) {
	t.Parallel()
	declined := &claimflow.PaymentError{Permanent: true, Code: "card_declined", Message: "The card was closed."}
	tests := []struct {
		name string
		give error
	}{
		{name: "payment error", give: declined},
		{name: "wrapped payment error", give: fmt.Errorf("stripe refund: %w", declined)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupSteps(t, order.ProviderSandbox, claim.StatusApproved, refundResult{err: tt.give})

			require.NoError(t, b.refund.Run(context.Background(), stepClaimID, 1, 3), "a permanent error is not retried")

			c := b.store.Claim(t, stepClaimID)
			require.Equal(t, claim.StatusRefundFailed, c.Status())
			require.Equal(t, claim.Failure{Code: "card_declined", Reason: "The card was closed."}, c.Failure())
			require.Zero(t, c.Refund())
			require.Equal(t, []claim.Event{{
				Type: "refund_failed", From: claim.StatusApproved, To: claim.StatusRefundFailed, Actor: claim.SystemActor,
				Note: "The card was closed.", Data: map[string]any{"code": "card_declined"}, At: stepNow,
			}}, b.store.Events(stepClaimID))
			require.Empty(t, b.store.Ledger())
			require.Empty(t, b.store.Scheduled(stepClaimID).Steps)
			require.Len(t, b.provider.calls, 1)
		})
	}
}

func TestRefundStepTransientErrorIsRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		give    error
		attempt int
	}{
		{name: "transient payment error, first attempt", attempt: 1,
			give: &claimflow.PaymentError{Code: "rate_limited", Message: "Too many requests."}},
		{name: "transient payment error, second attempt", attempt: 2,
			give: &claimflow.PaymentError{Code: "rate_limited", Message: "Too many requests."}},
		{name: "plain error", attempt: 1, give: errors.New("connection reset by peer")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupSteps(t, order.ProviderSandbox, claim.StatusApproved, refundResult{err: tt.give})

			err := b.refund.Run(context.Background(), stepClaimID, tt.attempt, 3)

			require.ErrorIs(t, err, tt.give, "returned for a retry")
			require.Len(t, b.provider.calls, 1)
			requireUntouched(t, b, claim.StatusApproved)
		})
	}
}

func TestRefundStepLastAttemptFailsClaim(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		give    error
		attempt int
	}{
		{name: "transient payment error", attempt: 3,
			give: &claimflow.PaymentError{Code: "rate_limited", Message: "Too many requests."}},
		{name: "plain error", attempt: 3, give: errors.New("connection reset by peer")},
		{name: "past the last attempt", attempt: 4, give: errors.New("connection reset by peer")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupSteps(t, order.ProviderSandbox, claim.StatusApproved, refundResult{err: tt.give})

			require.NoError(t, b.refund.Run(context.Background(), stepClaimID, tt.attempt, 3))

			c := b.store.Claim(t, stepClaimID)
			require.Equal(t, claim.StatusRefundFailed, c.Status())
			f := c.Failure()
			require.Equal(t, claim.FailureRetriesExhausted, f.Code)
			require.Equal(t, fmt.Sprintf("The payment provider failed %d times in a row.", tt.attempt), f.Reason)
			require.NotContains(t, f.Reason, "connection reset", "shoppers see the reason: no internals")
			require.Len(t, b.store.Events(stepClaimID), 1)
			require.Equal(t, f.Reason, b.store.Events(stepClaimID)[0].Note)
			require.Equal(t, map[string]any{"code": "retries_exhausted"}, b.store.Events(stepClaimID)[0].Data)
			require.Empty(t, b.store.Ledger())
			require.Empty(t, b.store.Scheduled(stepClaimID).Steps)
		})
	}
}

func TestRefundStepProviderNotConfigured(t *testing.T) {
	t.Parallel()
	b := setupSteps(t, order.ProviderStripe, claim.StatusApproved, succeeded(claimflow.RefundSucceeded))

	require.NoError(t, b.refund.Run(context.Background(), stepClaimID, 1, 3))

	require.Empty(t, b.provider.calls)
	c := b.store.Claim(t, stepClaimID)
	require.Equal(t, claim.StatusRefundFailed, c.Status())
	require.Equal(t, claim.FailureProviderNotConfigured, c.Failure().Code)
	require.Contains(t, c.Failure().Reason, `"stripe"`)
	require.Len(t, b.store.Events(stepClaimID), 1)
	require.Equal(t, claim.StatusRefundFailed, b.store.Events(stepClaimID)[0].To)
	require.Empty(t, b.store.Ledger())
	require.Empty(t, b.store.Scheduled(stepClaimID).Steps)
}

func TestRefundStepLeavesOtherStatusesAlone(t *testing.T) {
	t.Parallel()
	tests := []claim.Status{
		claim.StatusSubmitted, claim.StatusInReview, claim.StatusRejected, claim.StatusRefundPending,
		claim.StatusRefunded, claim.StatusRefundFailed, claim.StatusSellerCharged, claim.StatusClosed,
	}
	for _, give := range tests {
		t.Run(give.String(), func(t *testing.T) {
			t.Parallel()
			b := setupSteps(t, order.ProviderSandbox, give, succeeded(claimflow.RefundSucceeded))
			version := b.store.Claim(t, stepClaimID).Version()

			require.NoError(t, b.refund.Run(context.Background(), stepClaimID, 1, 3))

			require.Empty(t, b.provider.calls)
			requireUntouched(t, b, give)
			require.Equal(t, version, b.store.Claim(t, stepClaimID).Version())
		})
	}
}

func TestRefundStepMissingClaimOrOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	b := setupSteps(t, order.ProviderSandbox, claim.StatusApproved, succeeded(claimflow.RefundSucceeded))
	err := b.refund.Run(ctx, "clm_nope", 1, 3)
	var nf *claimflow.NotFoundError
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "claim", nf.Resource)

	b.store.DeleteOrder(b.order.ID())
	err = b.refund.Run(ctx, stepClaimID, 1, 3)
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "order", nf.Resource)

	require.Empty(t, b.provider.calls)
	requireUntouched(t, b, claim.StatusApproved)
}

func TestChargeSellerStepClosesRefundedClaim(t *testing.T) {
	t.Parallel()
	b := setupSteps(t, order.ProviderSandbox, claim.StatusRefunded)
	refund := b.store.Claim(t, stepClaimID).Refund()

	require.NoError(t, b.charge.Run(context.Background(), stepClaimID, 1, 10))

	c := b.store.Claim(t, stepClaimID)
	require.Equal(t, claim.StatusClosed, c.Status())
	require.Equal(t, refund, c.Refund(), "the refund is kept")
	// Event data reads back as JSON carries it: the amount is a float64.
	require.Equal(t, []claim.Event{
		{Type: "seller_charged", From: claim.StatusRefunded, To: claim.StatusSellerCharged, Actor: claim.SystemActor,
			Data: map[string]any{"seller_id": stepSellerID, "amount": float64(2500), "currency": "EUR", "contest_by": "2026-12-04T09:30:00Z"}, At: stepNow},
		{Type: "closed", From: claim.StatusSellerCharged, To: claim.StatusClosed, Actor: claim.SystemActor, At: stepNow},
	}, b.store.Events(stepClaimID))
	require.Equal(t, claim.Chargeback{Status: claim.ChargebackOpen, ChargedAt: stepNow, ContestBy: stepNow.Add(72 * time.Hour)}, c.Chargeback(),
		"the seller may contest for the default 72 hours")
	require.Equal(t, []claimflow.Timer{{Step: claimflow.StepContestDeadline, At: stepNow.Add(72 * time.Hour)}}, b.store.Scheduled(stepClaimID).Timers)

	require.Len(t, b.store.Ledger(), 1)
	tx := b.store.Ledger()[0]
	require.Equal(t, claimflow.ChargeSellerKey(stepClaimID, 1), tx.Key())
	require.Equal(t, "claim/clm_step1/charge_seller", tx.Key())
	require.Equal(t, ledger.KindSellerCharge, tx.Kind())
	require.Equal(t, []ledger.Posting{
		{Account: ledger.SellerReceivable(stepSellerID), Amount: money.Of(2500, eur)},
		{Account: ledger.ClaimsClearing, Amount: money.Of(-2500, eur)},
	}, tx.Postings())
	require.Empty(t, b.store.Scheduled(stepClaimID).Steps)
}

func TestChargeSellerStepTwiceChargesOnce(t *testing.T) {
	t.Parallel()
	b := setupSteps(t, order.ProviderSandbox, claim.StatusRefunded)
	ctx := context.Background()

	require.NoError(t, b.charge.Run(ctx, stepClaimID, 1, 10))
	require.NoError(t, b.charge.Run(ctx, stepClaimID, 1, 10))

	require.Equal(t, 1, b.store.Updates())
	require.Len(t, b.store.Events(stepClaimID), 2)
	require.Len(t, b.store.Ledger(), 1)
	require.Equal(t, int64(2500), balance(t, b.store, ledger.SellerReceivable(stepSellerID)))
	require.Equal(t, claim.StatusClosed, b.store.Claim(t, stepClaimID).Status())
}

func TestChargeSellerStepLeavesOtherStatusesAlone(t *testing.T) {
	t.Parallel()
	tests := []claim.Status{
		claim.StatusSubmitted, claim.StatusInReview, claim.StatusRejected, claim.StatusApproved,
		claim.StatusRefundPending, claim.StatusRefundFailed, claim.StatusSellerCharged, claim.StatusClosed,
	}
	for _, give := range tests {
		t.Run(give.String(), func(t *testing.T) {
			t.Parallel()
			b := setupSteps(t, order.ProviderSandbox, give)

			require.NoError(t, b.charge.Run(context.Background(), stepClaimID, 1, 10))

			requireUntouched(t, b, give)
		})
	}
}

func TestChargeSellerStepMissingClaim(t *testing.T) {
	t.Parallel()
	b := setupSteps(t, order.ProviderSandbox, claim.StatusRefunded)
	require.ErrorIs(t, b.charge.Run(context.Background(), "clm_nope", 1, 10), claimflow.ErrNotFound)
	requireUntouched(t, b, claim.StatusRefunded)
}

func TestRefundThenChargeSellerBalancesLedger(t *testing.T) {
	t.Parallel()
	b := setupSteps(t, order.ProviderSandbox, claim.StatusApproved, succeeded(claimflow.RefundSucceeded))
	ctx := context.Background()

	require.NoError(t, b.refund.Run(ctx, stepClaimID, 1, 3))
	require.Equal(t, []claimflow.Step{claimflow.StepChargeSeller}, b.store.Scheduled(stepClaimID).Steps)
	require.NoError(t, b.charge.Run(ctx, stepClaimID, 1, 10))

	require.Equal(t, claim.StatusClosed, b.store.Claim(t, stepClaimID).Status())
	require.Equal(t, int64(-2500), balance(t, b.store, ledger.ProviderCash(order.ProviderSandbox)))
	require.Zero(t, balance(t, b.store, ledger.ClaimsClearing), "charged on in full")
	require.Equal(t, int64(2500), balance(t, b.store, ledger.SellerReceivable(stepSellerID)))
	types := make([]string, len(b.store.Events(stepClaimID)))
	for i, ev := range b.store.Events(stepClaimID) {
		types[i] = ev.Type
	}
	require.Equal(t, []string{"refunded", "seller_charged", "closed"}, types)
}

// TestMemoryStoreContract holds the in-memory store the step tests run
// on to the contract the PostgreSQL store keeps.
func TestMemoryStoreContract(t *testing.T) {
	t.Parallel()
	shared := storetest.NewMemory()
	storetest.Run(t, storetest.Harness{
		New:      func(*testing.T) storetest.Store { return shared },
		NewEmpty: func(*testing.T) storetest.Store { return storetest.NewMemory() },
		Scheduled: func(_ *testing.T, st storetest.Store, claimID string) storetest.Scheduled {
			return st.(*storetest.Memory).Scheduled(claimID)
		},
	})
}

// TestRefundStepAmountMismatch: a provider that refunds another amount
// than asked sends the claim to a person and writes no ledger entry.
func TestRefundStepAmountMismatch(t *testing.T) {
	t.Parallel()
	b := setupSteps(t, order.ProviderSandbox, claim.StatusApproved, refundResult{refund: claimflow.Refund{
		ID: "re_odd", Provider: order.ProviderSandbox, Status: claimflow.RefundSucceeded, Amount: money.Of(1, eur),
	}})
	require.NoError(t, b.refund.Run(context.Background(), stepClaimID, 1, 3))
	c := b.store.Claim(t, stepClaimID)
	require.Equal(t, claim.StatusRefundFailed, c.Status())
	require.Equal(t, claim.FailureAmountMismatch, c.Failure().Code)
	require.Contains(t, c.Failure().Reason, "re_odd")
	require.Empty(t, b.store.Ledger())
	require.Empty(t, b.store.Scheduled(stepClaimID).Steps)
}

// fakeRecoverer answers RecoverFromSeller with err or "trr_1", recording calls.
type fakeRecoverer struct {
	err   error
	calls []claimflow.RecoverRequest
}

func (f *fakeRecoverer) RecoverFromSeller(_ context.Context, req claimflow.RecoverRequest) (string, error) {
	f.calls = append(f.calls, req)
	if f.err != nil {
		return "", f.err
	}
	return "trr_1", nil
}

type fakeSellers struct{ account string }

func (f fakeSellers) GetSeller(_ context.Context, id string) (*seller.Seller, error) {
	return seller.Rehydrate(seller.Params{ID: id, Name: "S", StripeAccount: f.account}), nil
}

func TestChargeSellerRecoveryModes(t *testing.T) {
	t.Parallel()
	declined := &claimflow.PaymentError{Code: "no_transfer", Message: "no transfer", Permanent: true}
	tests := []struct {
		name           string
		giveWithRefund bool
		giveRecoverer  *fakeRecoverer
		giveAccount    string
		giveAttempt    int
		wantErr        bool
		wantRecovered  bool
		wantNote       bool
	}{
		{name: "ledger only", giveAttempt: 1},
		{name: "reversed with the refund", giveWithRefund: true, giveAttempt: 1, wantRecovered: true},
		{name: "transfer reversed", giveRecoverer: &fakeRecoverer{}, giveAccount: "acct_1", giveAttempt: 1, wantRecovered: true},
		{name: "refused for good", giveRecoverer: &fakeRecoverer{err: declined}, giveAccount: "acct_1", giveAttempt: 1, wantNote: true},
		{name: "seller without account", giveRecoverer: &fakeRecoverer{}, giveAttempt: 1, wantNote: true},
		{name: "transient, retried", giveRecoverer: &fakeRecoverer{err: errors.New("timeout")}, giveAccount: "acct_1", giveAttempt: 1, wantErr: true},
		{name: "transient, last attempt", giveRecoverer: &fakeRecoverer{err: errors.New("timeout")}, giveAccount: "acct_1", giveAttempt: 10, wantNote: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupSteps(t, order.ProviderSandbox, claim.StatusRefunded)
			b.charge.RecoveredWithRefund = tt.giveWithRefund
			if tt.giveRecoverer != nil {
				b.charge.Recoverer = tt.giveRecoverer
				b.charge.Sellers = fakeSellers{account: tt.giveAccount}
			}
			err := b.charge.Run(context.Background(), stepClaimID, tt.giveAttempt, 10)
			if tt.wantErr {
				require.Error(t, err)
				require.Equal(t, claim.StatusRefunded, b.store.Claim(t, stepClaimID).Status())
				require.Empty(t, b.store.Ledger())
				return
			}
			require.NoError(t, err)
			require.Equal(t, claim.StatusClosed, b.store.Claim(t, stepClaimID).Status())
			wantTxs := 1
			if tt.wantRecovered {
				wantTxs = 2
			}
			require.Len(t, b.store.Ledger(), wantTxs)
			require.Equal(t, int64(map[bool]int64{true: 0, false: 2500}[tt.wantRecovered]), balance(t, b.store, ledger.SellerReceivable(stepSellerID)))
			if tt.wantRecovered {
				require.Equal(t, claimflow.SellerRecoveryKey(stepClaimID, 1), b.store.Ledger()[1].Key())
				require.Equal(t, ledger.KindSellerRecovery, b.store.Ledger()[1].Kind())
				require.NotEmpty(t, b.store.Events(stepClaimID)[0].Data["recovery"])
			}
			require.Equal(t, tt.wantNote, b.store.Events(stepClaimID)[0].Note != "", b.store.Events(stepClaimID)[0].Note)
			if tt.giveRecoverer != nil && tt.giveAccount != "" {
				require.Equal(t, claimflow.SellerRecoveryKey(stepClaimID, 1), tt.giveRecoverer.calls[0].IdempotencyKey)
				require.Equal(t, "acct_1", tt.giveRecoverer.calls[0].SellerAccount)
			}
		})
	}
}

// findingProvider is a scriptedProvider that can also be asked whether a
// refund was made.
type findingProvider struct {
	*scriptedProvider
	found   *claimflow.Refund
	findErr error
}

func (p *findingProvider) FindRefund(_ context.Context, _ claimflow.RefundRequest) (claimflow.Refund, bool, error) {
	if p.findErr != nil {
		return claimflow.Refund{}, false, p.findErr
	}
	if p.found == nil {
		return claimflow.Refund{}, false, nil
	}
	return *p.found, true, nil
}

// TestRefundStepLastAttemptAsksTheProvider: when the last try fails
// without saying whether the money moved, the step asks the provider; a
// refund that was made is recorded, never failed.
func TestRefundStepLastAttemptAsksTheProvider(t *testing.T) {
	t.Parallel()
	made := claimflow.Refund{ID: "re_made", Provider: order.ProviderSandbox, Status: claimflow.RefundSucceeded, Amount: money.Of(2500, eur)}
	tests := []struct {
		name       string
		giveFound  *claimflow.Refund
		giveErr    error
		wantStatus claim.Status
		wantCode   claim.FailureCode
	}{
		{name: "it was made", giveFound: &made, wantStatus: claim.StatusRefunded},
		{name: "it was not", wantStatus: claim.StatusRefundFailed, wantCode: claim.FailureRetriesExhausted},
		{name: "nobody knows", giveErr: errors.New("still down"), wantStatus: claim.StatusRefundFailed, wantCode: claim.FailureOutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupSteps(t, order.ProviderSandbox, claim.StatusApproved, refundResult{err: errors.New("timeout")})
			b.refund.Providers = claimflow.Providers{order.ProviderSandbox: &findingProvider{scriptedProvider: b.provider, found: tt.giveFound, findErr: tt.giveErr}}
			require.NoError(t, b.refund.Run(context.Background(), stepClaimID, 3, 3))
			c := b.store.Claim(t, stepClaimID)
			require.Equal(t, tt.wantStatus, c.Status())
			require.Equal(t, tt.wantCode, c.Failure().Code)
			if tt.giveFound != nil {
				require.Equal(t, "re_made", c.Refund().ID)
				require.Len(t, b.store.Ledger(), 1)
			} else {
				require.Empty(t, b.store.Ledger())
			}
		})
	}
}

// TestRefundStepChargesInOneStep: with the charge step at hand, a refund
// the provider settles at once is recorded, charged to the seller and
// closed in one update: one ledger transaction each for the refund and
// the charge, the contest timer, and no charge step left to run.
func TestRefundStepChargesInOneStep(t *testing.T) {
	t.Parallel()
	b := setupSteps(t, order.ProviderSandbox, claim.StatusApproved, succeeded(claimflow.RefundSucceeded))
	b.refund.Charge = b.charge
	ctx := context.Background()

	require.NoError(t, b.refund.Run(ctx, stepClaimID, 1, 3))
	require.NoError(t, b.refund.Run(ctx, stepClaimID, 1, 3), "a second run finds the claim closed")

	require.Len(t, b.provider.calls, 1)
	require.Equal(t, 1, b.store.Updates(), "one transaction")
	c := b.store.Claim(t, stepClaimID)
	require.Equal(t, claim.StatusClosed, c.Status())
	require.Equal(t, claim.RefundRef{Provider: order.ProviderSandbox, ID: "re_1", At: stepNow}, c.Refund())
	require.Equal(t, claim.Chargeback{Status: claim.ChargebackOpen, ChargedAt: stepNow, ContestBy: stepNow.Add(72 * time.Hour)}, c.Chargeback())
	var types []string
	for _, ev := range b.store.Events(stepClaimID) {
		types = append(types, ev.Type)
		require.Equal(t, stepNow, ev.At)
	}
	require.Equal(t, []string{"refunded", "seller_charged", "closed"}, types)

	txs := b.store.Ledger()
	require.Len(t, txs, 2)
	require.Equal(t, claimflow.RefundKey(stepClaimID, 1), txs[0].Key())
	require.Equal(t, claimflow.ChargeSellerKey(stepClaimID, 1), txs[1].Key())
	require.Equal(t, int64(0), balance(t, b.store, ledger.ClaimsClearing), "the clearing account nets to zero")
	require.Equal(t, int64(2500), balance(t, b.store, ledger.SellerReceivable(stepSellerID)))
	require.Equal(t, int64(-2500), balance(t, b.store, ledger.ProviderCash(order.ProviderSandbox)))
	require.Empty(t, b.store.Scheduled(stepClaimID).Steps, "no charge step")
	require.Equal(t, []claimflow.Timer{{Step: claimflow.StepContestDeadline, At: stepNow.Add(72 * time.Hour)}}, b.store.Scheduled(stepClaimID).Timers)
}

// TestRefundStepChargesInOneStepOnlyWhenItCan: a refund left pending at
// the provider waits for its word, and a charge that must call the
// provider (a transfer reversal) stays a step of its own; with the
// refund recovering from the seller, the charge records the recovery in
// the same update.
func TestRefundStepChargesInOneStepOnlyWhenItCan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		give       claimflow.RefundStatus
		withRefund bool
		recoverer  bool
		wantStatus claim.Status
		wantSteps  []claimflow.Step
		wantTxs    []string
	}{
		{name: "pending at the provider", give: claimflow.RefundPending, wantStatus: claim.StatusRefundPending},
		{name: "transfer reversal", give: claimflow.RefundSucceeded, recoverer: true, wantStatus: claim.StatusRefunded,
			wantSteps: []claimflow.Step{claimflow.StepChargeSeller}, wantTxs: []string{claimflow.RefundKey(stepClaimID, 1)}},
		{name: "reversed with the refund", give: claimflow.RefundSucceeded, withRefund: true, wantStatus: claim.StatusClosed,
			wantTxs: []string{claimflow.RefundKey(stepClaimID, 1), claimflow.ChargeSellerKey(stepClaimID, 1), claimflow.SellerRecoveryKey(stepClaimID, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupSteps(t, order.ProviderSandbox, claim.StatusApproved, succeeded(tt.give))
			b.charge.RecoveredWithRefund = tt.withRefund
			rec := &fakeRecoverer{}
			if tt.recoverer {
				b.charge.Recoverer, b.charge.Sellers = rec, fakeSellers{account: "acct_1"}
			}
			b.refund.Charge = b.charge

			require.NoError(t, b.refund.Run(context.Background(), stepClaimID, 1, 3))

			require.Equal(t, tt.wantStatus, b.store.Claim(t, stepClaimID).Status())
			require.Equal(t, tt.wantSteps, b.store.Scheduled(stepClaimID).Steps)
			var keys []string
			for _, tx := range b.store.Ledger() {
				keys = append(keys, tx.Key())
			}
			require.Equal(t, tt.wantTxs, keys)
			require.Empty(t, rec.calls, "the provider is not asked to recover within the refund's step")
		})
	}
}

// TestSettleChargesInOneStep: the provider's later word that a pending
// refund succeeded records the refund and, with the charge step at hand,
// charges the seller and closes the claim in the same update; without it
// the charge is scheduled.
func TestSettleChargesInOneStep(t *testing.T) {
	t.Parallel()
	for _, inline := range []bool{true, false} {
		t.Run(map[bool]string{true: "inline", false: "scheduled"}[inline], func(t *testing.T) {
			t.Parallel()
			b := setupSteps(t, order.ProviderSandbox, claim.StatusRefundPending)
			settler := &claimflow.Settler{Store: b.store, Now: func() time.Time { return stepNow }}
			if inline {
				settler.Charge = b.charge
			}
			u := claimflow.RefundUpdate{Provider: order.ProviderSandbox, RefundID: "re_old", ClaimID: stepClaimID, Status: "succeeded"}

			require.NoError(t, settler.Settle(context.Background(), u))
			require.NoError(t, settler.Settle(context.Background(), u), "a repeated word changes nothing")

			require.Equal(t, 1, b.store.Updates())
			var keys []string
			for _, tx := range b.store.Ledger() {
				keys = append(keys, tx.Key())
			}
			if !inline {
				require.Equal(t, claim.StatusRefunded, b.store.Claim(t, stepClaimID).Status())
				require.Equal(t, []string{claimflow.RefundKey(stepClaimID, 1)}, keys)
				require.Equal(t, []claimflow.Step{claimflow.StepChargeSeller}, b.store.Scheduled(stepClaimID).Steps)
				return
			}
			require.Equal(t, claim.StatusClosed, b.store.Claim(t, stepClaimID).Status())
			require.Equal(t, []string{claimflow.RefundKey(stepClaimID, 1), claimflow.ChargeSellerKey(stepClaimID, 1)}, keys)
			require.Empty(t, b.store.Scheduled(stepClaimID).Steps)
			require.Equal(t, int64(2500), balance(t, b.store, ledger.SellerReceivable(stepSellerID)))
			require.Equal(t, int64(0), balance(t, b.store, ledger.ClaimsClearing))
		})
	}
}
