package financeflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/ident"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// Config sets up a Service; only Store is required.
type Config struct {
	Store Store
	// Providers are the payment providers whose refunds are reconciled.
	Providers []ProviderRecords
	Now       func() time.Time
	Rand      io.Reader // ids' random bits; nil: crypto/rand
	Log       *slog.Logger
	// Margin widens the window in which the providers' refunds are read
	// on both sides of a run's period, so a refund the provider dated a
	// little before or after the engine did still meets its claim
	// (default 1 h).
	Margin time.Duration
}

// Service runs finance's use cases.
type Service struct {
	store     Store
	providers []ProviderRecords
	now       func() time.Time
	rand      io.Reader
	log       *slog.Logger
	margin    time.Duration
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Margin <= 0 {
		cfg.Margin = time.Hour
	}
	return &Service{store: cfg.Store, providers: cfg.Providers, now: cfg.Now, rand: cfg.Rand, log: cfg.Log, margin: cfg.Margin}
}

// ChargebackStatuses are the statuses a chargeback filter may name, in the
// order of a chargeback's life.
var ChargebackStatuses = []string{"open", "contested", "upheld", "final", "reversed", "waived", "voided"}

// ChargebackTotals sum a currency of a chargeback list: what was charged,
// what of it was taken off the sellers again (reversed, waived, voided)
// and what stands.
type ChargebackTotals struct {
	Currency money.Currency
	Count    int
	Charged  int64
	Released int64
	Standing int64
}

// Chargebacks streams the claims charged to sellers in the period,
// oldest first, and returns the totals per currency. Errors:
// *validation.Error for a bad filter, *claimflow.NotFoundError for an
// unknown seller, money.ErrOverflow for a total beyond int64, fn's and
// the store's.
func (s *Service) Chargebacks(ctx context.Context, f ChargebackFilter, fn func(Chargeback) error) ([]ChargebackTotals, error) {
	if f.SellerID != "" {
		if err := validation.CheckID("seller_id", f.SellerID); err != nil {
			return nil, err
		}
		if err := s.store.SellerExists(ctx, f.SellerID); err != nil {
			return nil, withField(err, "seller_id")
		}
	}
	if f.Status != "" && !slices.Contains(ChargebackStatuses, f.Status) {
		return nil, validation.Newf("status", "invalid_status", "must be one of %v", ChargebackStatuses)
	}
	totals := newTotals[ChargebackTotals](func(c money.Currency) *ChargebackTotals { return &ChargebackTotals{Currency: c} })
	err := s.store.Chargebacks(ctx, f, func(cb Chargeback) error {
		t := totals.of(cb.Amount.Currency())
		part, name := &t.Standing, "standing"
		switch cb.Status {
		case "reversed", "waived", "voided":
			part, name = &t.Released, "released"
		}
		charged, err := money.AddMinor(t.Charged, cb.Amount.Amount())
		if err != nil {
			return fmt.Errorf("chargebacks charged in %s: %w", cb.Amount.Currency(), err)
		}
		sum, err := money.AddMinor(*part, cb.Amount.Amount())
		if err != nil {
			return fmt.Errorf("chargebacks %s in %s: %w", name, cb.Amount.Currency(), err)
		}
		t.Count++
		t.Charged, *part = charged, sum
		return fn(cb)
	})
	if err != nil {
		return nil, err
	}
	return totals.sorted(func(t ChargebackTotals) string { return t.Currency.String() }), nil
}

// StatementLine is an entry of a seller statement with its category and
// the seller's balance in its currency after it.
type StatementLine struct {
	StatementEntry
	Category finance.Category
	Balance  money.Money
}

