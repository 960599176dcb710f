package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"time"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/adapters/queue"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// backtestResult is what -backtest measured: the history loaded, a
// backtest of the active policy over it (which must change nothing) and
// one of a stricter candidate, each alone, and the open loop's decisions
// without and during a backtest of the candidate.
type backtestResult struct {
	History   historyCounts `json:"history"`
	Self      backtestRun   `json:"self"`
	Candidate backtestRun   `json:"candidate"`
	// SelfChangedNone: replaying the policy that decided every claim
	// changed no outcome, as a replay must.
	SelfChangedNone bool `json:"self_changed_none"`
	// Memory says what the RSS figures are of.
	Memory string `json:"memory"`
	// Unpaced is the candidate's replay run in claimsbench's own process
	// without the engine's pace (its changed claims counted, not
	// written): what the replay and the database can do.
	Unpaced inProcessRun `json:"unpaced_in_process"`
	Intake  []intakeStep `json:"intake"`
}

// inProcessRun is a replay in claimsbench's process: its time and its
// live Go heap (as the last collection found it, read every 50 ms)
// before, at its peak and at each tenth of the run.
type inProcessRun struct {
	Claims       int64     `json:"claims"`
	Changed      int64     `json:"changed"`
	Seconds      float64   `json:"seconds"`
	ClaimsPerS   float64   `json:"claims_per_s"`
	HeapBeforeMB float64   `json:"go_heap_before_mb"`
	HeapPeakMB   float64   `json:"go_heap_peak_mb"`
	HeapTenthsMB []float64 `json:"go_heap_tenths_mb"`
}

// backtestRun is one backtest as the engine ran it.
type backtestRun struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
	// Claims replayed and how many the version decides otherwise.
	Claims  int64 `json:"claims"`
	Changed int64 `json:"changed"`
	// Seconds from the run's start to its end as the engine recorded them
	// (the replay, the changed claims' writing and the report's);
	// WaitSeconds from queueing to completion as claimsbench saw it.
	Seconds     float64 `json:"seconds"`
	ClaimsPerS  float64 `json:"claims_per_s"`
	WaitSeconds float64 `json:"wait_seconds"`
	// The engine's resident memory just before the run was queued, its
	// peak while it ran, and at each tenth of the run (the memory
	// profile: flat when these stay near the first).
	RSSBeforeMB float64   `json:"engine_rss_before_mb"`
	RSSPeakMB   float64   `json:"engine_rss_peak_mb"`
	RSSTenthsMB []float64 `json:"engine_rss_tenths_mb"`
	// EngineCPUCores is the engine's CPU time from queueing to completion
	// over that wall time (with the open loop's, during one).
	EngineCPUCores float64 `json:"engine_cpu_cores"`
}

// intakeStep is one rate of the open loop without a backtest, then
// during one.
type intakeStep struct {
	Rate     int         `json:"rate"`
	Without  openStep    `json:"without"`
	During   openStep    `json:"during"`
	Backtest backtestRun `json:"backtest"`
	// Covered: the backtest was running from before the open loop's first
	// claim to after its last.
	Covered bool `json:"covered"`
}

// lab queues backtests and reads them, through the policy lab's service
// on the engine's database; the engine's workers run them.
type lab struct {
	st  *pgstore.Store
	svc *policyflow.Service
}

var benchRisk = claimflow.Viewer{Role: claimflow.RoleRisk, Subject: "claimsbench"}

func openLab(ctx context.Context, url string) (*lab, error) {
	st, err := pgstore.Open(ctx, url, pgstore.PoolConfig{MaxConns: 4})
	if err != nil {
		return nil, err
	}
	ins, err := queue.NewInserter(st.DB(), queue.Config{})
	if err != nil {
		st.Close()
		return nil, err
	}
	st.SetEnqueuer(ins)
	return &lab{st: st, svc: policyflow.New(policyflow.Config{Store: st, Codec: policyfile.Codec{}})}, nil
}

