// Package financeflow holds finance's use cases: chargebacks by period,
// seller statements, recording what sellers paid back, reconciling the
// engine's refunds with the payment providers' and the ledger, and the
// ledger's own views. It orchestrates the finance domain; adapters
// implement the ports.
package financeflow

import (
	"context"
	"math"
	"time"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
)

// Chargeback is a claim charged to its seller.
type Chargeback struct {
	ClaimID    string
	OrderID    string
	SellerID   string
	SellerName string
	Reason     string
	Amount     money.Money
	ChargedAt  time.Time
	// Status of the charge: open, contested, upheld, final, reversed,
	// waived or voided.
	Status    string
	ContestBy time.Time
	// Recovery is the provider's reference when the charge was recovered
	// at once (a Connect transfer reversal); "" otherwise.
	Recovery string
}

// ChargebackFilter selects chargebacks by the time they were charged.
type ChargebackFilter struct {
	Period   finance.Period
	SellerID string // "" for every seller
	Status   string // "" for every status
}

// StatementEntry is one posting to a seller's receivable.
type StatementEntry struct {
	TransactionID int64
	At            time.Time
	Kind          ledger.Kind
	ClaimID       string // "" for recoveries recorded by finance
	Description   string
	Amount        money.Money // what the seller owes more (positive) or less
}

// Recorded is a recovery as stored, with what the seller owes after it.
type Recorded struct {
	Recovery finance.Recovery
	Owed     []money.Money
}

// RunStatus is where a reconciliation run stands.
type RunStatus string

// Run statuses.
const (
	RunQueued    RunStatus = "queued"
	RunRunning   RunStatus = "running"
	RunCompleted RunStatus = "completed"
	RunFailed    RunStatus = "failed"
)

// Run triggers.
const (
	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
)

// Run is one reconciliation of a period.
type Run struct {
	ID          string
	Period      finance.Period
	Trigger     string // TriggerSchedule or TriggerManual
	RequestedBy string
	Status      RunStatus
	Providers   []string
	CreatedAt   time.Time
	StartedAt   time.Time // zero until it starts
	FinishedAt  time.Time // zero until it ends
	// Filled when completed.
	Summary        finance.Summary
	OpenExceptions int
	// ProviderRefunds counts the provider refunds read; Foreign those that
	// named no claim (another system's refunds on the same account).
	ProviderRefunds int
	ForeignRefunds  int
	Error           string // why it failed
}

// RunItem is an item of a completed run, with its resolution.
type RunItem struct {
	RunID string
	Seq   int
	finance.Item
	ResolvedAt     time.Time
	ResolvedBy     string
	ResolutionNote string
}

// RunFilter pages through runs, newest first.
type RunFilter struct {
	After string // the last run id of the previous page
	Limit int
}

// MaxSeq is the largest seq a run's item may have: stores keep it in a
// 32-bit integer (PostgreSQL's integer).
const MaxSeq = math.MaxInt32

// ItemFilter selects a run's items.
type ItemFilter struct {
	RunID string
	// Kinds, if any, keeps only these kinds; Exceptions keeps every kind
	// but matched; Open keeps only exceptions not resolved.
	Kinds      []finance.ItemKind
	Exceptions bool
	Open       bool
	AfterSeq   int
	Limit      int // 0: no limit (streamed)
}

// AccountBalance is one line of the trial balance.
type AccountBalance struct {
	Account  ledger.Account
	Currency money.Currency
	Debits   int64 // sum of positive postings
	Credits  int64 // sum of negative postings, as a positive number
	Balance  int64 // Debits - Credits
}

// LedgerPosting is one leg of a stored transaction.
type LedgerPosting struct {
	Account ledger.Account
	Amount  money.Money
}

// LedgerTransaction is a stored ledger transaction.
type LedgerTransaction struct {
	ID          int64
	Key         string
	Kind        ledger.Kind
	ClaimID     string
	Description string
	At          time.Time
	Postings    []LedgerPosting
}

// LedgerFilter selects ledger transactions, oldest first.
type LedgerFilter struct {
	From, To time.Time // zero: unbounded
	Kind     ledger.Kind
	Account  ledger.Account
	ClaimID  string
	AfterID  int64
	Limit    int // 0: no limit (streamed)
}