// Statement streams a seller's statement for the period: opening is
// called once with the balances owed before it, then fn with each
// entry; it returns the totals per currency, whose Closing is what the
// ledger says the seller owed at the period's end. A seller may read
// only their own. Errors: *claimflow.NotFoundError, money.ErrOverflow for
// a total beyond int64, fn's and the store's.
func (s *Service) Statement(ctx context.Context, v claimflow.Viewer, sellerID string, p finance.Period,
	opening func([]money.Money) error, fn func(StatementLine) error) ([]finance.StatementTotals, error) {
	if validation.CheckID("id", sellerID) != nil || (v.IsSeller() && v.Subject != sellerID) {
		return nil, &claimflow.NotFoundError{Resource: "seller", ID: sellerID}
	}
	if err := s.store.SellerExists(ctx, sellerID); err != nil {
		return nil, err
	}
	var st *finance.Statement
	err := s.store.SellerStatement(ctx, sellerID, p, func(open []money.Money) error {
		var err error
		if st, err = finance.NewStatement(open); err != nil {
			return err
		}
		return opening(open)
	}, func(e StatementEntry) error {
		cat, bal, err := st.Add(e.Kind, e.Amount)
		if err != nil {
			return err
		}
		return fn(StatementLine{StatementEntry: e, Category: cat, Balance: bal})
	})
	if err != nil {
		return nil, err
	}
	return st.Totals(), nil
}

// RecoveryInput is finance's record of a seller paying back.
type RecoveryInput struct {
	SellerID  string
	Amount    int64
	Currency  string
	Method    string
	Reference string
	Note      string
}

// RecordRecovery records money a seller owed coming back: the seller's
// receivable falls by the amount. Errors: *validation.Error naming the
// field; *claimflow.NotFoundError (field seller_id);
// *finance.RefusedError "over_recovery" when the seller owes less in the
// currency, "duplicate_recovery" when the reference was recorded before.
func (s *Service) RecordRecovery(ctx context.Context, v claimflow.Viewer, in RecoveryInput) (Recorded, error) {
	if err := validation.CheckID("seller_id", in.SellerID); err != nil {
		return Recorded{}, err
	}
	cur, err := money.ParseCurrency(in.Currency)
	if err != nil {
		if in.Currency == "" {
			return Recorded{}, validation.New("currency", "required", "is required")
		}
		return Recorded{}, validation.New("currency", "invalid_currency", "must be an ISO 4217 code the engine supports, such as EUR")
	}
	method, err := finance.ParseRecoveryMethod(in.Method)
	if err != nil {
		return Recorded{}, err
	}
	now := s.now().UTC()
	id, err := ident.New("rec_", now, s.rand)
	if err != nil {
		return Recorded{}, err
	}
	// Validate before touching the store, so bad input changes nothing.
	if _, err := finance.NewRecovery(id, in.SellerID, money.Of(in.Amount, cur), method, in.Reference, in.Note, v.String(), now); err != nil {
		return Recorded{}, err
	}
	rec, err := s.store.RecordRecovery(ctx, in.SellerID, func(owed []money.Money) (finance.Recovery, error) {
		r, err := finance.NewRecovery(id, in.SellerID, money.Of(in.Amount, cur), method, in.Reference, in.Note, v.String(), now)
		if err != nil {
			return finance.Recovery{}, err
		}
		return r, r.Check(owed)
	})
	if err != nil {
		return Recorded{}, withField(err, "seller_id")
	}
	return rec, nil
}

// RequestReconciliation queues a reconciliation of the period; a job
// runs it. Errors: *validation.Error for a bound outside the span of time
// the engine takes (validation.CheckTime), a period longer than
// finance.MaxReconcileSpan or starting in the future.
func (s *Service) RequestReconciliation(ctx context.Context, v claimflow.Viewer, p finance.Period) (Run, error) {
	now := s.now().UTC()
	if err := validation.CheckTime("from", p.From); err != nil {
		return Run{}, err
	}
	if err := validation.CheckTime("to", p.To); err != nil {
		return Run{}, err
	}
	if p.To.Sub(p.From) > finance.MaxReconcileSpan {
		return Run{}, validation.Newf("to", "period_too_long", "a reconciliation covers at most %d days", int(finance.MaxReconcileSpan/(24*time.Hour)))
	}
	if !p.From.Before(now) {
		return Run{}, validation.New("from", "period_in_future", "must be in the past")
	}
	r, _, err := s.createRun(ctx, p, TriggerManual, v.String(), now)
	return r, err
}

// catchUpDays is how many past days the schedule queues at most when it
// finds days without a run (the workers were down).
const catchUpDays = 7