func (l *lab) close() { l.st.Close() }

// active returns the version that decides new claims.
func (l *lab) active(ctx context.Context) (policyflow.Version, error) {
	vs, err := l.svc.List(ctx)
	if err != nil {
		return policyflow.Version{}, err
	}
	i := slices.IndexFunc(vs, func(v policyflow.Version) bool { return v.Status == policylab.StatusActive })
	if i < 0 {
		return policyflow.Version{}, errors.New("the engine has no active policy version")
	}
	return vs[i], nil
}

// stricter drafts a candidate stricter than v: instant limits at 60 %,
// one claim fewer in 90 days before review (and linked claims likewise),
// and 21 days instead of 30 to report damaged or not-as-described goods.
func (l *lab) stricter(ctx context.Context, v policyflow.Version, suffix string) (policyflow.Version, error) {
	codec := policyfile.Codec{}
	p, err := codec.Parse(v.Document) // a copy of its own, maps included
	if err != nil {
		return policyflow.Version{}, err
	}
	p.Version = v.Version + "-strict-" + suffix
	for _, t := range p.Tiers {
		for c, limit := range t.InstantLimits {
			t.InstantLimits[c] = limit * 6 / 10
		}
	}
	p.FrequentClaims90d = max(1, p.FrequentClaims90d-1)
	if p.LinkedClaims90d > 1 {
		p.LinkedClaims90d--
	}
	for _, r := range []claim.Reason{claim.ReasonDamaged, claim.ReasonNotAsDescribed} {
		p.ClaimWindowDays[r] = min(p.ClaimWindowDays[r], 21)
	}
	doc, err := codec.Marshal(p)
	if err != nil {
		return policyflow.Version{}, err
	}
	return l.svc.Create(ctx, benchRisk, doc)
}

// start queues a backtest of version over [from, to).
func (l *lab) start(ctx context.Context, version string, from, to time.Time) (policyflow.Backtest, error) {
	return l.svc.StartBacktest(ctx, benchRisk, version, policyflow.BacktestRequest{From: from, To: to})
}

