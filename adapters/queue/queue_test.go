package queue_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"github.com/claimsd/claimsd/adapters/auth"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/adapters/queue"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

var store *pgstore.Store

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, "queue", &store)) }

var secret = []byte("queue-test-secret-queue-test-secret!")

func uniq(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

func stepsFor(t *testing.T, st *pgstore.Store, p *sandbox.Provider) queue.Steps {
	t.Helper()
	// As the engine runs them: the sandbox settles refunds at once, so the
	// refund's step charges the seller too.
	charge := &claimflow.ChargeSellerStep{Store: st, Now: time.Now}
	return queue.Steps{
		Refund:       &claimflow.RefundStep{Store: st, Providers: claimflow.Providers{order.ProviderSandbox: p}, Now: time.Now, Charge: charge},
		ChargeSeller: charge,
		Deadlines:    &claimflow.DeadlineStep{Store: st, Now: time.Now},
		Redrive:      redriveFor(t, st, time.Now),
	}
}

// redriveFor is the redrive of st's claims, scheduling on a queue of its
// own over st's database.
func redriveFor(t *testing.T, st *pgstore.Store, now func() time.Time) *claimflow.Redrive {
	t.Helper()
	jobs, err := queue.NewInserter(st.DB(), queue.Config{})
	require.NoError(t, err)
	return &claimflow.Redrive{Store: st, Jobs: jobs, Now: now}
}

// startWorkers runs River workers on st for the test's duration.
func startWorkers(t *testing.T, st *pgstore.Store, p *sandbox.Provider, cfg queue.Config) {
	t.Helper()
	w, err := queue.NewWorkers(st.Pool(), stepsFor(t, st, p), cfg)
	require.NoError(t, err)
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() { require.NoError(t, w.Stop(context.Background())) })
}

type client struct {
	t *testing.T
	e http.Handler
}

