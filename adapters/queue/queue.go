// Package queue runs the claim workflow's steps as River jobs on
// PostgreSQL. Jobs are inserted in the same transaction as the state
// change that calls for them (through River's database/sql driver on the
// *sql.Tx gorm holds) and worked by a client on pgx, woken by LISTEN/NOTIFY.
//
//	ins, _ := queue.NewInserter(store.DB())
//	store.SetEnqueuer(ins)
//	w, _ := queue.NewWorkers(store.Pool(), queue.Steps{...}, queue.Config{})
//	w.Start(ctx)
package queue

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/claimsd/claimsd/workflows/claimflow"
)

// QueueClaims is the queue the claim steps run on.
const QueueClaims = "claims"

// RefundArgs is the job that runs claimflow's refund step for a claim.
type RefundArgs struct {
	ClaimID string `json:"claim_id"`
}

// Kind implements river.JobArgs.
func (RefundArgs) Kind() string { return "claim_refund" }

// ChargeSellerArgs is the job that runs the charge-seller step.
type ChargeSellerArgs struct {
	ClaimID string `json:"claim_id"`
}

// Kind implements river.JobArgs.
func (ChargeSellerArgs) Kind() string { return "claim_charge_seller" }

// ReviewDeadlineArgs is the timer of a claim's review deadline.
type ReviewDeadlineArgs struct {
	ClaimID string `json:"claim_id"`
}

// Kind implements river.JobArgs.
func (ReviewDeadlineArgs) Kind() string { return "claim_review_deadline" }

// ContestDeadlineArgs is the timer of the end of a chargeback's contest
// window.
type ContestDeadlineArgs struct {
	ClaimID string `json:"claim_id"`
}

// Kind implements river.JobArgs.
func (ContestDeadlineArgs) Kind() string { return "claim_contest_deadline" }

// SweepPendingArgs is the periodic job that asks providers about refunds
// left pending (their webhooks may be lost).
type SweepPendingArgs struct{}

// Kind implements river.JobArgs.
func (SweepPendingArgs) Kind() string { return "refunds_sweep_pending" }

// RedriveArgs is the periodic job that runs claimflow.Redrive: it
// schedules again the step of any claim left waiting for a step that has
// no job (one that gave up on a database error, say), so no claim waits
// silently.
type RedriveArgs struct{}

// Kind implements river.JobArgs.
func (RedriveArgs) Kind() string { return "claims_redrive" }

// Config tunes the workers.
type Config struct {
	// Concurrency is how many jobs one process works at once (default 20).
	Concurrency int
	// MaxAttempts is how often a step is tried before the claim is marked
	// failed (default 10).
	MaxAttempts int
	// JobTimeout bounds one attempt (default 10 s).
	JobTimeout time.Duration
	// RescueAfter is when a job whose worker died is run again (default
	// 15 s; River's own default is an hour). Must exceed JobTimeout.
	RescueAfter time.Duration
	Logger      *slog.Logger
	// SweepEvery is how often refunds left pending are re-read, and
	// claims left without their next step are scheduled again (default 5
	// minutes).
	SweepEvery time.Duration
	// RedriveAfter is how long a claim may wait for its next step with no
	// job for it before the step is scheduled again (default 10 minutes).
	RedriveAfter time.Duration
	// StandingEvery is how often sellers' standing is brought up to date
	// with what changed (default 10 s): how long a confirmed counterfeit
	// may take to reach the next decision on its seller.
	StandingEvery time.Duration
	// Observe, if set, is told of every step run (for metrics).
	Observe func(step string, attempt int, err error, d time.Duration)
}

func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = 20
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 10 * time.Second
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.SweepEvery <= 0 {
		c.SweepEvery = 5 * time.Minute
	}
	if c.RedriveAfter <= 0 {
		c.RedriveAfter = 10 * time.Minute
	}
	if c.StandingEvery <= 0 {
		c.StandingEvery = 10 * time.Second
	}
	return c
}

// Migrate creates or updates River's tables.
func Migrate(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	var names []string
	for _, v := range res.Versions {
		names = append(names, fmt.Sprintf("river %03d %s", v.Version, v.Name))
	}
	return names, nil
}

