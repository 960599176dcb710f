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

// SweepEvidenceArgs is the periodic job that deletes the blobs of failed
// uploads and of deleted evidence (evidenceflow.Service.Sweep).
type SweepEvidenceArgs struct{}

// Kind implements river.JobArgs.
func (SweepEvidenceArgs) Kind() string { return "evidence_sweep" }

// housekeepingEvery is how often the housekeeping jobs run: retention is
// counted in days and a failed upload's blob waits an hour, so an hour's
// lateness does not matter.
const housekeepingEvery = time.Hour

// housekeepingWorker runs one housekeeping task and logs what it did.
type housekeepingWorker[T river.JobArgs] struct {
	river.WorkerDefaults[T]
	work func(ctx context.Context) (int, error)
	done string // the log line when it did something
	log  *slog.Logger
}

func (w *housekeepingWorker[T]) Work(ctx context.Context, _ *river.Job[T]) error {
	n, err := w.work(ctx)
	if n > 0 {
		w.log.InfoContext(ctx, w.done, "count", n)
	}
	return err
}

// addHousekeeping registers work as an hourly job of args' kind, run once
// at start too, never two at once.
func addHousekeeping[T river.JobArgs](workers *river.Workers, args T, work func(ctx context.Context) (int, error), done string, cfg Config) (*river.PeriodicJob, error) {
	if err := river.AddWorkerSafely(workers, &housekeepingWorker[T]{work: work, done: done, log: cfg.Logger}); err != nil {
		return nil, err
	}
	opts := &river.InsertOpts{Queue: QueueClaims, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
	return river.NewPeriodicJob(river.PeriodicInterval(housekeepingEvery),
		func() (river.JobArgs, *river.InsertOpts) { return args, opts },
		&river.PeriodicJobOpts{RunOnStart: true}), nil
}
