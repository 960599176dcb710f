package policyflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/ident"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// Bounds of a backtest request.
const (
	MaxBacktestSpan = 3 * 366 * 24 * time.Hour // three years of decisions
	MaxFilterValues = 20
	// changedBatch is how many changed claims are written at a time.
	changedBatch = 5000
)

// earliest is the first moment a backtest may start from: no claim is
// older.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// StartBacktest queues a backtest of version over the claims decided in
// [req.From, req.To). Errors: *validation.Error, *claimflow.NotFoundError.
func (s *Service) StartBacktest(ctx context.Context, v claimflow.Viewer, version string, req BacktestRequest) (Backtest, error) {
	if _, err := s.get(ctx, version); err != nil {
		return Backtest{}, err
	}
	now := s.clock()
	if err := checkRequest(req, now); err != nil {
		return Backtest{}, err
	}
	id, err := ident.New("pbt_", now, s.rand)
	if err != nil {
		return Backtest{}, err
	}
	b := Backtest{ID: id, Version: version, From: req.From.UTC(), To: req.To.UTC(), Filters: req.Filters,
		Status: policylab.BacktestQueued, RequestedBy: v.String(), CreatedAt: now}
	if err := s.store.CreateBacktest(ctx, b); err != nil {
		return Backtest{}, err
	}
	s.log.InfoContext(ctx, "policy backtest queued", "backtest_id", id, "version", version, "from", b.From, "to", b.To, "by", b.RequestedBy)
	return b, nil
}

func checkRequest(req BacktestRequest, now time.Time) error {
	var errs []error
	latest := now.Add(24 * time.Hour)
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"from", req.From}, {"to", req.To}} {
		switch {
		case f.t.IsZero():
			errs = append(errs, validation.New(f.name, "required", "is required"))
		case f.t.Before(earliest) || f.t.After(latest):
			errs = append(errs, validation.Newf(f.name, "out_of_range", "must be between %s and a day from now", earliest.Format("2006-01-02")))
		}
	}
	if len(errs) == 0 {
		switch {
		case !req.To.After(req.From):
			errs = append(errs, validation.New("to", "before_from", "must be after from"))
		case req.To.Sub(req.From) > MaxBacktestSpan:
			errs = append(errs, validation.New("to", "span_too_long", "must be at most three years after from"))
		}
	}
	f := req.Filters
	if len(f.Reasons) > MaxFilterValues {
		errs = append(errs, validation.Newf("filters.reasons", "too_many", "may list at most %d reasons", MaxFilterValues))
	}
	if len(f.Currencies) > MaxFilterValues {
		errs = append(errs, validation.Newf("filters.currencies", "too_many", "may list at most %d currencies", MaxFilterValues))
	}
	if f.SellerID != "" {
		if err := validation.CheckID("filters.seller_id", f.SellerID); err != nil {
			errs = append(errs, err)
		}
	}
	if f.DecidedBy != "" && !validVersion(f.DecidedBy) {
		errs = append(errs, validation.New("filters.decided_by", "invalid_version", "must be a policy version: letters, digits and - _ ., at most 64 characters"))
	}
	return errors.Join(errs...)
}

// Backtest returns one run. Errors: *claimflow.NotFoundError.
func (s *Service) Backtest(ctx context.Context, id string) (Backtest, error) {
	if validation.CheckID("id", id) != nil || !strings.HasPrefix(id, "pbt_") {
		return Backtest{}, &claimflow.NotFoundError{Resource: "backtest", ID: id}
	}
	return s.store.Backtest(ctx, id)
}

// Backtests lists version's runs, newest first, at most limit.
func (s *Service) Backtests(ctx context.Context, version string, limit int) ([]Backtest, error) {
	if _, err := s.get(ctx, version); err != nil {
		return nil, err
	}
	return s.store.Backtests(ctx, version, limit)
}

// ChangedClaims pages through the claims a completed run's candidate
// decides otherwise. Errors: *claimflow.NotFoundError, *ConflictError
// (backtest_not_completed), *validation.Error.
func (s *Service) ChangedClaims(ctx context.Context, id string, q ClaimQuery) ([]ChangedClaim, error) {
	b, err := s.Backtest(ctx, id)
	if err != nil {
		return nil, err
	}
	if b.Status != policylab.BacktestCompleted {
		return nil, &ConflictError{Code: "backtest_not_completed", Message: fmt.Sprintf("the backtest is %s; its claims are listed once it completes", b.Status)}
	}
	if q, err = checkQuery(q); err != nil {
		return nil, err
	}
	return s.store.ChangedClaims(ctx, id, q)
}

