package queue_test

import (
	"context"
	"net/http"
	"sync"
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
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// clock is the engine's injected clock: the tests move it forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// timerBundle is an engine whose every part (service, steps, timers) reads
// one injected clock, on a database of its own: no other test's workers,
// on the real clock, may take its timers.
type timerBundle struct {
	st    *pgstore.Store
	clock *clock
	start time.Time
	c     client
}

func setupTimers(t *testing.T, policy decision.Policy) *timerBundle {
	t.Helper()
	ctx := context.Background()
	st := pgtest.Store(t, "queue_timers")

	start := time.Now().UTC().Truncate(time.Second)
	clk := &clock{t: start}
	p := sandbox.New(st.DB(), sandbox.Config{})
	steps := queue.Steps{
		Refund:       &claimflow.RefundStep{Store: st, Providers: claimflow.Providers{order.ProviderSandbox: p}, Now: clk.Now, Policy: policy},
		ChargeSeller: &claimflow.ChargeSellerStep{Store: st, Now: clk.Now, Policy: policy},
		Deadlines:    &claimflow.DeadlineStep{Store: st, Now: clk.Now, Policy: policy},
		Redrive:      redriveFor(t, st, time.Now),
	}
	w, err := queue.NewWorkers(st.Pool(), steps, queue.Config{})
	require.NoError(t, err)
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() { require.NoError(t, w.Stop(context.Background())) })
	e := httpapi.New(httpapi.Deps{Claims: claimflow.NewService(st, policy, clk.Now), Secret: secret, Now: time.Now})
	return &timerBundle{st: st, clock: clk, start: start, c: client{t: t, e: e}}
}

// fire makes River run the claim's timer of kind now, whatever time it was
// set for: the engine's clock was moved, River's cannot be.
func (b *timerBundle) fire(t *testing.T, claimID, kind string) {
	t.Helper()
	res, err := b.st.DB().Exec(`UPDATE river_job SET scheduled_at = now() WHERE kind = $1 AND args->>'claim_id' = $2 AND state = 'scheduled'`, kind, claimID)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "one %s timer is set for %s", kind, claimID)
	// Wake the workers rather than wait for their poll.
	_, err = b.st.DB().Exec(`SELECT pg_notify('river_insert', json_build_object('queue', $1::text)::text)`, queue.QueueClaims)
	require.NoError(t, err)
}

// timer returns the state and time of the claim's timer of kind.
func (b *timerBundle) timer(t *testing.T, claimID, kind string) (string, time.Time) {
	t.Helper()
	var state string
	var at time.Time
	require.NoError(t, b.st.DB().QueryRow(`SELECT state, scheduled_at FROM river_job WHERE kind = $1 AND args->>'claim_id' = $2
		ORDER BY id DESC LIMIT 1`, kind, claimID).Scan(&state, &at))
	return state, at.UTC()
}

