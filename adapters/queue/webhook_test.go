package queue_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/payments/stripe"
	"github.com/claimsd/claimsd/adapters/payments/stripe/stripemock"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/adapters/queue"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

const whSecret = "whsec_test_secret"

// hookedRouter is the API with Stripe's webhook endpoint.
func hookedRouter(st *pgstore.Store) http.Handler {
	return httpapi.New(httpapi.Deps{
		Claims: claimflow.NewService(st, policyfile.Default(), time.Now), Secret: secret,
		StripeWebhook: &stripe.Webhook{Secret: whSecret, Events: st, Settler: &claimflow.Settler{Store: st, Now: time.Now}},
	})
}

// deliver posts a Stripe event about a refund, signed at the given time.
func deliver(t *testing.T, h http.Handler, eventID, eventType, refundID, claimID, status, reason string, at time.Time) (int, string) {
	t.Helper()
	payload := fmt.Sprintf(`{"id":%q,"object":"event","api_version":"2023-10-16","type":%q,"created":%d,
		"data":{"object":{"id":%q,"object":"refund","amount":100,"currency":"eur","status":%q,"failure_reason":%q,
		"metadata":{"claim_id":%q}}}}`, eventID, eventType, at.Unix(), refundID, status, reason, claimID)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(payload), Secret: whSecret, Timestamp: at})
	req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", strings.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", signed.Header)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func eventCount(t *testing.T, st *pgstore.Store, claimID string) int {
	t.Helper()
	var n int
	require.NoError(t, st.DB().QueryRowContext(context.Background(), `SELECT count(*) FROM claim_events WHERE claim_id = $1`, claimID).Scan(&n))
	return n
}

// TestLateRefundFailureReversesClaim: a refund that bounces after the
// claim closed moves it to refund_failed with Stripe's reason and
// reverses the refund and the seller charge in the ledger; a replayed
// event changes nothing; forged and stale deliveries are refused.
func TestLateRefundFailureReversesClaim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "queue_webhook")
	p := sandbox.New(st.DB(), sandbox.Config{})
	startWorkers(t, st, p, queue.Config{})
	h := hookedRouter(st)
	c := client{t: t, e: h}
	shopper := uniq("shp")
	sellerID, orderID := seedOrder(c, shopper, 3100, "pay_ok")
	id := fileClaim(c, shopper, orderID)["id"].(string)
	require.Equal(t, claim.StatusClosed, waitFor(t, st, id))
	rec, err := st.GetClaim(ctx, id)
	require.NoError(t, err)
	refundID := rec.Claim.Refund().ID

	now := time.Now()
	code, body := deliver(t, h, "evt_bounce", "charge.refund.updated", refundID, id, "failed", "lost_or_stolen_card", now)
	require.Equal(t, http.StatusOK, code, body)
	rec, err = st.GetClaim(ctx, id)
	require.NoError(t, err)
	require.Equal(t, claim.StatusRefundFailed, rec.Claim.Status())
	require.Equal(t, claim.FailureRefundFailed, rec.Claim.Failure().Code)
	require.Contains(t, rec.Claim.Failure().Reason, "lost_or_stolen_card")
	code, bal := c.do(http.MethodGet, "/v1/sellers/"+sellerID+"/balance", "finance", "fin", nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": float64(0)}}, bal["owed"])
	ledgerBalances(t, st, id)
	var reversals int
	require.NoError(t, st.DB().QueryRowContext(ctx, `SELECT count(*) FROM ledger_transactions WHERE claim_id = $1 AND kind LIKE '%reversal'`, id).Scan(&reversals))
	require.Equal(t, 2, reversals)

	// The same event again: acknowledged, nothing written.
	events := eventCount(t, st, id)
	code, _ = deliver(t, h, "evt_bounce", "charge.refund.updated", refundID, id, "failed", "lost_or_stolen_card", now)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, events, eventCount(t, st, id))
	// Another event saying the same is harmless too.
	code, _ = deliver(t, h, "evt_other", "refund.failed", refundID, id, "failed", "lost_or_stolen_card", now)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, events, eventCount(t, st, id))

	// A stale signature and a wrong secret are refused.
	code, body = deliver(t, h, "evt_old", "refund.updated", refundID, id, "succeeded", "", now.Add(-time.Hour))
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "stale_event")
	req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", strings.NewReader(`{"id":"evt_x","type":"refund.failed"}`))
	req.Header.Set("Stripe-Signature", fmt.Sprintf("t=%d,v1=%s", now.Unix(), strings.Repeat("ab", 32)))
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	require.Equal(t, http.StatusBadRequest, rr.Code)
	require.Contains(t, rr.Body.String(), "invalid_signature")
}

