package queue

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/claimsd/claimsd/workflows/financeflow"
)

// QueueFinance is the queue finance's jobs run on, one at a time, so a
// long reconciliation never holds up a claim's refund.
const QueueFinance = "finance"

// reconcileAttempts is how often a run is tried before it is marked
// failed.
const reconcileAttempts = 5

// reconcileTimeout bounds one attempt at a run: a provider's refunds are
// read page by page at its rate limit.
const reconcileTimeout = 10 * time.Minute

// ReconcileArgs is the job that works one reconciliation run.
type ReconcileArgs struct {
	RunID string `json:"run_id"`
}

// Kind implements river.JobArgs.
func (ReconcileArgs) Kind() string { return "finance_reconcile" }

// ReconcileDailyArgs is the periodic job that queues the reconciliation of
// the previous day once it is over.
type ReconcileDailyArgs struct{}

// Kind implements river.JobArgs.
func (ReconcileDailyArgs) Kind() string { return "finance_reconcile_daily" }

// Reconciler runs reconciliations; *financeflow.Service is one.
type Reconciler interface {
	RunReconciliation(ctx context.Context, runID string, lastAttempt bool) error
	ScheduleDaily(ctx context.Context) ([]financeflow.Run, error)
}

var _ Reconciler = (*financeflow.Service)(nil)

// EnqueueReconciliationTx implements pgstore.RunEnqueuer.
func (in *Inserter) EnqueueReconciliationTx(ctx context.Context, tx *sql.Tx, runID string) error {
	if _, err := in.client.InsertTx(ctx, tx, ReconcileArgs{RunID: runID}, reconcileOpts()); err != nil {
		return fmt.Errorf("schedule reconciliation run %s: %w", runID, err)
	}
	return nil
}

func reconcileOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: QueueFinance, MaxAttempts: reconcileAttempts}
}

// addFinance registers finance's workers and its daily job.
func addFinance(workers *river.Workers, r Reconciler, log *slog.Logger) ([]*river.PeriodicJob, error) {
	if err := river.AddWorkerSafely(workers, &reconcileWorker{r: r}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &reconcileDailyWorker{r: r, log: log}); err != nil {
		return nil, err
	}
	// Hourly, and at start: a day is queued once it is over, and days
	// missed while no worker ran are queued as soon as one does; each
	// day's run is made once.
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) {
			return ReconcileDailyArgs{}, &river.InsertOpts{Queue: QueueFinance, MaxAttempts: 3}
		}, &river.PeriodicJobOpts{RunOnStart: true})}, nil
}

type reconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	r Reconciler
}

func (w *reconcileWorker) Work(ctx context.Context, job *river.Job[ReconcileArgs]) error {
	return w.r.RunReconciliation(ctx, job.Args.RunID, job.Attempt >= job.MaxAttempts)
}

func (w *reconcileWorker) Timeout(*river.Job[ReconcileArgs]) time.Duration { return reconcileTimeout }

type reconcileDailyWorker struct {
	river.WorkerDefaults[ReconcileDailyArgs]
	r   Reconciler
	log *slog.Logger
}

func (w *reconcileDailyWorker) Work(ctx context.Context, _ *river.Job[ReconcileDailyArgs]) error {
	runs, err := w.r.ScheduleDaily(ctx)
	for _, run := range runs {
		w.log.InfoContext(ctx, "daily reconciliation queued", "run_id", run.ID, "period", run.Period.String())
	}
	return err
}