// Store is what finance reads and writes. Methods that take fn stream:
// they call it once per row, in order, and stop at its first error, which
// they return.
type Store interface {
	// SellerExists returns *claimflow.NotFoundError for an unknown seller.
	SellerExists(ctx context.Context, id string) error
	Chargebacks(ctx context.Context, f ChargebackFilter, fn func(Chargeback) error) error
	// SellerStatement reads, in one snapshot, what the seller owed before
	// the period (opening, per currency) and then each posting to their
	// receivable in it.
	SellerStatement(ctx context.Context, sellerID string, p finance.Period,
		opening func([]money.Money) error, fn func(StatementEntry) error) error
	// RecordRecovery builds the recovery from what the seller owes now,
	// read under a lock that holds off other decreases of their
	// receivable, and stores it with its ledger transaction. Errors:
	// build's; *finance.RefusedError "duplicate_recovery" when the seller's
	// method and reference were recorded before; *claimflow.NotFoundError.
	RecordRecovery(ctx context.Context, sellerID string, build func(owed []money.Money) (finance.Recovery, error)) (Recorded, error)

	// ReconcileClaims returns the claims whose refund belongs in the
	// period for the providers (refunded in it, with a refund posting in
	// it, or named in ids), with what the ledger paid out for each.
	ReconcileClaims(ctx context.Context, providers []string, p finance.Period, ids []string) ([]finance.ClaimRefund, []finance.LedgerRefund, error)
	// CreateRun stores a queued run and schedules its job in the same
	// transaction. created is false, with the run that exists, when a
	// scheduled run of the same period was made before.
	CreateRun(ctx context.Context, r Run) (Run, bool, error)
	// StartRun marks a queued (or interrupted) run running and returns
	// it; a run already completed or failed is returned as it is.
	StartRun(ctx context.Context, id string, at time.Time) (Run, error)
	// FinishRun stores the items of a running run and marks it completed;
	// a run another attempt finished first is left as it is.
	FinishRun(ctx context.Context, r Run, items []finance.Item) error
	FailRun(ctx context.Context, id string, at time.Time, reason string) error
	// FailAbandonedRuns marks failed the runs still queued or running
	// whose job has ended (it ran out of attempts, or was discarded), and
	// returns how many.
	FailAbandonedRuns(ctx context.Context, at time.Time) (int, error)
	// LastScheduledRun returns the scheduled run of the latest period;
	// found is false when there is none.
	LastScheduledRun(ctx context.Context) (Run, bool, error)
	GetRun(ctx context.Context, id string) (Run, error)
	Runs(ctx context.Context, f RunFilter) ([]Run, error)
	RunItems(ctx context.Context, f ItemFilter, fn func(RunItem) error) error
	// ResolveException marks an exception resolved. Errors:
	// *claimflow.NotFoundError; *finance.RefusedError "not_an_exception",
	// "already_resolved".
	ResolveException(ctx context.Context, runID string, seq int, by, note string, at time.Time) (RunItem, error)

	// TrialBalance sums the postings made before asOf (zero: all).
	TrialBalance(ctx context.Context, asOf time.Time) ([]AccountBalance, error)
	LedgerTransactions(ctx context.Context, f LedgerFilter, fn func(LedgerTransaction) error) error
	Balances(ctx context.Context, account ledger.Account) ([]money.Money, error)
	// ProtectedChargesOpen counts the protected charges not yet confirmed
	// or settled (open or contested): those the platform carries.
	ProtectedChargesOpen(ctx context.Context) (int64, error)

	// Daily counts the claims filed in the period (whole UTC days) by day
	// and decided outcome, and sums its refund and recovery transactions
	// by day, kind and currency, each by one aggregate query the period
	// bounds on an index.
	Daily(ctx context.Context, p finance.Period) (Daily, error)
	// FinanceOnce runs fn at most once per (scope, key): in one
	// transaction, with a Store bound to it, and keeps fn's encoded result
	// with the key and the request's hash. A later call with the same
	// scope, key and hash returns the kept result with replayed true,
	// without calling fn. Errors: claimflow.ErrIdempotencyKeyReused when
	// the hash differs; fn's error, in which case nothing is kept.
	FinanceOnce(ctx context.Context, scope, key string, hash []byte, fn func(tx Store) ([]byte, error)) (result []byte, replayed bool, err error)
}

// ProviderRecords reads a payment provider's own record of refunds.
type ProviderRecords interface {
	Name() string
	// ListRefunds returns the refunds created in [from, to).
	ListRefunds(ctx context.Context, from, to time.Time) ([]finance.ProviderRefund, error)
	// GetRefund returns one refund; found is false when the provider does
	// not know it.
	GetRefund(ctx context.Context, id string) (finance.ProviderRefund, bool, error)
}