func checkQuery(q ClaimQuery) (ClaimQuery, error) {
	switch {
	case q.Limit == 0:
		q.Limit = DefaultClaimLimit
	case q.Limit < 1 || q.Limit > MaxClaimLimit:
		return q, validation.Newf("limit", "out_of_range", "must be between 1 and %d", MaxClaimLimit)
	}
	if q.After != "" && validation.CheckID("cursor", q.After) != nil {
		return q, validation.New("cursor", "invalid_cursor", "is not a cursor this list gave")
	}
	return q, nil
}

// RunBacktest works run id (the backtest job): it replays the candidate
// over each recorded decision, in the order they were made, with the facts
// and at the moment recorded, and stores the report and the changed
// claims. A failed attempt is retried; on the last the run is marked
// failed with the reason.
func (s *Service) RunBacktest(ctx context.Context, id string, lastAttempt bool) error {
	err := s.runBacktest(ctx, id)
	if err == nil || !lastAttempt {
		return err
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := s.store.FailBacktest(fctx, id, s.clock(), err.Error()); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}

func (s *Service) runBacktest(ctx context.Context, id string) error {
	b, err := s.store.StartBacktest(ctx, id, s.clock())
	if err != nil {
		return err
	}
	if b.Status.Done() {
		return nil
	}
	v, err := s.get(ctx, b.Version)
	if err != nil {
		return err
	}
	started := time.Now()
	report, err := s.Replay(ctx, v.Policy, b, func(batch []ChangedClaim) error {
		return s.store.AddChangedClaims(ctx, id, batch)
	})
	if err != nil {
		return fmt.Errorf("backtest %s: %w", id, err)
	}
	b.Status, b.FinishedAt = policylab.BacktestCompleted, s.clock()
	b.Replayed, b.Changed, b.Report = report.Replayed, report.Changed, Doc(report)
	if err := s.store.FinishBacktest(ctx, b); err != nil {
		return fmt.Errorf("store backtest %s: %w", id, err)
	}
	s.log.InfoContext(ctx, "policy backtest completed", "backtest_id", id, "version", b.Version,
		"replayed", b.Replayed, "changed", b.Changed, "took", time.Since(started).Round(time.Millisecond).String())
	return nil
}

// Replay replays p over the decisions b covers and returns the report;
// changed claims go to save in batches. Memory stays flat whatever the
// number of claims: the cases stream in, and only the tallies and one
// batch are held. It replays at most the Service's ReplayRate claims a
// second; while it waits, so does the database's stream.
func (s *Service) Replay(ctx context.Context, p decision.Policy, b Backtest, save func([]ChangedClaim) error) (*policylab.Report, error) {
	rp, err := NewReplayer(p)
	if err != nil {
		return nil, err
	}
	batch := make([]ChangedClaim, 0, changedBatch)
	pace := newPacer(s.replayRate)
	err = s.store.ReplayCases(ctx, b.From, b.To, b.Filters, func(c policylab.Case) error {
		if err := pace.wait(ctx); err != nil {
			return err
		}
		cc, ok := rp.Add(c)
		if !ok {
			return nil
		}
		batch = append(batch, cc)
		if len(batch) == changedBatch {
			if err := save(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(batch) > 0 {
		if err := save(batch); err != nil {
			return nil, err
		}
	}
	return rp.Report(), nil
}

// Replayer replays recorded decisions under one policy and tallies them:
// the loop of a backtest, apart from where the cases come from and where
// the changed claims go. The policy is validated once, not for every
// claim as decision.Decide does.
//
//	rp, err := policyflow.NewReplayer(candidate)
//	for _, c := range cases {
//		if cc, ok := rp.Add(c); ok {
//			changed = append(changed, cc)
//		}
//	}
//	report := rp.Report()
type Replayer struct {
	dc     *decision.Decider
	report *policylab.Report
}

// NewReplayer returns a Replayer of p. Errors: *InvalidPolicyError.
func NewReplayer(p decision.Policy) (*Replayer, error) {
	dc, err := decision.NewDecider(p)
	if err != nil {
		return nil, invalid(err)
	}
	return &Replayer{dc: dc, report: policylab.NewReport()}, nil
}

// Add decides c's facts at the moment it was decided, tallies the
// decision, and returns the claim as changed when the outcome differs
// from the one it got.
func (r *Replayer) Add(c policylab.Case) (ChangedClaim, bool) {
	d := r.dc.Decide(c.Facts, c.DecidedAt)
	if !r.report.Add(c, d) {
		return ChangedClaim{}, false
	}
	return changed(c, d), true
}

// Report is the tally so far.
func (r *Replayer) Report() *policylab.Report { return r.report }

func changed(c policylab.Case, d decision.Decision) ChangedClaim {
	codes := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		codes[i] = r.Code
	}
	return ChangedClaim{ClaimID: c.ClaimID, Change: policylab.Change{Got: c.Got, Candidate: d.Outcome}, Amount: c.Facts.Amount, Reasons: codes}
}

// ShadowReport is the live report of a version's shadow decisions.
type ShadowReport struct {
	Version Version
	// Since is when the version last went into shadow.
	Since  time.Time
	Report *ReportDoc
}

// ShadowReport tallies what version decided in shadow against what the
// claims got: the same report as a backtest's, over the claims filed
// while it was in shadow. Errors: *claimflow.NotFoundError.
func (s *Service) ShadowReport(ctx context.Context, version string) (ShadowReport, error) {
	v, err := s.get(ctx, version)
	if err != nil {
		return ShadowReport{}, err
	}
	report := policylab.NewReport()
	err = s.store.ShadowCases(ctx, version, func(c policylab.Case, sd ShadowDecision) error {
		report.Add(c, decision.Decision{Outcome: sd.Outcome, Tier: sd.Tier, PolicyVersion: version})
		return nil
	})
	if err != nil {
		return ShadowReport{}, err
	}
	return ShadowReport{Version: v, Since: v.ShadowAt, Report: Doc(report)}, nil
}

// ShadowClaims pages through the claims version decided otherwise in
// shadow. Errors: *claimflow.NotFoundError, *validation.Error.
func (s *Service) ShadowClaims(ctx context.Context, version string, q ClaimQuery) ([]ChangedClaim, error) {
	if _, err := s.get(ctx, version); err != nil {
		return nil, err
	}
	q, err := checkQuery(q)
	if err != nil {
		return nil, err
	}
	return s.store.ShadowChangedClaims(ctx, version, q)
}

// ParseFilters reads filter values as the API and console take them.
// Errors: *validation.Error naming the value.
func ParseFilters(reasons, currencies []string, sellerID, decidedBy string) (Filters, error) {
	f := Filters{SellerID: sellerID, DecidedBy: decidedBy}
	var errs []error
	for i, r := range reasons {
		cr, err := claim.ParseReason(r)
		if err != nil {
			errs = append(errs, validation.Newf(validation.Indexed("filters.reasons", i), "unknown_reason", "%q is not a claim reason", r))
			continue
		}
		f.Reasons = append(f.Reasons, cr)
	}
	for i, c := range currencies {
		cur, err := money.ParseCurrency(c)
		if err != nil {
			errs = append(errs, validation.Newf(validation.Indexed("filters.currencies", i), "unknown_currency", "%q is not a currency", c))
			continue
		}
		f.Currencies = append(f.Currencies, cur)
	}
	return f, errors.Join(errs...)
}

// pacer holds a loop to a rate: every hundredth of a second's worth of
// calls, wait sleeps until the call is due.
type pacer struct {
	rate  int
	every int
	n     int
	start time.Time
}

func newPacer(rate int) *pacer { return &pacer{rate: rate, every: max(rate/100, 1)} }

func (p *pacer) wait(ctx context.Context) error {
	if p.rate <= 0 {
		return nil
	}
	if p.n == 0 {
		p.start = time.Now()
	}
	p.n++
	if p.n%p.every != 0 {
		return nil
	}
	// The first call is due at once, the nth at (n-1)/rate.
	ahead := time.Until(p.start.Add(time.Duration(float64(p.n-1) / float64(p.rate) * float64(time.Second))))
	if ahead <= 0 {
		return nil
	}
	t := time.NewTimer(ahead)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
