package pgstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/queue"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/claimflow/storetest"
)

// TestStoreContract holds the store to the contract the workflow's
// in-memory store is held to (claimflow/storetest). What a change
// scheduled is read from the job queue's own table, where the store's
// transaction inserted it.
func TestStoreContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.Harness{
		New:       func(*testing.T) storetest.Store { return store },
		NewEmpty:  func(t *testing.T) storetest.Store { return pgtest.Store(t, "pgstore_contract") },
		Scheduled: scheduledJobs,
	})
}

// stepKinds maps the queue's job kinds to the steps they run.
var stepKinds = map[string]claimflow.Step{
	queue.RefundArgs{}.Kind():          claimflow.StepRefund,
	queue.ChargeSellerArgs{}.Kind():    claimflow.StepChargeSeller,
	queue.ReviewDeadlineArgs{}.Kind():  claimflow.StepReviewDeadline,
	queue.ContestDeadlineArgs{}.Kind(): claimflow.StepContestDeadline,
}

// scheduledJobs reads the jobs the store's changes inserted for claimID,
// in order.
func scheduledJobs(t *testing.T, st storetest.Store, claimID string) storetest.Scheduled {
	t.Helper()
	rows, err := st.(*pgstore.Store).DB().QueryContext(context.Background(),
		`SELECT kind, scheduled_at FROM river_job WHERE args->>'claim_id' = $1 ORDER BY id`, claimID)
	require.NoError(t, err)
	defer rows.Close()
	var out storetest.Scheduled
	for rows.Next() {
		var kind string
		var tm claimflow.Timer
		require.NoError(t, rows.Scan(&kind, &tm.At))
		step, ok := stepKinds[kind]
		require.True(t, ok, "job kind %q", kind)
		if step.IsTimer() {
			tm.Step, tm.At = step, tm.At.UTC()
			out.Timers = append(out.Timers, tm)
		} else {
			out.Steps = append(out.Steps, step)
		}
	}
	require.NoError(t, rows.Err())
	return out
}