// Pending returns how many of River's migrations are not applied.
func Pending(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return 0, err
	}
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('river_migration') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, err
	}
	all := len(m.AllVersions())
	if !exists {
		return all, nil
	}
	have, err := m.ExistingVersions(ctx)
	if err != nil {
		return 0, err
	}
	return all - len(have), nil
}

// insertNotifyEvery is how often, at most, inserts wake the workers.
const insertNotifyEvery = 20 * time.Millisecond

// Inserter schedules steps in the caller's database/sql transaction
// (pgstore.Enqueuer), and outside any for the redrive
// (claimflow.JobQueue).
type Inserter struct {
	db          *sql.DB
	client      *river.Client[*sql.Tx]
	maxAttempts int
}

var _ claimflow.JobQueue = (*Inserter)(nil)

// NewInserter returns an insert-only River client over db.
func NewInserter(db *sql.DB, cfg Config) (*Inserter, error) {
	cfg = cfg.withDefaults()
	c, err := river.NewClient(riverdatabasesql.New(db), &river.Config{
		Logger: cfg.Logger, MaxAttempts: cfg.MaxAttempts,
		// An insert wakes the workers with NOTIFY at most once per
		// FetchCooldown and queue. Every notifying transaction holds
		// PostgreSQL's one notification lock through its commit, so they
		// commit one at a time: a notify per insert caps the whole engine
		// at one commit's fsync per claim step. Once per 20 ms (the
		// workers' own fetch cooldown) keeps a wake-up always on its way
		// under load; River's 100 ms would leave a lone claim's next step
		// to the poll.
		FetchCooldown: insertNotifyEvery,
	})
	if err != nil {
		return nil, fmt.Errorf("river inserter: %w", err)
	}
	return &Inserter{db: db, client: c, maxAttempts: cfg.MaxAttempts}, nil
}

// EnqueueTx implements pgstore.Enqueuer. A timer is a job scheduled at
// its time; one claim has at most one of each kind waiting, and a timer
// that finds its deadline moved later waits again.
func (in *Inserter) EnqueueTx(ctx context.Context, tx *sql.Tx, claimID string, steps []claimflow.Step, timers []claimflow.Timer) error {
	params := make([]river.InsertManyParams, 0, len(steps)+len(timers))
	for _, st := range steps {
		p, err := in.stepParams(claimID, st)
		if err != nil {
			return err
		}
		params = append(params, p)
	}
	for _, tm := range timers {
		p, err := in.timerParams(claimID, tm)
		if err != nil {
			return err
		}
		params = append(params, p)
	}
	if len(params) == 0 {
		return nil
	}
	// One statement for all of a change's jobs.
	if _, err := in.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("schedule %v and timers %v for claim %s: %w", steps, timers, claimID, err)
	}
	return nil
}

// Schedule implements claimflow.JobQueue: each claim's next step, a step
// to run now and a timer at its time, in one statement of its own
// transaction. A timer whose time has passed runs now, as a step does,
// rather than wait for River to find it due.
func (in *Inserter) Schedule(ctx context.Context, steps []claimflow.ClaimStep) error {
	params := make([]river.InsertManyParams, 0, len(steps))
	for _, cs := range steps {
		var p river.InsertManyParams
		var err error
		if cs.Next.Step.IsTimer() {
			at := cs.Next.At
			if !at.After(time.Now()) {
				at = time.Time{}
			}
			p, err = in.timerParams(cs.ClaimID, claimflow.Timer{Step: cs.Next.Step, At: at})
		} else {
			p, err = in.stepParams(cs.ClaimID, cs.Next.Step)
		}
		if err != nil {
			return err
		}
		params = append(params, p)
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := in.client.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("schedule the next step of %d claims: %w", len(steps), err)
	}
	return nil
}