// ScheduleDaily queues the reconciliation of each past UTC day that is
// over (its end and the margin have passed) and has no scheduled run yet:
// yesterday, and the days since the last scheduled run, up to a week. It
// first marks failed the runs whose job ended without finishing them. It
// returns the runs it queued.
func (s *Service) ScheduleDaily(ctx context.Context) ([]Run, error) {
	now := s.now().UTC()
	if n, err := s.store.FailAbandonedRuns(ctx, now); err != nil {
		return nil, err
	} else if n > 0 {
		s.log.WarnContext(ctx, "reconciliation runs whose job ended without finishing them were marked failed", "count", n)
	}
	last, found, err := s.store.LastScheduledRun(ctx)
	if err != nil {
		return nil, err
	}
	var created []Run
	for d := catchUpDays; d >= 1; d-- {
		p := finance.Day(now.AddDate(0, 0, -d))
		if now.Before(p.To.Add(s.margin)) || (found && !p.From.After(last.Period.From)) || (!found && d > 1) {
			continue
		}
		r, ok, err := s.createRun(ctx, p, TriggerSchedule, "schedule", now)
		if err != nil {
			return created, err
		}
		if ok {
			created = append(created, r)
		}
	}
	return created, nil
}

func (s *Service) createRun(ctx context.Context, p finance.Period, trigger, by string, now time.Time) (Run, bool, error) {
	id, err := ident.New("rcn_", now, s.rand)
	if err != nil {
		return Run{}, false, err
	}
	names := make([]string, len(s.providers))
	for i, pr := range s.providers {
		names[i] = pr.Name()
	}
	return s.store.CreateRun(ctx, Run{ID: id, Period: p, Trigger: trigger, RequestedBy: by,
		Status: RunQueued, Providers: names, CreatedAt: now})
}

// RunReconciliation reconciles a queued run's period and stores its
// items. A run already completed or failed is left alone. When the
// providers or the store fail, the error is returned for the job to
// retry; on the last attempt, or when retrying cannot help (a provider
// not configured here, a permanent provider error), the run is marked
// failed with the reason, even when ctx has ended.
func (s *Service) RunReconciliation(ctx context.Context, runID string, lastAttempt bool) error {
	err := s.runReconciliation(ctx, runID)
	if err == nil {
		return nil
	}
	if !lastAttempt && !permanent(err) {
		return err
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := s.store.FailRun(fctx, runID, s.now().UTC(), err.Error()); ferr != nil {
		return errors.Join(err, ferr)
	}
	if permanent(err) {
		return nil // the run says why; another attempt would fail the same way
	}
	return err
}

func (s *Service) runReconciliation(ctx context.Context, runID string) error {
	run, err := s.store.StartRun(ctx, runID, s.now().UTC())
	if err != nil {
		return err
	}
	if run.Status == RunCompleted || run.Status == RunFailed {
		return nil
	}
	items, err := s.reconcile(ctx, &run)
	if err != nil {
		return fmt.Errorf("reconcile run %s: %w", runID, err)
	}
	run.FinishedAt = s.now().UTC()
	run.Status = RunCompleted
	if err := s.store.FinishRun(ctx, run, items); err != nil {
		return fmt.Errorf("store reconciliation run %s: %w", runID, err)
	}
	s.log.InfoContext(ctx, "reconciliation run completed", "run_id", runID, "period", run.Period.String(),
		"matched", run.Summary.Matched, "exceptions", run.OpenExceptions)
	return nil
}

// errProviderMissing fails a run that names a provider this process does
// not have: reconciling without it would report a clean, empty run.
var errProviderMissing = errors.New("payment provider not configured in this process")

// permanent reports errors that another attempt cannot mend: a total
// beyond int64 stays so.
func permanent(err error) bool {
	var pe *claimflow.PaymentError
	return errors.Is(err, errProviderMissing) || errors.Is(err, money.ErrOverflow) || (errors.As(err, &pe) && pe.Permanent)
}

// reconcile gathers the three sides of the run's period and matches
// them; it fills the run's summary and counts.
func (s *Service) reconcile(ctx context.Context, run *Run) ([]finance.Item, error) {
	p := run.Period
	wide := finance.Period{From: p.From.Add(-s.margin), To: p.To.Add(s.margin)}
	if epoch := validation.EarliestTime(); wide.From.Before(epoch) {
		wide.From = epoch // providers count time from it; nothing is older
	}
	byName := map[string]ProviderRecords{}
	var names []string
	var read []finance.ProviderRefund
	for _, name := range run.Providers {
		if !slices.ContainsFunc(s.providers, func(pr ProviderRecords) bool { return pr.Name() == name }) {
			return nil, fmt.Errorf("%w: %s", errProviderMissing, name)
		}
	}
	for _, pr := range s.providers {
		if !slices.Contains(run.Providers, pr.Name()) {
			continue
		}
		byName[pr.Name()] = pr
		names = append(names, pr.Name())
		rs, err := pr.ListRefunds(ctx, wide.From, wide.To)
		if err != nil {
			return nil, fmt.Errorf("list %s refunds: %w", pr.Name(), err)
		}
		read = append(read, rs...)
	}
	// Claims the providers' refunds of the period name belong in it.
	var named []string
	for _, r := range read {
		if r.ClaimID != "" && p.Contains(r.Created) {
			named = append(named, r.ClaimID)
		}
	}
	claims, ledgers, err := s.store.ReconcileClaims(ctx, names, p, named)
	if err != nil {
		return nil, err
	}
	inRun := map[string]bool{}
	for _, c := range claims {
		inRun[c.ClaimID] = true
	}
	// Keep the refunds of the run's claims, and the period's refunds of
	// claims unknown here; the margin's others belong to other days.
	var refunds []finance.ProviderRefund
	seen := map[string]bool{}
	run.ProviderRefunds, run.ForeignRefunds = 0, 0
	for _, r := range read {
		if p.Contains(r.Created) {
			run.ProviderRefunds++
			if r.ClaimID == "" {
				run.ForeignRefunds++
			}
		}
		if inRun[r.ClaimID] || (r.ClaimID != "" && p.Contains(r.Created)) {
			refunds = append(refunds, r)
			seen[r.Provider+"/"+r.ID] = true
		}
	}
	// A claim's refund made outside the window is read by its id.
	for _, c := range claims {
		pr, ok := byName[c.Provider]
		if c.RefundID == "" || !ok || seen[c.Provider+"/"+c.RefundID] {
			continue
		}
		r, found, err := pr.GetRefund(ctx, c.RefundID)
		if err != nil {
			return nil, fmt.Errorf("read %s refund %s of claim %s: %w", c.Provider, c.RefundID, c.ClaimID, err)
		}
		if !found {
			continue
		}
		if r.ClaimID == "" {
			r.ClaimID = c.ClaimID // asked for by the claim's own record
		}
		refunds = append(refunds, r)
		seen[c.Provider+"/"+c.RefundID] = true
	}
	items := finance.Reconcile(claims, refunds, ledgers)
	if run.Summary, err = finance.Summarize(claims, refunds, ledgers, items); err != nil {
		return nil, err
	}
	run.OpenExceptions = len(items) - run.Summary.Matched
	return items, nil
}

// Runs lists reconciliation runs, newest first.
func (s *Service) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	return s.store.Runs(ctx, f)
}

