package queue

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// QueuePolicy is the queue backtests run on, one at a time: a replay of a
// million claims keeps one core and never holds up a claim's step.
const QueuePolicy = "policy"

// backtestAttempts is how often a backtest is tried before it is marked
// failed.
const backtestAttempts = 3

// backtestTimeout bounds one attempt at a backtest.
const backtestTimeout = 30 * time.Minute

// BacktestArgs is the job that works one policy backtest.
type BacktestArgs struct {
	BacktestID string `json:"backtest_id"`
}

// Kind implements river.JobArgs.
func (BacktestArgs) Kind() string { return "policy_backtest" }

// BacktestRunner works backtests; *policyflow.Service is one.
type BacktestRunner interface {
	RunBacktest(ctx context.Context, id string, lastAttempt bool) error
}

// EnqueueBacktestTx implements pgstore.BacktestEnqueuer.
func (in *Inserter) EnqueueBacktestTx(ctx context.Context, tx *sql.Tx, id string) error {
	if _, err := in.client.InsertTx(ctx, tx, BacktestArgs{BacktestID: id}, &river.InsertOpts{Queue: QueuePolicy, MaxAttempts: backtestAttempts}); err != nil {
		return fmt.Errorf("schedule backtest %s: %w", id, err)
	}
	return nil
}

type backtestWorker struct {
	river.WorkerDefaults[BacktestArgs]
	r BacktestRunner
}

func (w *backtestWorker) Work(ctx context.Context, job *river.Job[BacktestArgs]) error {
	return w.r.RunBacktest(ctx, job.Args.BacktestID, job.Attempt >= job.MaxAttempts)
}

func (w *backtestWorker) Timeout(*river.Job[BacktestArgs]) time.Duration { return backtestTimeout }