// WithoutJobs implements claimflow.JobQueue: those of claimIDs that have
// no job in a live state (liveStates), of any kind, in the order given.
func (in *Inserter) WithoutJobs(ctx context.Context, claimIDs []string) ([]string, error) {
	if len(claimIDs) == 0 {
		return nil, nil
	}
	states := make([]string, len(liveStates))
	for i, s := range liveStates {
		states[i] = string(s)
	}
	rows, err := in.db.QueryContext(ctx, `
		SELECT c.id FROM unnest($1::text[]) WITH ORDINALITY AS c(id, n)
		 WHERE NOT EXISTS (SELECT 1 FROM river_job j
		                    WHERE j.args->>'claim_id' = c.id AND j.state = ANY($2::river_job_state[]))
		 ORDER BY c.n`, claimIDs, states)
	if err != nil {
		return nil, fmt.Errorf("jobs of %d claims: %w", len(claimIDs), err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("jobs of %d claims: %w", len(claimIDs), err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs of %d claims: %w", len(claimIDs), err)
	}
	return out, nil
}

// liveStates are the states of a job still to run: waiting, running or
// due to be retried.
var liveStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// stepParams is the job that runs step for claimID at once.
func (in *Inserter) stepParams(claimID string, step claimflow.Step) (river.InsertManyParams, error) {
	args, err := jobArgs(step, claimID)
	if err != nil {
		return river.InsertManyParams{}, err
	}
	return river.InsertManyParams{Args: args, InsertOpts: &river.InsertOpts{Queue: QueueClaims, MaxAttempts: in.maxAttempts}}, nil
}

// timerParams is the job that runs tm for claimID at its time, unique per
// claim and kind among the jobs still to run.
func (in *Inserter) timerParams(claimID string, tm claimflow.Timer) (river.InsertManyParams, error) {
	args, err := jobArgs(tm.Step, claimID)
	if err != nil {
		return river.InsertManyParams{}, err
	}
	return river.InsertManyParams{Args: args, InsertOpts: &river.InsertOpts{
		Queue: QueueClaims, MaxAttempts: in.maxAttempts, ScheduledAt: tm.At,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates},
	}}, nil
}

func jobArgs(st claimflow.Step, claimID string) (river.JobArgs, error) {
	switch st {
	case claimflow.StepRefund:
		return RefundArgs{ClaimID: claimID}, nil
	case claimflow.StepChargeSeller:
		return ChargeSellerArgs{ClaimID: claimID}, nil
	case claimflow.StepReviewDeadline:
		return ReviewDeadlineArgs{ClaimID: claimID}, nil
	case claimflow.StepContestDeadline:
		return ContestDeadlineArgs{ClaimID: claimID}, nil
	}
	return nil, fmt.Errorf("schedule step %q: unknown step", st)
}

// Steps are the workflow steps the workers run.
type Steps struct {
	Refund       *claimflow.RefundStep
	ChargeSeller *claimflow.ChargeSellerStep
	Deadlines    *claimflow.DeadlineStep
	// Redrive runs every Config.SweepEvery, for claims left waiting
	// Config.RedriveAfter for a step with no job.
	Redrive *claimflow.Redrive
	// SweepPending, if set, runs every Config.SweepEvery.
	SweepPending func(ctx context.Context) (int, error)
	// Reconcile, if set, works reconciliation runs and queues each day's.
	Reconcile Reconciler
	// Standing, if set, runs every Config.StandingEvery
	// (standingflow.Service.RefreshChanged).
	Standing func(ctx context.Context) (int, error)
	// PruneEvents, if set, runs hourly (eventflow.Prune).
	PruneEvents func(ctx context.Context) (int, error)
	// SweepEvidence, if set, runs hourly (evidenceflow.Service.Sweep).
	SweepEvidence func(ctx context.Context) (int, error)
	// Backtests, if set, works policy backtests on their own queue.
	Backtests BacktestRunner
}

// Workers works the claim queue.
type Workers struct {
	client *river.Client[pgx.Tx]
}

// NewWorkers returns a worker client on pool; call Start to begin.
func NewWorkers(pool *pgxpool.Pool, steps Steps, cfg Config) (*Workers, error) {
	cfg = cfg.withDefaults()
	if steps.Refund == nil || steps.ChargeSeller == nil || steps.Deadlines == nil || steps.Redrive == nil {
		return nil, fmt.Errorf("queue: the refund, charge-seller and deadline steps and the redrive are all required")
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &stepWorker[RefundArgs]{
		run: observed(cfg, string(claimflow.StepRefund), steps.Refund.Run), timeout: cfg.JobTimeout,
	}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &stepWorker[ChargeSellerArgs]{
		run: observed(cfg, string(claimflow.StepChargeSeller), steps.ChargeSeller.Run), timeout: cfg.JobTimeout,
	}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &timerWorker[ReviewDeadlineArgs]{run: steps.Deadlines.RunReview, cfg: cfg, step: string(claimflow.StepReviewDeadline)}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &timerWorker[ContestDeadlineArgs]{run: steps.Deadlines.RunContest, cfg: cfg, step: string(claimflow.StepContestDeadline)}); err != nil {
		return nil, err
	}
	var periodic []*river.PeriodicJob
	if steps.SweepPending != nil {
		if err := river.AddWorkerSafely(workers, &sweepWorker{sweep: steps.SweepPending, log: cfg.Logger}); err != nil {
			return nil, err
		}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(cfg.SweepEvery),
			func() (river.JobArgs, *river.InsertOpts) {
				return SweepPendingArgs{}, &river.InsertOpts{Queue: QueueClaims, MaxAttempts: 1}
			}, &river.PeriodicJobOpts{RunOnStart: true}))
	}
	if err := river.AddWorkerSafely(workers, &redriveWorker{redrive: steps.Redrive, after: cfg.RedriveAfter}); err != nil {
		return nil, err
	}
	periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(cfg.SweepEvery),
		func() (river.JobArgs, *river.InsertOpts) {
			return RedriveArgs{}, &river.InsertOpts{Queue: QueueClaims, MaxAttempts: 1}
		}, &river.PeriodicJobOpts{RunOnStart: true}))
	if steps.Standing != nil {
		job, err := addStanding(workers, steps.Standing, cfg)
		if err != nil {
			return nil, err
		}
		periodic = append(periodic, job)
	}
	if steps.PruneEvents != nil {
		job, err := addHousekeeping(workers, PruneEventsArgs{}, steps.PruneEvents, "outbound events pruned", cfg)
		if err != nil {
			return nil, err
		}
		periodic = append(periodic, job)
	}
	if steps.SweepEvidence != nil {
		job, err := addHousekeeping(workers, SweepEvidenceArgs{}, steps.SweepEvidence, "evidence blobs deleted", cfg)
		if err != nil {
			return nil, err
		}
		periodic = append(periodic, job)
	}
	queues := map[string]river.QueueConfig{QueueClaims: {MaxWorkers: cfg.Concurrency}}
	if steps.Reconcile != nil {
		daily, err := addFinance(workers, steps.Reconcile, cfg.Logger)
		if err != nil {
			return nil, err
		}
		periodic = append(periodic, daily...)
		queues[QueueFinance] = river.QueueConfig{MaxWorkers: 1}
	}
	if steps.Backtests != nil {
		if err := river.AddWorkerSafely(workers, &backtestWorker{r: steps.Backtests}); err != nil {
			return nil, err
		}
		queues[QueuePolicy] = river.QueueConfig{MaxWorkers: 1}
	}
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		PeriodicJobs:         periodic,
		Queues:               queues,
		Workers:              workers,
		Logger:               cfg.Logger,
		MaxAttempts:          cfg.MaxAttempts,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		RetryPolicy:          backoff{},
		// Woken by NOTIFY, a worker fetches at most every 20 ms. Inserts
		// notify at most every 20 ms too, so a claim's next step inserted
		// just after another's wake-up is found by the poll: every 100 ms
		// (a cheap query) keeps that wait short.
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 100 * time.Millisecond,
	})
	if err != nil {
		return nil, fmt.Errorf("river workers: %w", err)
	}
	return &Workers{client: c}, nil
}