// Run returns one run. Errors: *claimflow.NotFoundError.
func (s *Service) Run(ctx context.Context, id string) (Run, error) {
	if validation.CheckID("id", id) != nil {
		return Run{}, &claimflow.NotFoundError{Resource: "reconciliation", ID: id}
	}
	return s.store.GetRun(ctx, id)
}

// RunItems streams a completed run's items. Errors:
// *claimflow.NotFoundError for an unknown run; *finance.RefusedError
// "run_not_completed" for one still queued or running, or failed;
// *validation.Error (field "cursor") for an AfterSeq outside 0..MaxSeq.
func (s *Service) RunItems(ctx context.Context, f ItemFilter, fn func(RunItem) error) error {
	if f.AfterSeq < 0 || f.AfterSeq > MaxSeq {
		return validation.Newf("cursor", "invalid_cursor", "must be an item's seq, from 0 to %d", MaxSeq)
	}
	run, err := s.Run(ctx, f.RunID)
	if err != nil {
		return err
	}
	if run.Status != RunCompleted {
		return &finance.RefusedError{Code: "run_not_completed", Message: fmt.Sprintf("run %s is %s; its items are there once it completes", run.ID, run.Status)}
	}
	return s.store.RunItems(ctx, f, fn)
}

// ResolveException marks an exception of a run resolved, with the
// finance user and their note. Errors: *validation.Error without a note;
// *claimflow.NotFoundError; *finance.RefusedError "not_an_exception",
// "already_resolved".
func (s *Service) ResolveException(ctx context.Context, v claimflow.Viewer, runID string, seq int, note string) (RunItem, error) {
	if err := validation.CheckText("note", note, 1, finance.MaxNote); err != nil {
		return RunItem{}, err
	}
	if validation.CheckID("id", runID) != nil || seq < 1 || seq > MaxSeq {
		return RunItem{}, &claimflow.NotFoundError{Resource: "exception", ID: fmt.Sprintf("%s/%d", runID, seq)}
	}
	return s.store.ResolveException(ctx, runID, seq, v.String(), note, s.now().UTC())
}