func (c client) do(method, path, role, sub string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(c.t, err)
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	tok, err := auth.MintToken(secret, claimflow.Role(role), sub, time.Hour, time.Now())
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	c.e.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

// seedOrder creates a seller and a paid, delivered order for shopper.
func seedOrder(c client, shopper string, amount int64, reference string) (sellerID, orderID string) {
	sellerID, orderID = uniq("sel"), uniq("ord")
	code, body := c.do(http.MethodPut, "/v1/sellers/"+sellerID, "service", "platform", map[string]any{"name": "S", "risk_score": 80})
	require.Equal(c.t, http.StatusCreated, code, body)
	now := time.Now().UTC()
	code, body = c.do(http.MethodPut, "/v1/orders/"+orderID, "service", "platform", map[string]any{
		"buyer_id": shopper, "seller_id": sellerID, "currency": "EUR", "amount": amount,
		"items":   []map[string]any{{"sku": "sku_a", "name": "A", "quantity": 1, "unit_amount": amount}},
		"payment": map[string]any{"provider": "sandbox", "reference": reference},
		"paid_at": now.Add(-72 * time.Hour).Format(time.RFC3339), "delivered_at": now.Add(-24 * time.Hour).Format(time.RFC3339),
	})
	require.Equal(c.t, http.StatusCreated, code, body)
	return sellerID, orderID
}

// fileClaim files a counterfeit claim on the order for shopper and returns
// the created claim.
func fileClaim(c client, shopper, orderID string) map[string]any {
	c.t.Helper()
	code, body := c.do(http.MethodPost, "/v1/claims", "shopper", shopper, map[string]any{
		"order_id": orderID, "reason": "counterfeit", "description": "fake"})
	require.Equal(c.t, http.StatusCreated, code, body)
	return body
}

func router(st *pgstore.Store) http.Handler {
	return httpapi.New(httpapi.Deps{
		Claims: claimflow.NewService(st, policyfile.Default(), time.Now), Secret: secret,
	})
}

// waitFor polls the claim until it leaves the statuses the workflow is
// still working on, and returns where it stopped.
func waitFor(t *testing.T, st *pgstore.Store, id string) claim.Status {
	t.Helper()
	for {
		rec, err := st.GetClaim(context.Background(), id)
		require.NoError(t, err)
		switch rec.Claim.Status() {
		case claim.StatusApproved, claim.StatusRefunded, claim.StatusSellerCharged:
			time.Sleep(10 * time.Millisecond)
			continue
		}
		return rec.Claim.Status()
	}
}

func ledgerBalances(t *testing.T, st *pgstore.Store, claimID string) {
	t.Helper()
	var unbalanced int
	require.NoError(t, st.DB().QueryRowContext(context.Background(), `
		SELECT count(*) FROM (
			SELECT p.transaction_id FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id
			WHERE t.claim_id = $1 GROUP BY p.transaction_id, p.currency HAVING sum(p.amount) <> 0) x`, claimID).Scan(&unbalanced))
	require.Zero(t, unbalanced)
}

// TestApprovedClaimReachesClosed: through the real router, database and
// River workers, an instantly approved claim is refunded once, charged to
// the seller and closed; the seller's balance grows by the amount.
func TestApprovedClaimReachesClosed(t *testing.T) {
	t.Parallel()
	p := sandbox.New(store.DB(), sandbox.Config{})
	startWorkers(t, store, p, queue.Config{})
	c := client{t: t, e: router(store)}
	shopper := uniq("shp")
	sellerID, orderID := seedOrder(c, shopper, 4200, "pay_ok")

	body := fileClaim(c, shopper, orderID)
	require.Equal(t, "approved", body["status"])
	id := body["id"].(string)

	require.Equal(t, claim.StatusClosed, waitFor(t, store, id))

	refunds, err := p.RefundsFor(context.Background(), id)
	require.NoError(t, err)
	require.Len(t, refunds, 1)
	rec, err := store.GetClaim(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, refunds[0].ID, rec.Claim.Refund().ID)
	code, got := c.do(http.MethodGet, "/v1/claims/"+id, "shopper", shopper, nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "closed", got["status"])
	require.Equal(t, refunds[0].ID, got["refund"].(map[string]any)["id"])
	require.Nil(t, got["failure"])

	code, bal := c.do(http.MethodGet, "/v1/sellers/"+sellerID+"/balance", "finance", "fin", nil)
	require.Equal(t, http.StatusOK, code, bal)
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": float64(4200)}}, bal["owed"])
	ledgerBalances(t, store, id)

	code, events := c.do(http.MethodGet, "/v1/claims/"+id+"/events", "shopper", shopper, nil)
	require.Equal(t, http.StatusOK, code)
	var types []string
	for _, ev := range events["data"].([]any) {
		types = append(types, ev.(map[string]any)["type"].(string))
	}
	require.Equal(t, []string{"submitted", "decided", "refunded", "seller_charged", "closed"}, types)

	// One job settled it: the refund's, which charged the seller in its
	// own transaction; the contest window's timer waits.
	rows, err := store.DB().QueryContext(context.Background(),
		`SELECT kind, state FROM river_job WHERE args->>'claim_id' = $1 ORDER BY id`, id)
	require.NoError(t, err)
	defer func() { require.NoError(t, rows.Close()) }()
	var jobs []string
	for rows.Next() {
		var kind, state string
		require.NoError(t, rows.Scan(&kind, &state))
		jobs = append(jobs, kind+":"+state)
	}
	require.NoError(t, rows.Err())
	require.Len(t, jobs, 2, "%v", jobs)
	require.Contains(t, []string{"claim_refund:completed", "claim_refund:running"}, jobs[0],
		"the refund's job (its completion is written in a batch soon after)")
	require.Equal(t, "claim_contest_deadline:scheduled", jobs[1])
}

// TestDeclinedRefundWaitsForAnAgent: a permanent decline moves the claim to
// refund_failed with the provider's reason; nothing is charged.
func TestDeclinedRefundWaitsForAnAgent(t *testing.T) {
	t.Parallel()
	p := sandbox.New(store.DB(), sandbox.Config{})
	startWorkers(t, store, p, queue.Config{})
	c := client{t: t, e: router(store)}
	shopper := uniq("shp")
	sellerID, orderID := seedOrder(c, shopper, 1500, "pay_decline_1")
	id := fileClaim(c, shopper, orderID)["id"].(string)

	require.Equal(t, claim.StatusRefundFailed, waitFor(t, store, id))
	rec, err := store.GetClaim(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, claim.FailureCode(sandbox.CodeCardDeclined), rec.Claim.Failure().Code)
	require.NotEmpty(t, rec.Claim.Failure().Reason)
	code, got := c.do(http.MethodGet, "/v1/claims/"+id, "agent", "ana", nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "card_declined", got["failure"].(map[string]any)["code"])
	require.Nil(t, got["refund"])
	code, bal := c.do(http.MethodGet, "/v1/sellers/"+sellerID+"/balance", "finance", "fin", nil)
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, bal["owed"])
}

// TestTransientFailuresAreRetried: with a quarter of sandbox calls failing
// (some after the refund was made), every claim still closes with exactly
// one refund.
func TestTransientFailuresAreRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "queue_flaky")
	p := sandbox.New(st.DB(), sandbox.Config{FailRate: 0.25, Rand: mrand.New(mrand.NewPCG(9, 11))})
	startWorkers(t, st, p, queue.Config{})
	c := client{t: t, e: router(st)}
	var ids []string
	for range 6 {
		shopper := uniq("shp")
		_, orderID := seedOrder(c, shopper, 2000, "pay_ok")
		ids = append(ids, fileClaim(c, shopper, orderID)["id"].(string))
	}
	for _, id := range ids {
		require.Equal(t, claim.StatusClosed, waitFor(t, st, id))
		refunds, err := p.RefundsFor(ctx, id)
		require.NoError(t, err)
		require.Len(t, refunds, 1)
		ledgerBalances(t, st, id)
	}
	require.Greater(t, p.Calls(), int64(len(ids)), "some calls failed and were retried")
}