// Start begins working jobs until Stop.
func (w *Workers) Start(ctx context.Context) error { return w.client.Start(ctx) }

// Stop lets jobs in flight finish (until ctx ends), then stops.
func (w *Workers) Stop(ctx context.Context) error { return w.client.Stop(ctx) }

// observed wraps a step's run with a log line carrying the claim id and a
// metrics observation.
func observed(cfg Config, step string, run func(ctx context.Context, claimID string, attempt, max int) error) func(ctx context.Context, claimID string, attempt, max int) error {
	return func(ctx context.Context, claimID string, attempt, max int) error {
		start := time.Now()
		err := run(ctx, claimID, attempt, max)
		d := time.Since(start)
		if cfg.Observe != nil {
			cfg.Observe(step, attempt, err, d)
		}
		if err != nil {
			cfg.Logger.WarnContext(ctx, "step will be retried", "step", step, "claim_id", claimID,
				"attempt", attempt, "max_attempts", max, "err", err)
		} else {
			cfg.Logger.InfoContext(ctx, "step done", "step", step, "claim_id", claimID, "attempt", attempt, "duration", d)
		}
		return err
	}
}

// claimJob is the args of a job that runs one step for one claim.
type claimJob interface {
	river.JobArgs
	claim() string
}

func (a RefundArgs) claim() string          { return a.ClaimID }
func (a ChargeSellerArgs) claim() string    { return a.ClaimID }
func (a ReviewDeadlineArgs) claim() string  { return a.ClaimID }
func (a ContestDeadlineArgs) claim() string { return a.ClaimID }

