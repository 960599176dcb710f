package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/queue"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// jobsBundle is a database of its own, with no workers, and the queue's
// scheduling side over it.
type jobsBundle struct {
	st   *pgstore.Store
	jobs *queue.Inserter
}

func setupJobs(t *testing.T) *jobsBundle {
	t.Helper()
	st := pgtest.Store(t, "queue_jobs")
	jobs, err := queue.NewInserter(st.DB(), queue.Config{MaxAttempts: 7})
	require.NoError(t, err)
	return &jobsBundle{st: st, jobs: jobs}
}

// jobRow is one of River's jobs as a test reads it.
type jobRow struct {
	Kind        string
	State       string
	ScheduledAt time.Time
	MaxAttempts int
}

func (b *jobsBundle) jobsOf(t *testing.T, claimID string) []jobRow {
	t.Helper()
	rows, err := b.st.DB().QueryContext(context.Background(),
		`SELECT kind, state, scheduled_at, max_attempts FROM river_job WHERE args->>'claim_id' = $1 ORDER BY id`, claimID)
	require.NoError(t, err)
	defer rows.Close()
	var out []jobRow
	for rows.Next() {
		var j jobRow
		require.NoError(t, rows.Scan(&j.Kind, &j.State, &j.ScheduledAt, &j.MaxAttempts))
		j.ScheduledAt = j.ScheduledAt.UTC()
		out = append(out, j)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestInserterWithoutJobs: a claim has a job on its way while one waits,
// runs or is due to be retried; finished jobs do not count.
func TestInserterWithoutJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupJobs(t)
	tests := []struct {
		give rivertype.JobState
		want bool // the claim has no job
	}{
		{give: rivertype.JobStateAvailable},
		{give: rivertype.JobStatePending},
		{give: rivertype.JobStateRunning},
		{give: rivertype.JobStateRetryable},
		{give: rivertype.JobStateScheduled},
		{give: rivertype.JobStateCompleted, want: true},
		{give: rivertype.JobStateDiscarded, want: true},
		{give: rivertype.JobStateCancelled, want: true},
	}
	var ids, want []string
	for _, tt := range tests {
		id := uniq("clm_" + string(tt.give))
		require.NoError(t, b.jobs.Schedule(ctx, []claimflow.ClaimStep{{ClaimID: id, Next: claimflow.Next{Step: claimflow.StepRefund}}}))
		_, err := b.st.DB().ExecContext(ctx, `
			UPDATE river_job SET state = $2::river_job_state,
			       attempted_at = CASE WHEN $2::text IN ('running', 'retryable', 'completed', 'discarded') THEN now() END,
			       finalized_at = CASE WHEN $2::text IN ('completed', 'discarded', 'cancelled') THEN now() END
			 WHERE args->>'claim_id' = $1`, id, string(tt.give))
		require.NoError(t, err, tt.give)
		ids = append(ids, id)
		if tt.want {
			want = append(want, id)
		}
	}
	never := uniq("clm_never")
	ids = append([]string{never}, ids...)
	want = append([]string{never}, want...)

	got, err := b.jobs.WithoutJobs(ctx, ids)

	require.NoError(t, err)
	require.Equal(t, want, got, "in the order asked")
	got, err = b.jobs.WithoutJobs(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, got)
}

// TestInserterSchedule: a step runs at once; a timer runs at its time,
// at once when that has passed, and is not scheduled twice while one
// waits.
func TestInserterSchedule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupJobs(t)
	refund, review, contest := uniq("clm_refund"), uniq("clm_review"), uniq("clm_contest")
	passed := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	ahead := time.Now().UTC().Add(time.Hour).Truncate(time.Microsecond)
	steps := []claimflow.ClaimStep{
		{ClaimID: refund, Next: claimflow.Next{Step: claimflow.StepRefund, At: passed}},
		{ClaimID: review, Next: claimflow.Next{Step: claimflow.StepReviewDeadline, At: passed}},
		{ClaimID: contest, Next: claimflow.Next{Step: claimflow.StepContestDeadline, At: ahead}},
	}

	require.NoError(t, b.jobs.Schedule(ctx, steps))
	require.NoError(t, b.jobs.Schedule(ctx, steps[1:]), "the timers again, while they wait")

	got := b.jobsOf(t, refund)
	require.Len(t, got, 1)
	require.Equal(t, queue.RefundArgs{}.Kind(), got[0].Kind)
	require.Equal(t, string(rivertype.JobStateAvailable), got[0].State)
	require.Equal(t, 7, got[0].MaxAttempts)
	got = b.jobsOf(t, review)
	require.Len(t, got, 1)
	require.Equal(t, queue.ReviewDeadlineArgs{}.Kind(), got[0].Kind)
	require.Equal(t, string(rivertype.JobStateAvailable), got[0].State, "its time has passed: it runs now")
	require.True(t, got[0].ScheduledAt.After(passed))
	require.Equal(t, []jobRow{{Kind: queue.ContestDeadlineArgs{}.Kind(), State: string(rivertype.JobStateScheduled), ScheduledAt: ahead, MaxAttempts: 7}},
		b.jobsOf(t, contest))
	require.NoError(t, b.jobs.Schedule(ctx, nil))
}
