package claimflow

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// StalledFilter selects claims whose next step (NextStep) became due
// before a time, a page at a time.
type StalledFilter struct {
	// Before: the next step became due before this time (NextStep's At).
	Before time.Time
	// After, if set, is where the previous page ended.
	After *StalledCursor
	// Limit is the most claims a page holds (at least 1).
	Limit int
}

// StalledCursor is where a page of stalled claims ended: the last claim's
// last change and id.
type StalledCursor struct {
	UpdatedAt time.Time
	ID        string
}

// StalledClaims finds claims whose next step is overdue.
type StalledClaims interface {
	// StalledClaims returns up to f.Limit claims whose next step, by
	// NextStep, became due before f.Before, in the order of their last
	// change, then id, after f.After. It reads the store only: whether a
	// job is on its way is the queue's to say.
	StalledClaims(ctx context.Context, f StalledFilter) ([]Record, error)
}

// ClaimStep is one claim's next step, for the queue to schedule.
type ClaimStep struct {
	ClaimID string
	Next    Next
}

// JobQueue is the job queue as the redrive needs it.
type JobQueue interface {
	// WithoutJobs returns those of claimIDs that no job waits for, runs
	// for or is due to retry for.
	WithoutJobs(ctx context.Context, claimIDs []string) ([]string, error)
	// Schedule schedules each claim's next step, outside any state
	// change: a step to run now, a timer at its time.
	Schedule(ctx context.Context, steps []ClaimStep) error
}

// RedriveLimit is the most claims one run of the redrive schedules again.
const RedriveLimit = 100

// Redrive schedules again the next step of claims left waiting for it
// with no job to run it (a job that gave up on a database error, say), so
// no claim waits silently.
//
//	r := &claimflow.Redrive{Store: store, Jobs: inserter, Now: time.Now, Log: log}
//	n, err := r.Run(ctx, 10*time.Minute)
type Redrive struct {
	Store StalledClaims
	Jobs  JobQueue
	Now   func() time.Time
	Log   *slog.Logger
}

// RedrivePages is how many pages of overdue claims one run looks through.
const RedrivePages = 10

// Run schedules again the next step of up to RedriveLimit claims whose
// step has been due for longer than after and that have no job, those
// waiting since longest first, and returns how many it scheduled. A step
// is due from the claim's last change, a timer from its deadline. Errors:
// the store's and the queue's.
func (r *Redrive) Run(ctx context.Context, after time.Duration) (int, error) {
	before := r.Now().Add(-after)
	var due []ClaimStep
	f := StalledFilter{Before: before, Limit: RedriveLimit}
	// At most RedrivePages pages a run: while a provider is down, many
	// overdue claims have live jobs retrying, and each page asks the queue
	// about its claims; the rest wait for the next run.
	for page := 0; len(due) < RedriveLimit && page < RedrivePages; page++ {
		recs, err := r.Store.StalledClaims(ctx, f)
		if err != nil {
			return 0, fmt.Errorf("redrive: %w", err)
		}
		if len(recs) == 0 {
			break
		}
		ids := make([]string, len(recs))
		for i, rec := range recs {
			ids[i] = rec.Claim.ID()
		}
		idle, err := r.Jobs.WithoutJobs(ctx, ids)
		if err != nil {
			return 0, fmt.Errorf("redrive: %w", err)
		}
		without := make(map[string]bool, len(idle))
		for _, id := range idle {
			without[id] = true
		}
		for _, rec := range recs {
			c := rec.Claim
			next, ok := NextStep(c)
			if !without[c.ID()] || !ok || !next.At.Before(before) {
				continue
			}
			due = append(due, ClaimStep{ClaimID: c.ID(), Next: next})
			if r.Log != nil {
				r.Log.WarnContext(ctx, "claim had no job for its next step; scheduling it again", "claim_id", c.ID(), "status", c.Status().String())
			}
			if len(due) == RedriveLimit {
				break
			}
		}
		if len(recs) < f.Limit {
			break
		}
		last := recs[len(recs)-1].Claim
		f.After = &StalledCursor{UpdatedAt: last.UpdatedAt(), ID: last.ID()}
	}
	if len(due) == 0 {
		return 0, nil
	}
	if err := r.Jobs.Schedule(ctx, due); err != nil {
		return 0, fmt.Errorf("redrive %d claims: %w", len(due), err)
	}
	return len(due), nil
}