// wait polls the run every 50 ms until it is in a status done says is
// far enough.
func (l *lab) wait(ctx context.Context, id string, done func(policylab.BacktestStatus) bool) (policyflow.Backtest, error) {
	for {
		bt, err := l.svc.Backtest(ctx, id)
		if err != nil || done(bt.Status) {
			return bt, err
		}
		select {
		case <-ctx.Done():
			return bt, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func isDone(s policylab.BacktestStatus) bool { return s.Done() }

func isStarted(s policylab.BacktestStatus) bool { return s != policylab.BacktestQueued }

// backtests runs the -backtest sequence: the history, a backtest of the
// active policy and of a stricter candidate alone, then each open-loop
// rate without and during a backtest of the candidate.
func (b *bench) backtests(ctx context.Context, res *result) error {
	l, err := openLab(ctx, b.dbURL)
	if err != nil {
		return err
	}
	defer l.close()
	active, err := l.active(ctx)
	if err != nil {
		return err
	}
	b.logf("loading %d claims decided by %s over a year", b.o.backtest, active.Version)
	counts, err := loadHistory(ctx, b.dbURL, b.run_, b.o.backtest, active.Policy, time.Now().UTC(), b.logf)
	if err != nil {
		return err
	}
	b.logf("history loaded in %.0f s, settled in %.0f s", counts.LoadSeconds, counts.SettleSeconds)
	out := &backtestResult{History: counts, Memory: b.memoryKind()}
	res.Backtest = out
	from, to := counts.DecidedFrom, counts.DecidedTo.Add(time.Second)

	b.logf("backtest of the active policy %s", active.Version)
	if out.Self, err = b.backtest(ctx, l, active.Version, from, to, nil); err != nil {
		return err
	}
	out.SelfChangedNone = out.Self.Status == policylab.BacktestCompleted.String() && out.Self.Changed == 0
	cand, err := l.stricter(ctx, active, b.run_)
	if err != nil {
		return fmt.Errorf("draft the candidate: %w", err)
	}
	b.logf("backtest of the candidate %s", cand.Version)
	if out.Candidate, err = b.backtest(ctx, l, cand.Version, from, to, nil); err != nil {
		return err
	}
	b.logf("replay of the candidate in this process, unpaced")
	if out.Unpaced, err = b.replayHere(ctx, l, cand, from, to); err != nil {
		return err
	}

	for _, rate := range b.o.rates {
		step := intakeStep{Rate: rate}
		n := rate * int(b.o.duration.Seconds())
		orders, err := b.seedOrders(ctx, n)
		if err != nil {
			return err
		}
		if err := b.drain(ctx); err != nil {
			return err
		}
		b.logf("open loop at %d claims/s for %s, no backtest", rate, b.o.duration)
		step.Without = b.openLoop(ctx, rate, orders)
		if orders, err = b.seedOrders(ctx, n); err != nil {
			return err
		}
		if err := b.drain(ctx); err != nil {
			return err
		}
		var covered bool
		step.Backtest, err = b.backtest(ctx, l, cand.Version, from, to, func(id string) {
			b.logf("open loop at %d claims/s for %s during backtest %s", rate, b.o.duration, id)
			step.During = b.openLoop(ctx, rate, orders)
			bt, err := l.svc.Backtest(ctx, id)
			covered = err == nil && bt.Status == policylab.BacktestRunning
		})
		if err != nil {
			return err
		}
		step.Covered = covered
		if !covered {
			b.logf("the backtest ended before the open loop did: its figures are partly without one (shorten -duration or load more history)")
		}
		if err := b.drain(ctx); err != nil {
			return err
		}
		out.Intake = append(out.Intake, step)
	}
	return nil
}

// backtest queues a backtest of version, waits for it to run (calling
// during, if set, once it has started) and to end, and measures it.
func (b *bench) backtest(ctx context.Context, l *lab, version string, from, to time.Time, during func(id string)) (backtestRun, error) {
	before, _ := b.engineSample(ctx)
	queued := time.Now()
	bt, err := l.start(ctx, version, from, to)
	if err != nil {
		return backtestRun{}, fmt.Errorf("queue a backtest of %s: %w", version, err)
	}
	series := b.watchSeries(ctx)
	if during != nil {
		if _, err := l.wait(ctx, bt.ID, isStarted); err != nil {
			series()
			return backtestRun{}, err
		}
		during(bt.ID)
	}
	bt, err = l.wait(ctx, bt.ID, isDone)
	samples, cpu := series()
	if err != nil {
		return backtestRun{}, err
	}
	r := backtestRun{ID: bt.ID, Version: version, Status: bt.Status.String(), Error: bt.Error, Claims: bt.Replayed, Changed: bt.Changed,
		WaitSeconds: time.Since(queued).Seconds(), RSSBeforeMB: mb(before.rssBytes)}
	if !bt.StartedAt.IsZero() && bt.FinishedAt.After(bt.StartedAt) {
		r.Seconds = bt.FinishedAt.Sub(bt.StartedAt).Seconds()
		r.ClaimsPerS = float64(r.Claims) / r.Seconds
		// The run's own span of the samples.
		var run []rssPoint
		for _, s := range samples {
			if !s.at.Before(bt.StartedAt) && !s.at.After(bt.FinishedAt) {
				run = append(run, s)
			}
		}
		r.RSSTenthsMB = tenths(run, bt.StartedAt, bt.FinishedAt)
	}
	r.EngineCPUCores = cpu.Seconds() / r.WaitSeconds
	for _, s := range samples {
		r.RSSPeakMB = max(r.RSSPeakMB, mb(s.rss))
	}
	b.logf("backtest %s of %s: %s, %d claims in %.1f s (%.0f/s), %d changed, engine RSS %.0f MB before, %.0f MB at most",
		r.ID, version, r.Status, r.Claims, r.Seconds, r.ClaimsPerS, r.Changed, r.RSSBeforeMB, r.RSSPeakMB)
	if bt.Status != policylab.BacktestCompleted {
		return r, fmt.Errorf("backtest %s of %s %s: %s", bt.ID, version, bt.Status, bt.Error)
	}
	return r, nil
}

// replayHere replays v over [from, to) in this process, as fast as the
// database streams, counting the changed claims instead of writing them.
func (b *bench) replayHere(ctx context.Context, l *lab, v policyflow.Version, from, to time.Time) (inProcessRun, error) {
	svc := policyflow.New(policyflow.Config{Store: l.st, Codec: policyfile.Codec{}, ReplayRate: -1})
	var r inProcessRun
	// The heap the last collection found live: what the replay holds,
	// not the garbage it made since.
	live := func() int64 {
		m := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(m)
		return int64(m[0].Value.Uint64())
	}
	runtime.GC()
	r.HeapBeforeMB = mb(live())
	var points []rssPoint
	stop := every(50*time.Millisecond, func(now time.Time) { points = append(points, rssPoint{at: now, rss: live()}) })
	start := time.Now()
	report, err := svc.Replay(ctx, v.Policy, policyflow.Backtest{From: from, To: to}, func(cs []policyflow.ChangedClaim) error {
		r.Changed += int64(len(cs))
		return nil
	})
	end := time.Now()
	stop()
	points = append(points, rssPoint{at: end, rss: live()})
	if err != nil {
		return r, fmt.Errorf("replay %s here: %w", v.Version, err)
	}
	r.Claims, r.Seconds = report.Replayed, end.Sub(start).Seconds()
	r.ClaimsPerS = float64(r.Claims) / r.Seconds
	for _, p := range points {
		r.HeapPeakMB = max(r.HeapPeakMB, mb(p.rss))
	}
	r.HeapTenthsMB = tenths(points, start, end)
	b.logf("replay here: %d claims in %.1f s (%.0f/s), %d changed, Go heap %.1f MB before, %.1f MB at most",
		r.Claims, r.Seconds, r.ClaimsPerS, r.Changed, r.HeapBeforeMB, r.HeapPeakMB)
	return r, nil
}

func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// rssPoint is one sample of the engine's resident memory.
type rssPoint struct {
	at  time.Time
	rss int64
}

// watchSeries samples the engine's resident memory every 100 ms until the
// returned function is called, which gives the samples and the CPU time
// the engine used meanwhile.
func (b *bench) watchSeries(ctx context.Context) func() ([]rssPoint, time.Duration) {
	first, _ := b.engineSample(ctx)
	var points []rssPoint
	stop := every(100*time.Millisecond, func(now time.Time) {
		if s, err := b.engineSample(ctx); err == nil {
			points = append(points, rssPoint{at: now, rss: s.rssBytes})
		}
	})
	return func() ([]rssPoint, time.Duration) {
		stop()
		last, _ := b.engineSample(ctx)
		return append(points, rssPoint{at: time.Now(), rss: last.rssBytes}), last.cpu - first.cpu
	}
}

// tenths returns the latest sample at or before each tenth of [from, to],
// the first tenth being the run's start.
func tenths(points []rssPoint, from, to time.Time) []float64 {
	if len(points) == 0 {
		return nil
	}
	out := make([]float64, 0, 11)
	i := 0
	for k := 0; k <= 10; k++ {
		at := from.Add(time.Duration(k) * to.Sub(from) / 10)
		for i+1 < len(points) && !points[i+1].at.After(at) {
			i++
		}
		out = append(out, mb(points[i].rss))
	}
	return out
}

// memoryKind says what the memory figures are of.
func (b *bench) memoryKind() string {
	if b.engine != nil {
		return "RSS of the claimsd process claimsbench started (/proc/PID/status VmRSS), every 100 ms"
	}
	return "RSS of the running engine, from its /metrics (process_resident_memory_bytes), every 100 ms"
}