// TestStuckJobIsRescued: a job whose worker died mid-run (left "running")
// is run again by a worker that starts later.
func TestStuckJobIsRescued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "queue_rescue")
	c := client{t: t, e: router(st)}
	shopper := uniq("shp")
	_, orderID := seedOrder(c, shopper, 1200, "pay_ok")
	id := fileClaim(c, shopper, orderID)["id"].(string)

	// The job was taken by a process that then died.
	res, err := st.DB().ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1,
		attempted_at = now() - interval '1 minute', attempted_by = ARRAY['dead-host']
		WHERE args->>'claim_id' = $1`, id)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.Equal(t, int64(1), n)

	p := sandbox.New(st.DB(), sandbox.Config{})
	startWorkers(t, st, p, queue.Config{JobTimeout: time.Second, RescueAfter: 2 * time.Second})
	require.Equal(t, claim.StatusClosed, waitFor(t, st, id))
	refunds, err := p.RefundsFor(ctx, id)
	require.NoError(t, err)
	require.Len(t, refunds, 1)
}

// TestStepsRunTwice: running each step again after it succeeded changes
// nothing: one refund at the provider, one ledger transaction per step.
func TestStepsRunTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "queue_twice")
	c := client{t: t, e: router(st)}
	shopper := uniq("shp")
	_, orderID := seedOrder(c, shopper, 900, "pay_ok")
	id := fileClaim(c, shopper, orderID)["id"].(string)

	p := sandbox.New(st.DB(), sandbox.Config{})
	steps := stepsFor(t, st, p)
	for range 2 {
		require.NoError(t, steps.Refund.Run(ctx, id, 1, 10))
	}
	for range 2 {
		require.NoError(t, steps.ChargeSeller.Run(ctx, id, 1, 10))
	}
	rec, err := st.GetClaim(ctx, id)
	require.NoError(t, err)
	require.Equal(t, claim.StatusClosed, rec.Claim.Status())
	require.Equal(t, int64(1), p.Calls(), "the second refund run found the claim refunded")
	var txs int
	require.NoError(t, st.DB().QueryRowContext(ctx, `SELECT count(*) FROM ledger_transactions WHERE claim_id = $1`, id).Scan(&txs))
	require.Equal(t, 2, txs)
	// The jobs the steps scheduled find nothing left to do.
	var jobs int
	require.NoError(t, st.DB().QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE args->>'claim_id' = $1`, id).Scan(&jobs))
	require.Equal(t, 2, jobs, "refund, scheduled once, which charged the seller too, and the contest window's timer")
}

// TestClaimWithoutJobIsRedriven: a claim whose step gave up without
// moving it (its job discarded after a database error, say) is scheduled
// again by the periodic redrive, and closes.
func TestClaimWithoutJobIsRedriven(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "queue_redrive")
	c := client{t: t, e: router(st)}
	shopper := uniq("shp")
	_, orderID := seedOrder(c, shopper, 1300, "pay_ok")
	id := fileClaim(c, shopper, orderID)["id"].(string)
	_, err := st.DB().ExecContext(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = now() WHERE args->>'claim_id' = $1`, id)
	require.NoError(t, err)
	_, err = st.DB().ExecContext(ctx, `UPDATE claims SET updated_at = now() - interval '1 hour' WHERE id = $1`, id)
	require.NoError(t, err)

	startWorkers(t, st, sandbox.New(st.DB(), sandbox.Config{}), queue.Config{RedriveAfter: time.Minute})
	require.Equal(t, claim.StatusClosed, waitFor(t, st, id))
	ledgerBalances(t, st, id)
}

// TestClaimWithoutTimerIsRedriven: a claim waiting for an agent whose
// review timer is gone (discarded) and whose deadline has passed gets its
// timer again from the redrive, and is escalated.
func TestClaimWithoutTimerIsRedriven(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "queue_redrive_timer")
	c := client{t: t, e: router(st)}
	shopper := uniq("shp")
	_, orderID := seedOrder(c, shopper, 1300, "pay_decline_2")
	id := fileClaim(c, shopper, orderID)["id"].(string)
	steps := stepsFor(t, st, sandbox.New(st.DB(), sandbox.Config{}))
	require.NoError(t, steps.Refund.Run(ctx, id, 1, 10))
	rec, err := st.GetClaim(ctx, id)
	require.NoError(t, err)
	require.Equal(t, claim.StatusRefundFailed, rec.Claim.Status())
	_, err = st.DB().ExecContext(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = now() WHERE args->>'claim_id' = $1`, id)
	require.NoError(t, err)
	_, err = st.DB().ExecContext(ctx, `UPDATE claims SET review_deadline = now() - interval '1 hour' WHERE id = $1`, id)
	require.NoError(t, err)

	startWorkers(t, st, sandbox.New(st.DB(), sandbox.Config{}), queue.Config{RedriveAfter: time.Minute})
	for {
		rec, err := st.GetClaim(ctx, id)
		require.NoError(t, err)
		if !rec.Claim.EscalatedAt().IsZero() {
			require.Equal(t, claim.StatusRefundFailed, rec.Claim.Status())
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}