// TrialBalance is every account's debits, credits and balance per
// currency, with each currency's totals: the books balance in a currency
// when its debits equal its credits.
type TrialBalance struct {
	Accounts []AccountBalance      // by account, then currency
	Totals   []finance.TrialTotals // by currency code
}

// In returns the accounts' lines in currency c, in the order of Accounts.
func (tb TrialBalance) In(c money.Currency) []AccountBalance {
	var out []AccountBalance
	for _, a := range tb.Accounts {
		if a.Currency == c {
			out = append(out, a)
		}
	}
	return out
}

// TrialBalance returns every account's debits, credits and balance per
// currency from the postings made before asOf (zero: every posting), and
// the totals per currency:
//
//	tb, err := fin.TrialBalance(ctx, time.Time{})
//	for _, t := range tb.Totals { ... t.Balanced() ... tb.In(t.Currency) ... }
//
// Errors: money.ErrOverflow for a total beyond int64; the store's.
func (s *Service) TrialBalance(ctx context.Context, asOf time.Time) (TrialBalance, error) {
	rows, err := s.store.TrialBalance(ctx, asOf)
	if err != nil {
		return TrialBalance{}, err
	}
	sum := finance.NewTrialBalance()
	for _, r := range rows {
		if err := sum.Add(r.Currency, r.Debits, r.Credits); err != nil {
			return TrialBalance{}, err
		}
	}
	return TrialBalance{Accounts: rows, Totals: sum.Totals()}, nil
}

// LedgerTransactions streams ledger transactions, oldest first. Errors:
// *validation.Error for an unknown kind or a bad id.
func (s *Service) LedgerTransactions(ctx context.Context, f LedgerFilter, fn func(LedgerTransaction) error) error {
	if f.Kind != "" && !slices.Contains(ledgerKinds, string(f.Kind)) {
		return validation.Newf("kind", "invalid_kind", "must be one of %v", ledgerKinds)
	}
	if f.ClaimID != "" && validation.CheckID("claim_id", f.ClaimID) != nil {
		return validation.New("claim_id", "invalid_id", "is not a claim id")
	}
	if len(f.Account) > 200 {
		return validation.New("account", "invalid_account", "must be at most 200 characters")
	}
	if err := validation.CheckText("account", string(f.Account), 0, 200); err != nil {
		return err // text PostgreSQL cannot hold: invalid UTF-8, NUL
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return validation.New("to", "invalid_period", "must be after from")
	}
	return s.store.LedgerTransactions(ctx, f, fn)
}

var ledgerKinds = []string{
	string(ledger.KindRefund), string(ledger.KindSellerCharge), string(ledger.KindRefundReversal),
	string(ledger.KindSellerChargeReversal), string(ledger.KindSellerRecovery),
	string(ledger.KindChargebackRelease), string(ledger.KindChargebackReleaseReversal),
	string(ledger.KindProtectedCharge), string(ledger.KindProtectionConfirm),
}

// withField names field on a not-found error that names none.
func withField(err error, field string) error {
	var nf *claimflow.NotFoundError
	if errors.As(err, &nf) && nf.Field == "" {
		c := *nf
		c.Field = field
		return &c
	}
	return err
}

// totals keeps one T per currency.
type totals[T any] struct {
	m    map[string]*T
	make func(money.Currency) *T
}

func newTotals[T any](mk func(money.Currency) *T) *totals[T] {
	return &totals[T]{m: map[string]*T{}, make: mk}
}

func (t *totals[T]) of(c money.Currency) *T {
	v, ok := t.m[c.String()]
	if !ok {
		v = t.make(c)
		t.m[c.String()] = v
	}
	return v
}

func (t *totals[T]) sorted(key func(T) string) []T {
	out := make([]T, 0, len(t.m))
	for _, v := range t.m {
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return out
}