// timerWorker runs a deadline step; a deadline still ahead snoozes the
// job until it comes.
type timerWorker[A claimJob] struct {
	river.WorkerDefaults[A]
	run  func(ctx context.Context, claimID string) (time.Duration, error)
	cfg  Config
	step string
}

func (w *timerWorker[A]) Work(ctx context.Context, job *river.Job[A]) error {
	start := time.Now()
	wait, err := w.run(ctx, job.Args.claim())
	if w.cfg.Observe != nil {
		w.cfg.Observe(w.step, job.Attempt, err, time.Since(start))
	}
	if err != nil {
		w.cfg.Logger.WarnContext(ctx, "timer will be retried", "step", w.step, "claim_id", job.Args.claim(), "err", err)
		return err
	}
	if wait > 0 {
		return river.JobSnooze(wait)
	}
	return nil
}

func (w *timerWorker[A]) Timeout(*river.Job[A]) time.Duration { return w.cfg.JobTimeout }

// stepWorker runs one workflow step for the claim its job names.
type stepWorker[A claimJob] struct {
	river.WorkerDefaults[A]
	run     func(ctx context.Context, claimID string, attempt, max int) error
	timeout time.Duration
}

func (w *stepWorker[A]) Work(ctx context.Context, job *river.Job[A]) error {
	return w.run(ctx, job.Args.claim(), job.Attempt, job.MaxAttempts)
}

func (w *stepWorker[A]) Timeout(*river.Job[A]) time.Duration { return w.timeout }

// redriveWorker runs the redrive: claims that wait for a step with no
// job to run it get one.
type redriveWorker struct {
	river.WorkerDefaults[RedriveArgs]
	redrive *claimflow.Redrive
	after   time.Duration
}

func (w *redriveWorker) Work(ctx context.Context, _ *river.Job[RedriveArgs]) error {
	_, err := w.redrive.Run(ctx, w.after)
	return err
}

type sweepWorker struct {
	river.WorkerDefaults[SweepPendingArgs]
	sweep func(ctx context.Context) (int, error)
	log   *slog.Logger
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepPendingArgs]) error {
	n, err := w.sweep(ctx)
	if n > 0 {
		w.log.InfoContext(ctx, "pending refunds re-read", "count", n)
	}
	return err
}

// backoff retries after 1 s, 2 s, 4 s, ... up to 5 minutes, with ±10 %
// jitter so a burst of failures does not retry in lockstep. River's
// default (attempt⁴ seconds) waits too long for a shopper's refund.
type backoff struct{}

func (backoff) NextRetry(job *rivertype.JobRow) time.Time {
	n := max(len(job.Errors), 1)
	d := time.Duration(math.Min(math.Pow(2, float64(n-1)), 300)) * time.Second
	jitter := time.Duration((rand.Float64()*0.2 - 0.1) * float64(d))
	return time.Now().Add(d + jitter)
}