// TestPendingRefundSettles: a refund the provider left pending is settled
// by its succeeded event, and the claim goes on to closed.
func TestPendingRefundSettles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "queue_pending")
	h := hookedRouter(st)
	c := client{t: t, e: h}
	shopper := uniq("shp")
	sellerID, orderID := seedOrder(c, shopper, 2700, "pay_ok")
	id := fileClaim(c, shopper, orderID)["id"].(string)
	// Stripe's word on a refund the step has not recorded yet is asked for
	// again later (503: Stripe retries), not dropped.
	code, body := deliver(t, h, "evt_early", "charge.refund.updated", "re_pending1", id, "failed", "expired_or_canceled_card", time.Now())
	require.Equal(t, http.StatusServiceUnavailable, code, body)
	// As if the provider had answered "pending".
	require.NoError(t, st.UpdateClaim(ctx, id, func(cl *claim.Claim) (claimflow.Effects, error) {
		return claimflow.Effects{}, cl.MarkRefundPending(claim.RefundRef{Provider: "stripe", ID: "re_pending1", At: time.Now()}, time.Now())
	}))
	// Events for other refunds or without a claim are ignored.
	code, _ = deliver(t, h, "evt_a", "charge.refund.updated", "re_other", id, "succeeded", "", time.Now())
	require.Equal(t, http.StatusOK, code)
	code, _ = deliver(t, h, "evt_b", "charge.refund.updated", "re_pending1", "", "succeeded", "", time.Now())
	require.Equal(t, http.StatusOK, code)
	rec, err := st.GetClaim(ctx, id)
	require.NoError(t, err)
	require.Equal(t, claim.StatusRefundPending, rec.Claim.Status())

	code, body = deliver(t, h, "evt_c", "charge.refund.updated", "re_pending1", id, "succeeded", "", time.Now())
	require.Equal(t, http.StatusOK, code, body)
	startWorkers(t, st, sandbox.New(st.DB(), sandbox.Config{}), queue.Config{})
	require.Equal(t, claim.StatusClosed, waitFor(t, st, id))
	code, bal := c.do(http.MethodGet, "/v1/sellers/"+sellerID+"/balance", "finance", "fin", nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": float64(2700)}}, bal["owed"])
	ledgerBalances(t, st, id)
}

// TestLostWebhookIsSwept: a refund left pending longer than the limit is
// re-read from the provider by the periodic sweep, which settles it; a
// refund pending only briefly is left to its webhook.
func TestLostWebhookIsSwept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "queue_sweep")
	c := client{t: t, e: router(st)}
	p := sandbox.New(st.DB(), sandbox.Config{})

	pend := func(ago time.Duration) string {
		shopper := uniq("shp")
		_, orderID := seedOrder(c, shopper, 1800, "pay_ok")
		id := fileClaim(c, shopper, orderID)["id"].(string)
		rec, err := st.GetClaim(ctx, id)
		require.NoError(t, err)
		o, err := st.GetOrder(ctx, orderID)
		require.NoError(t, err)
		ref, err := p.Refund(ctx, claimflow.RefundRequest{IdempotencyKey: claimflow.RefundKey(id, 1), ClaimID: id,
			OrderID: orderID, Payment: o.Payment(), Amount: rec.Claim.Amount()})
		require.NoError(t, err)
		at := time.Now().Add(-ago)
		require.NoError(t, st.UpdateClaim(ctx, id, func(cl *claim.Claim) (claimflow.Effects, error) {
			return claimflow.Effects{}, cl.MarkRefundPending(claim.RefundRef{Provider: "sandbox", ID: ref.ID, At: at}, at)
		}))
		return id
	}
	old, recent := pend(time.Hour), pend(time.Minute)

	settler := &claimflow.Settler{Store: st, Now: time.Now}
	providers := claimflow.Providers{"sandbox": p}
	steps := stepsFor(t, st, p)
	steps.SweepPending = func(ctx context.Context) (int, error) {
		return settler.SweepPending(ctx, st, providers, 30*time.Minute)
	}
	w, err := queue.NewWorkers(st.Pool(), steps, queue.Config{})
	require.NoError(t, err)
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() { require.NoError(t, w.Stop(context.Background())) })

	// The sweep runs when the workers start.
	for {
		rec, err := st.GetClaim(ctx, old)
		require.NoError(t, err)
		if rec.Claim.Status() != claim.StatusRefundPending {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, claim.StatusClosed, waitFor(t, st, old))
	rec, err := st.GetClaim(ctx, recent)
	require.NoError(t, err)
	require.Equal(t, claim.StatusRefundPending, rec.Claim.Status())
	ledgerBalances(t, st, old)
}

