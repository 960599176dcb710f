package queue

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// PruneEventsArgs is the periodic job that deletes outbound events kept
// past their retention once every consumer with a cursor has taken them
// (eventflow.Prune).
type PruneEventsArgs struct{}

// Kind implements river.JobArgs.
func (PruneEventsArgs) Kind() string { return "events_prune" }

// pruneEvery is how often old events are pruned: retention is counted
// in days, so an hour's lateness does not matter.
const pruneEvery = time.Hour

type pruneEventsWorker struct {
	river.WorkerDefaults[PruneEventsArgs]
	prune func(ctx context.Context) (int, error)
	log   *slog.Logger
}

func (w *pruneEventsWorker) Work(ctx context.Context, _ *river.Job[PruneEventsArgs]) error {
	n, err := w.prune(ctx)
	if n > 0 {
		w.log.InfoContext(ctx, "outbound events pruned", "count", n)
	}
	return err
}

func addPruneEvents(workers *river.Workers, prune func(ctx context.Context) (int, error), cfg Config) (*river.PeriodicJob, error) {
	if err := river.AddWorkerSafely(workers, &pruneEventsWorker{prune: prune, log: cfg.Logger}); err != nil {
		return nil, err
	}
	opts := &river.InsertOpts{Queue: QueueClaims, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
	return river.NewPeriodicJob(river.PeriodicInterval(pruneEvery),
		func() (river.JobArgs, *river.InsertOpts) { return PruneEventsArgs{}, opts },
		&river.PeriodicJobOpts{RunOnStart: true}), nil
}