// waitTimer polls until the claim's timer of kind is as done says.
func (b *timerBundle) waitTimer(t *testing.T, claimID, kind string, done func(state string, at time.Time) bool) {
	t.Helper()
	for {
		if done(b.timer(t, claimID, kind)) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func completed(state string, _ time.Time) bool { return state == "completed" }

// waitStatus polls until the claim is in status.
func (b *timerBundle) waitStatus(t *testing.T, id string, status claim.Status) {
	t.Helper()
	for b.claim(t, id).Status() != status {
		time.Sleep(10 * time.Millisecond)
	}
}

func (b *timerBundle) claim(t *testing.T, id string) *claim.Claim {
	t.Helper()
	rec, err := b.st.GetClaim(context.Background(), id)
	require.NoError(t, err)
	return rec.Claim
}

func (b *timerBundle) eventTypes(t *testing.T, id string) []string {
	t.Helper()
	evs, err := b.st.ClaimEvents(context.Background(), id)
	require.NoError(t, err)
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

// reviewClaim files a claim the default policy sends to a person (above
// the raised instant limit).
func (b *timerBundle) reviewClaim(t *testing.T) string {
	shopper := uniq("shp")
	_, orderID := seedOrder(b.c, shopper, 20000, "pay_ok")
	body := fileClaim(b.c, shopper, orderID)
	require.Equal(t, "in_review", body["status"])
	return body["id"].(string)
}

// TestReviewDeadlineEscalates: the review deadline is a River timer set
// when the claim enters review; fired early it waits again, fired after
// the deadline it escalates the claim once.
func TestReviewDeadlineEscalates(t *testing.T) {
	t.Parallel()
	b := setupTimers(t, policyfile.Default())
	id := b.reviewClaim(t)
	deadline := b.start.Add(24 * time.Hour)
	require.Equal(t, deadline, b.claim(t, id).ReviewDeadline())
	state, at := b.timer(t, id, "claim_review_deadline")
	require.Equal(t, "scheduled", state)
	require.WithinDuration(t, deadline, at, time.Second, "the timer is set for the deadline")

	// Fired an hour early (a clock skew, a redrive): it changes nothing and
	// waits for the rest.
	b.clock.Set(deadline.Add(-time.Hour))
	b.fire(t, id, "claim_review_deadline")
	b.waitTimer(t, id, "claim_review_deadline", func(state string, at time.Time) bool {
		return state == "scheduled" && at.After(time.Now().Add(30*time.Minute))
	})
	_, at = b.timer(t, id, "claim_review_deadline")
	require.WithinDuration(t, time.Now().Add(time.Hour), at, time.Minute, "snoozed for the hour left")
	require.True(t, b.claim(t, id).EscalatedAt().IsZero())

	b.clock.Set(deadline.Add(time.Minute))
	b.fire(t, id, "claim_review_deadline")
	b.waitTimer(t, id, "claim_review_deadline", completed)
	c := b.claim(t, id)
	require.Equal(t, claim.StatusInReview, c.Status(), "escalated, still for a person to decide")
	require.Equal(t, deadline.Add(time.Minute), c.EscalatedAt())
	require.Equal(t, []string{"submitted", "decided", "escalated"}, b.eventTypes(t, id))

	// The queue shows it overdue.
	code, q := b.c.do(http.MethodGet, "/v1/review-queue", "agent", "ana", nil)
	require.Equal(t, http.StatusOK, code)
	row := q["data"].([]any)[0].(map[string]any)
	require.Equal(t, id, row["id"])
	require.Equal(t, true, row["overdue"])
	require.NotNil(t, row["escalated_at"])
}

// TestReviewDeadlineGrantsWherePolicySays: a reason whose policy grants
// claims nobody decided in time is approved by the timer, then refunded
// and closed by the workflow.
func TestReviewDeadlineGrantsWherePolicySays(t *testing.T) {
	t.Parallel()
	policy := policyfile.Default()
	policy.Review = map[claim.Reason]decision.ReviewRule{
		claim.ReasonCounterfeit: {SLA: 72 * time.Hour, OnExpiry: decision.ExpiryApprove},
	}
	b := setupTimers(t, policy)
	id := b.reviewClaim(t)
	deadline := b.start.Add(72 * time.Hour)
	require.Equal(t, deadline, b.claim(t, id).ReviewDeadline())

	b.clock.Set(deadline)
	b.fire(t, id, "claim_review_deadline")
	b.waitStatus(t, id, claim.StatusClosed)
	evs, err := b.st.ClaimEvents(context.Background(), id)
	require.NoError(t, err)
	granted := evs[2]
	require.Equal(t, claim.StatusApproved, granted.To)
	require.Equal(t, claim.SystemActor, granted.Actor)
	require.Equal(t, "No agent decided within 72 hours; the policy grants the claim.", granted.Note)
}

// closedClaim files a claim refunded at once and waits until the seller
// is charged; it returns the claim id and the end of the contest window.
func (b *timerBundle) closedClaim(t *testing.T) (string, string, time.Time) {
	shopper := uniq("shp")
	sellerID, orderID := seedOrder(b.c, shopper, 4200, "pay_ok")
	id := fileClaim(b.c, shopper, orderID)["id"].(string)
	require.Equal(t, claim.StatusClosed, waitFor(t, b.st, id))
	cb := b.claim(t, id).Chargeback()
	require.Equal(t, claim.ChargebackOpen, cb.Status)
	require.Equal(t, b.start.Add(72*time.Hour), cb.ContestBy)
	state, at := b.timer(t, id, "claim_contest_deadline")
	require.Equal(t, "scheduled", state)
	require.WithinDuration(t, cb.ContestBy, at, time.Second)
	return id, sellerID, cb.ContestBy
}

// TestContestWindowPassing: uncontested, the charge becomes final when
// the window closes.
func TestContestWindowPassing(t *testing.T) {
	t.Parallel()
	b := setupTimers(t, policyfile.Default())
	id, sellerID, contestBy := b.closedClaim(t)

	b.clock.Set(contestBy)
	b.fire(t, id, "claim_contest_deadline")
	b.waitTimer(t, id, "claim_contest_deadline", completed)
	require.Equal(t, claim.ChargebackFinal, b.claim(t, id).Chargeback().Status)
	types := b.eventTypes(t, id)
	require.Equal(t, "chargeback_final", types[len(types)-1])

	// Now the seller is too late.
	code, body := b.c.do(http.MethodPost, "/v1/claims/"+id+"/contest", "seller", sellerID, map[string]any{"statement": "Wait!"})
	require.Equal(t, http.StatusConflict, code)
	require.Equal(t, "contest_window_closed", body["error"].(map[string]any)["code"])
}

// TestContestResolvedBeforeTheWindowEnds: a contest settled inside the
// window leaves the timer nothing to do.
func TestContestResolvedBeforeTheWindowEnds(t *testing.T) {
	t.Parallel()
	b := setupTimers(t, policyfile.Default())
	id, sellerID, contestBy := b.closedClaim(t)

	b.clock.Set(b.start.Add(time.Hour))
	code, body := b.c.do(http.MethodPost, "/v1/claims/"+id+"/contest", "seller", sellerID,
		map[string]any{"statement": "Genuine; see the invoice.", "evidence": []map[string]any{{"kind": "document", "url": "https://docs.example/inv.pdf"}}})
	require.Equal(t, http.StatusOK, code, body)
	b.clock.Set(b.start.Add(2 * time.Hour))
	code, body = b.c.do(http.MethodPost, "/v1/claims/"+id+"/contest/resolution", "agent", "ana",
		map[string]any{"outcome": "reverse", "note": "The invoice checks out.", "version": body["version"]})
	require.Equal(t, http.StatusOK, code, body)
	before := b.claim(t, id)
	require.Equal(t, claim.ChargebackReversed, before.Chargeback().Status)

	b.clock.Set(contestBy.Add(time.Hour))
	b.fire(t, id, "claim_contest_deadline")
	b.waitTimer(t, id, "claim_contest_deadline", completed)
	after := b.claim(t, id)
	require.Equal(t, claim.ChargebackReversed, after.Chargeback().Status)
	require.Equal(t, before.Version(), after.Version(), "the timer changed nothing")
	require.NotContains(t, b.eventTypes(t, id), "chargeback_final")

	code, bal := b.c.do(http.MethodGet, "/v1/sellers/"+sellerID+"/balance", "finance", "fin", nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": float64(0)}}, bal["owed"])
}