// TestClaimClosesThroughStripeMock: with Stripe as the payment provider, a
// claim is refunded through the real SDK over HTTP (stripe-mock) and
// closes with Stripe's refund id on it; a reconciliation then reads
// Stripe's side through the SDK too and finds it agrees.
func TestClaimClosesThroughStripeMock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "queue_stripe")
	p, err := stripe.New(stripe.Config{APIKey: "sk_test_123", APIBase: stripemock.URL(t)})
	require.NoError(t, err)
	fin := financeflow.New(financeflow.Config{Store: st, Providers: []financeflow.ProviderRecords{p}})
	steps := queue.Steps{
		Refund:       &claimflow.RefundStep{Store: st, Providers: claimflow.Providers{p.Name(): p}, Now: time.Now},
		ChargeSeller: &claimflow.ChargeSellerStep{Store: st, Now: time.Now},
		Deadlines:    &claimflow.DeadlineStep{Store: st, Now: time.Now},
		Redrive:      redriveFor(t, st, time.Now),
		Reconcile:    fin,
	}
	w, err := queue.NewWorkers(st.Pool(), steps, queue.Config{})
	require.NoError(t, err)
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() { require.NoError(t, w.Stop(context.Background())) })

	c := client{t: t, e: router(st)}
	shopper, sellerID, orderID := uniq("shp"), uniq("sel"), uniq("ord")
	code, body := c.do(http.MethodPut, "/v1/sellers/"+sellerID, "service", "platform", map[string]any{"name": "S", "risk_score": 80})
	require.Equal(t, http.StatusCreated, code, body)
	now := time.Now().UTC()
	code, body = c.do(http.MethodPut, "/v1/orders/"+orderID, "service", "platform", map[string]any{
		// stripe-mock's charges are USD, and the refund it serves on a
		// read is for 1.00 USD whatever was asked.
		"buyer_id": shopper, "seller_id": sellerID, "currency": "USD", "amount": 100,
		"items":   []map[string]any{{"sku": "sku_a", "name": "A", "quantity": 1, "unit_amount": 100}},
		"payment": map[string]any{"provider": "stripe", "reference": "pi_" + orderID},
		"paid_at": now.Add(-72 * time.Hour).Format(time.RFC3339), "delivered_at": now.Add(-24 * time.Hour).Format(time.RFC3339),
	})
	require.Equal(t, http.StatusCreated, code, body)
	id := fileClaim(c, shopper, orderID)["id"].(string)

	require.Equal(t, claim.StatusClosed, waitFor(t, st, id))
	code, got := c.do(http.MethodGet, "/v1/claims/"+id, "shopper", shopper, nil)
	require.Equal(t, http.StatusOK, code)
	refund := got["refund"].(map[string]any)
	require.Equal(t, "stripe", refund["provider"])
	require.True(t, strings.HasPrefix(refund["id"].(string), "re_"), refund)
	ledgerBalances(t, st, id)

	// Stripe's list of the period's refunds holds only a fixture of
	// another system's (no claim in its metadata, dated 2009), so the
	// claim's refund is read by its id.
	period, err := finance.NewPeriod(now.Add(-time.Hour), time.Now().Add(time.Hour))
	require.NoError(t, err)
	run, err := fin.RequestReconciliation(ctx, claimflow.Viewer{Role: "finance", Subject: "fin"}, period)
	require.NoError(t, err)
	require.Equal(t, []string{"stripe"}, run.Providers)
	run = waitRun(t, fin, run.ID)
	require.Equal(t, financeflow.RunCompleted, run.Status, run.Error)
	var items []financeflow.RunItem
	require.NoError(t, fin.RunItems(ctx, financeflow.ItemFilter{RunID: run.ID}, func(it financeflow.RunItem) error {
		items = append(items, it)
		return nil
	}))
	require.Len(t, items, 1)
	require.Equal(t, finance.KindMatched, items[0].Kind, items[0].Detail)
	require.Equal(t, id, items[0].ClaimID)
	require.Equal(t, refund["id"], items[0].RefundID)
	require.Equal(t, "succeeded", items[0].ProviderStatus)
	require.Equal(t, int64(100), items[0].ProviderAmount.Amount())
	require.Equal(t, "USD", items[0].ProviderAmount.Currency().String())
	require.Equal(t, int64(100), items[0].LedgerAmount.Amount())
}
