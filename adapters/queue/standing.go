package queue

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// StandingArgs is the periodic job that keeps sellers' standing current:
// it recomputes every seller whose orders, claims or risk score changed
// since its last run, and standings a day old (standingflow.Service
// RefreshChanged).
type StandingArgs struct{}

// Kind implements river.JobArgs.
func (StandingArgs) Kind() string { return "seller_standing_refresh" }

// standingOpts keeps one refresh waiting or running at a time: a run that
// outlasts the interval is not joined by a second.
func standingOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: QueueClaims, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
}

type standingWorker struct {
	river.WorkerDefaults[StandingArgs]
	refresh func(ctx context.Context) (int, error)
	log     *slog.Logger
}

func (w *standingWorker) Work(ctx context.Context, _ *river.Job[StandingArgs]) error {
	n, err := w.refresh(ctx)
	if n > 0 {
		w.log.DebugContext(ctx, "seller standings recomputed", "count", n)
	}
	return err
}

func addStanding(workers *river.Workers, refresh func(ctx context.Context) (int, error), cfg Config) (*river.PeriodicJob, error) {
	if err := river.AddWorkerSafely(workers, &standingWorker{refresh: refresh, log: cfg.Logger}); err != nil {
		return nil, err
	}
	return river.NewPeriodicJob(river.PeriodicInterval(cfg.StandingEvery),
		func() (river.JobArgs, *river.InsertOpts) { return StandingArgs{}, standingOpts() },
		&river.PeriodicJobOpts{RunOnStart: true}), nil
}
