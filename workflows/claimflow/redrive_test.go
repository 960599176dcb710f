package claimflow_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/claimflow/storetest"
)

var _ claimflow.JobQueue = (*fakeJobs)(nil)

// fakeJobs is a job queue that knows which claims have a job, and
// records what it is asked to schedule.
type fakeJobs struct {
	mu          sync.Mutex
	busy        map[string]bool // claims with a job waiting, running or due to retry
	scheduled   []claimflow.ClaimStep
	asked       int // WithoutJobs calls
	withoutErr  error
	scheduleErr error
}

func (q *fakeJobs) WithoutJobs(_ context.Context, ids []string) ([]string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.asked++
	if q.withoutErr != nil {
		return nil, q.withoutErr
	}
	var out []string
	for _, id := range ids {
		if !q.busy[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

func (q *fakeJobs) Schedule(_ context.Context, steps []claimflow.ClaimStep) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.scheduleErr != nil {
		return q.scheduleErr
	}
	q.scheduled = append(q.scheduled, steps...)
	return nil
}

// redriveBundle is a store of claims, a queue, and the redrive over them,
// whose clock reads stepNow.
type redriveBundle struct {
	store   *storetest.Memory
	jobs    *fakeJobs
	redrive *claimflow.Redrive
	log     *bytes.Buffer
	order   *order.Order
}

func setupRedrive(t *testing.T) *redriveBundle {
	t.Helper()
	paid := stepFiledAt.Add(-72 * time.Hour)
	o, err := order.New(order.Params{
		ID: "ord_redrive", BuyerID: "shp_7", SellerID: stepSellerID, Currency: "EUR", Amount: 1_000_000,
		Items:   []order.Item{{SKU: "sku_1", Name: "Shoes", Quantity: 1000, UnitAmount: 1000}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_1"}, PaidAt: &paid,
	})
	require.NoError(t, err)
	var log bytes.Buffer
	b := &redriveBundle{store: storetest.NewMemory(), jobs: &fakeJobs{busy: map[string]bool{}}, log: &log, order: o}
	b.redrive = &claimflow.Redrive{Store: b.store, Jobs: b.jobs, Now: func() time.Time { return stepNow },
		Log: slog.New(slog.NewTextHandler(&log, nil))}
	return b
}

// put stores claim id in status, last changed at updated; waiting claims
// must be decided by reviewBy, a charge may be contested until contestBy.
func (b *redriveBundle) put(id string, status claim.Status, updated, reviewBy, contestBy time.Time) {
	p := claim.RehydrateParams{
		ID: id, OrderID: b.order.ID(), ShopperID: "shp_7", SellerID: stepSellerID, Reason: claim.ReasonDamaged,
		Items: []claim.Item{{SKU: "sku_1", Quantity: 1}}, Amount: money.Of(1000, eur), Description: "torn",
		Status: status, Version: 2, CreatedAt: updated, UpdatedAt: updated, ReviewDeadline: reviewBy,
	}
	if !contestBy.IsZero() {
		p.Chargeback = claim.Chargeback{Status: claim.ChargebackOpen, ChargedAt: updated, ContestBy: contestBy}
	}
	b.store.Put(b.order, claim.Rehydrate(p))
}

// TestRedriveSchedulesNextStep: each claim whose next step has been due
// for longer than the wait, with no job for it, gets that step: a step to
// run now, a timer at its (passed) time; the longest waiting first.
func TestRedriveSchedulesNextStep(t *testing.T) {
	t.Parallel()
	b := setupRedrive(t)
	const wait = 10 * time.Minute
	long := stepNow.Add(-time.Hour)
	var none time.Time
	b.put("clm_approved", claim.StatusApproved, long, none, none)
	b.put("clm_approved_busy", claim.StatusApproved, long, none, none)
	b.put("clm_approved_recent", claim.StatusApproved, stepNow.Add(-5*time.Minute), none, none)
	b.put("clm_refunded", claim.StatusRefunded, long.Add(-time.Hour), none, none)
	b.put("clm_pending", claim.StatusRefundPending, long, none, none)
	b.put("clm_review_due", claim.StatusInReview, long.Add(-48*time.Hour), stepNow.Add(-20*time.Minute), none)
	b.put("clm_review_ahead", claim.StatusInReview, long.Add(-48*time.Hour), stepNow.Add(-5*time.Minute), none)
	b.put("clm_failed_due", claim.StatusRefundFailed, long, stepNow.Add(-30*time.Minute), none)
	b.put("clm_contest_due", claim.StatusClosed, long.Add(-72*time.Hour), none, stepNow.Add(-time.Hour))
	b.put("clm_contest_open", claim.StatusClosed, long.Add(-72*time.Hour), none, stepNow.Add(time.Hour))
	b.jobs.busy["clm_approved_busy"] = true

	n, err := b.redrive.Run(context.Background(), wait)

	require.NoError(t, err)
	require.Equal(t, 5, n)
	require.Equal(t, []claimflow.ClaimStep{
		{ClaimID: "clm_contest_due", Next: claimflow.Next{Step: claimflow.StepContestDeadline, At: stepNow.Add(-time.Hour)}},
		{ClaimID: "clm_review_due", Next: claimflow.Next{Step: claimflow.StepReviewDeadline, At: stepNow.Add(-20 * time.Minute)}},
		{ClaimID: "clm_refunded", Next: claimflow.Next{Step: claimflow.StepChargeSeller, At: long.Add(-time.Hour)}},
		{ClaimID: "clm_approved", Next: claimflow.Next{Step: claimflow.StepRefund, At: long}},
		{ClaimID: "clm_failed_due", Next: claimflow.Next{Step: claimflow.StepReviewDeadline, At: stepNow.Add(-30 * time.Minute)}},
	}, b.jobs.scheduled)
	require.Contains(t, b.log.String(), `msg="claim had no job for its next step; scheduling it again" claim_id=clm_approved status=approved`)
	require.NotContains(t, b.log.String(), "clm_approved_busy")
}

// TestRedriveNothingStalled: with nothing to do, nothing is scheduled.
func TestRedriveNothingStalled(t *testing.T) {
	t.Parallel()
	b := setupRedrive(t)
	b.put("clm_recent", claim.StatusApproved, stepNow, time.Time{}, time.Time{})

	n, err := b.redrive.Run(context.Background(), time.Minute)

	require.NoError(t, err)
	require.Zero(t, n)
	require.Empty(t, b.jobs.scheduled)
	require.Empty(t, b.log.String())
}

// TestRedriveLimit: one run schedules at most RedriveLimit claims, the
// longest waiting first, reading past the claims whose jobs are on their
// way however many of those come first.
func TestRedriveLimit(t *testing.T) {
	t.Parallel()
	b := setupRedrive(t)
	const busy, idle = claimflow.RedriveLimit + 20, claimflow.RedriveLimit + 30
	var want []string
	for i := range busy + idle {
		id := fmt.Sprintf("clm_%04d", i)
		b.put(id, claim.StatusApproved, stepNow.Add(-time.Hour).Add(time.Duration(i)*time.Second), time.Time{}, time.Time{})
		if i < busy {
			b.jobs.busy[id] = true
		} else if len(want) < claimflow.RedriveLimit {
			want = append(want, id)
		}
	}

	n, err := b.redrive.Run(context.Background(), time.Minute)

	require.NoError(t, err)
	require.Equal(t, claimflow.RedriveLimit, n)
	got := make([]string, len(b.jobs.scheduled))
	for i, cs := range b.jobs.scheduled {
		got[i] = cs.ClaimID
	}
	require.Equal(t, want, got)
	require.Greater(t, b.jobs.asked, 1, "read page after page")
}

// TestRedrivePagesAtMost: behind more busy claims than RedrivePages pages
// hold, a run stops looking; the idle ones wait for a later run.
func TestRedrivePagesAtMost(t *testing.T) {
	t.Parallel()
	b := setupRedrive(t)
	busy := claimflow.RedrivePages*claimflow.RedriveLimit + 5
	for i := range busy + 3 {
		id := fmt.Sprintf("clm_%05d", i)
		b.put(id, claim.StatusApproved, stepNow.Add(-2*time.Hour).Add(time.Duration(i)*time.Second), time.Time{}, time.Time{})
		b.jobs.busy[id] = i < busy
	}

	n, err := b.redrive.Run(context.Background(), time.Minute)

	require.NoError(t, err)
	require.Zero(t, n, "the idle claims lie past the pages one run reads")
	require.Equal(t, claimflow.RedrivePages, b.jobs.asked)
}

// stalledStore answers StalledClaims with fixed records, whatever is
// asked.
type stalledStore struct {
	recs []claimflow.Record
	err  error
}

func (s stalledStore) StalledClaims(_ context.Context, f claimflow.StalledFilter) ([]claimflow.Record, error) {
	if f.After != nil {
		return nil, s.err
	}
	return slices.Clone(s.recs), s.err
}

// TestRedriveTrustsNextStep: a claim the store lists that, by NextStep,
// waits for nothing or is not due yet is left alone.
func TestRedriveTrustsNextStep(t *testing.T) {
	t.Parallel()
	b := setupRedrive(t)
	b.put("clm_rejected", claim.StatusRejected, stepNow.Add(-time.Hour), time.Time{}, time.Time{})
	b.put("clm_recent", claim.StatusApproved, stepNow, time.Time{}, time.Time{})
	b.put("clm_due", claim.StatusApproved, stepNow.Add(-time.Hour), time.Time{}, time.Time{})
	var recs []claimflow.Record
	for _, id := range []string{"clm_rejected", "clm_recent", "clm_due"} {
		rec, err := b.store.GetClaim(context.Background(), id)
		require.NoError(t, err)
		recs = append(recs, rec)
	}
	b.redrive.Store = stalledStore{recs: recs}

	n, err := b.redrive.Run(context.Background(), time.Minute)

	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, "clm_due", b.jobs.scheduled[0].ClaimID)
}

// TestRedriveErrors: the store's and the queue's errors are returned,
// and nothing is scheduled after one.
func TestRedriveErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tests := []struct {
		name string
		give func(b *redriveBundle)
	}{
		{name: "store", give: func(b *redriveBundle) { b.redrive.Store = stalledStore{err: boom} }},
		{name: "queue asked", give: func(b *redriveBundle) { b.jobs.withoutErr = boom }},
		{name: "queue scheduling", give: func(b *redriveBundle) { b.jobs.scheduleErr = boom }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupRedrive(t)
			b.put("clm_due", claim.StatusApproved, stepNow.Add(-time.Hour), time.Time{}, time.Time{})
			tt.give(b)

			n, err := b.redrive.Run(context.Background(), time.Minute)

			require.ErrorIs(t, err, boom)
			require.Zero(t, n)
			require.Empty(t, b.jobs.scheduled)
		})
	}
}
