package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// ReconcileClaims implements financeflow.Store.
func (s *Store) ReconcileClaims(ctx context.Context, providers []string, p finance.Period, ids []string) ([]finance.ClaimRefund, []finance.LedgerRefund, error) {
	cash := make([]string, len(providers))
	for i, pr := range providers {
		cash[i] = string(ledger.ProviderCash(pr))
	}
	if ids == nil {
		ids = []string{}
	}
	var claims []finance.ClaimRefund
	var ledgers []finance.LedgerRefund
	err := s.snapshot(ctx, "read claims to reconcile", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			WITH ids AS (
			    SELECT id FROM claims WHERE refunded_at >= $1 AND refunded_at < $2
			    UNION
			    SELECT t.claim_id FROM ledger_transactions t JOIN ledger_postings lp ON lp.transaction_id = t.id
			     WHERE t.created_at >= $1 AND t.created_at < $2 AND t.kind IN ('refund', 'refund_reversal')
			       AND lp.account = ANY($3) AND t.claim_id IS NOT NULL
			    UNION
			    SELECT unnest($4::text[])
			)
			SELECT c.id, c.status, coalesce(c.refund_provider, o.payment_provider), coalesce(c.refund_id, ''), c.amount, c.currency
			  FROM claims c JOIN ids ON ids.id = c.id JOIN orders o ON o.id = c.order_id
			 WHERE coalesce(c.refund_provider, o.payment_provider) = ANY($5)
			 ORDER BY c.id`, p.From, p.To, cash, ids, providers)
		if err != nil {
			return err
		}
		defer rows.Close()
		var found []string
		for rows.Next() {
			var c finance.ClaimRefund
			var status, currency string
			var amount int64
			if err := rows.Scan(&c.ClaimID, &status, &c.Provider, &c.RefundID, &amount, &currency); err != nil {
				return err
			}
			if c.Status, err = claim.ParseStatus(status); err != nil {
				return fmt.Errorf("claim %s: %w", c.ClaimID, err)
			}
			if c.Amount, err = money.New(amount, strings.TrimSpace(currency)); err != nil {
				return fmt.Errorf("claim %s: %w", c.ClaimID, err)
			}
			claims = append(claims, c)
			found = append(found, c.ClaimID)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		// What the ledger paid out through the providers for each claim:
		// its refunds less their reversals, all time.
		rows, err = tx.Query(ctx, `
			SELECT t.claim_id, substr(lp.account, length('provider_cash:') + 1), lp.currency, (-sum(lp.amount))::bigint
			  FROM ledger_transactions t JOIN ledger_postings lp ON lp.transaction_id = t.id
			 WHERE t.claim_id = ANY($1) AND t.kind IN ('refund', 'refund_reversal') AND lp.account LIKE 'provider_cash:%'
			 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, found)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l finance.LedgerRefund
			var currency string
			var net int64
			if err := rows.Scan(&l.ClaimID, &l.Provider, &currency, &net); err != nil {
				return err
			}
			if l.Net, err = money.New(net, strings.TrimSpace(currency)); err != nil {
				return fmt.Errorf("ledger of claim %s: %w", l.ClaimID, err)
			}
			ledgers = append(ledgers, l)
		}
		return rows.Err()
	})
	return claims, ledgers, err
}

// RunEnqueuer schedules a reconciliation run's job in the caller's
// transaction.
type RunEnqueuer interface {
	EnqueueReconciliationTx(ctx context.Context, tx *sql.Tx, runID string) error
}

// CreateRun implements financeflow.Store.
func (s *Store) CreateRun(ctx context.Context, r financeflow.Run) (financeflow.Run, bool, error) {
	created := false
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO reconciliation_runs (id, period_from, period_to, trigger, requested_by, status, providers, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (period_from, period_to) WHERE trigger = 'schedule' DO NOTHING`,
			r.ID, r.Period.From, r.Period.To, r.Trigger, r.RequestedBy, string(r.Status), textArray(r.Providers), r.CreatedAt)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return tx.Raw(`SELECT id FROM reconciliation_runs WHERE period_from = ? AND period_to = ? AND trigger = 'schedule'`,
				r.Period.From, r.Period.To).Scan(&r.ID).Error
		}
		created = true
		e, ok := s.enqueuer.(RunEnqueuer)
		if !ok {
			return errors.New("no job queue configured for reconciliation runs")
		}
		sqlTx, err := sqlTxOf(tx, "schedule reconciliation run")
		if err != nil {
			return err
		}
		return e.EnqueueReconciliationTx(ctx, sqlTx, r.ID)
	})
	if err != nil {
		return financeflow.Run{}, false, storeError(err, "create reconciliation run")
	}
	if created {
		// As stored; read back, it might not be visible yet: the caller's
		// transaction (an idempotent request's) commits it later.
		r.Summary.Exceptions = map[finance.ItemKind]int{}
		return r, true, nil
	}
	run, err := s.GetRun(ctx, r.ID)
	return run, false, err
}

// textArray renders a list as a PostgreSQL text[] literal.
func textArray(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(x) + `"`
	}
	return "{" + strings.Join(q, ",") + "}"
}

const runColumns = `id, period_from, period_to, trigger, requested_by, status, providers, matched, exceptions,
	open_exceptions, provider_refunds, foreign_refunds, summary, coalesce(error, ''), created_at, started_at, finished_at`

// summaryJSON is a run's summary as stored.
type summaryJSON struct {
	Exceptions map[string]int `json:"exceptions"`
	Totals     []totalJSON    `json:"totals"`
}

type totalJSON struct {
	Currency string `json:"currency"`
	Claims   int64  `json:"claims"`
	Provider int64  `json:"provider"`
	Ledger   int64  `json:"ledger"`
}

func scanRun(row pgx.Row) (financeflow.Run, error) {
	var r financeflow.Run
	var status string
	var summary []byte
	var started, finished *time.Time
	if err := row.Scan(&r.ID, &r.Period.From, &r.Period.To, &r.Trigger, &r.RequestedBy, &status, &r.Providers,
		&r.Summary.Matched, new(int), &r.OpenExceptions, &r.ProviderRefunds, &r.ForeignRefunds, &summary, &r.Error,
		&r.CreatedAt, &started, &finished); err != nil {
		return financeflow.Run{}, err
	}
	r.Status = financeflow.RunStatus(status)
	r.Period.From, r.Period.To, r.CreatedAt = r.Period.From.UTC(), r.Period.To.UTC(), r.CreatedAt.UTC()
	if started != nil {
		r.StartedAt = started.UTC()
	}
	if finished != nil {
		r.FinishedAt = finished.UTC()
	}
	r.Summary.Exceptions = map[finance.ItemKind]int{}
	if summary != nil {
		var j summaryJSON
		if err := json.Unmarshal(summary, &j); err != nil {
			return financeflow.Run{}, fmt.Errorf("run %s summary: %w", r.ID, err)
		}
		for k, n := range j.Exceptions {
			r.Summary.Exceptions[finance.ItemKind(k)] = n
		}
		for _, t := range j.Totals {
			cur, err := money.ParseCurrency(t.Currency)
			if err != nil {
				return financeflow.Run{}, fmt.Errorf("run %s summary: %w", r.ID, err)
			}
			r.Summary.Totals = append(r.Summary.Totals, finance.KindTotals{Currency: cur, Claims: t.Claims, Provider: t.Provider, Ledger: t.Ledger})
		}
	}
	return r, nil
}

// GetRun implements financeflow.Store.
func (s *Store) GetRun(ctx context.Context, id string) (financeflow.Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM reconciliation_runs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return financeflow.Run{}, &claimflow.NotFoundError{Resource: "reconciliation", ID: id}
	}
	if err != nil {
		return financeflow.Run{}, storeError(err, "get reconciliation run %s", id)
	}
	return r, nil
}

// Runs implements financeflow.Store.
func (s *Store) Runs(ctx context.Context, f financeflow.RunFilter) ([]financeflow.Run, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	q := `SELECT ` + runColumns + ` FROM reconciliation_runs`
	args := []any{limit}
	if f.After != "" {
		q += ` WHERE id < $2`
		args = append(args, f.After)
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY id DESC LIMIT $1`, args...)
	if err != nil {
		return nil, storeError(err, "list reconciliation runs")
	}
	defer rows.Close()
	var out []financeflow.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, storeError(err, "list reconciliation runs")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, storeError(err, "list reconciliation runs")
	}
	return out, nil
}

// StartRun implements financeflow.Store.
func (s *Store) StartRun(ctx context.Context, id string, at time.Time) (financeflow.Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `UPDATE reconciliation_runs SET status = 'running', started_at = coalesce(started_at, $2)
		WHERE id = $1 AND status IN ('queued', 'running') RETURNING `+runColumns, id, at))
	if errors.Is(err, pgx.ErrNoRows) {
		return s.GetRun(ctx, id)
	}
	if err != nil {
		return financeflow.Run{}, storeError(err, "start reconciliation run %s", id)
	}
	return r, nil
}

// FailRun implements financeflow.Store.
func (s *Store) FailRun(ctx context.Context, id string, at time.Time, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE reconciliation_runs SET status = 'failed', error = $2, finished_at = $3
		WHERE id = $1 AND status IN ('queued', 'running')`, id, reason, at)
	if err != nil {
		return storeError(err, "fail reconciliation run %s", id)
	}
	return nil
}

// FailAbandonedRuns implements financeflow.Store: a run whose
// finance_reconcile job is no longer waiting, retrying or running will
// not be finished by anyone.
func (s *Store) FailAbandonedRuns(ctx context.Context, at time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE reconciliation_runs r SET status = 'failed', finished_at = $1,
		       error = coalesce(error, 'its job ended without finishing it (the worker stopped, or the attempts ran out); ask for the period again')
		 WHERE r.status IN ('queued', 'running') AND r.created_at < $1::timestamptz - interval '1 minute'
		   AND NOT EXISTS (SELECT 1 FROM river_job j
		                    WHERE j.kind = 'finance_reconcile' AND j.args->>'run_id' = r.id
		                      AND j.state IN ('available', 'pending', 'running', 'retryable', 'scheduled'))`, at)
	if err != nil {
		return 0, storeError(err, "fail abandoned reconciliation runs")
	}
	return int(tag.RowsAffected()), nil
}

// LastScheduledRun implements financeflow.Store.
func (s *Store) LastScheduledRun(ctx context.Context) (financeflow.Run, bool, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM reconciliation_runs
		WHERE trigger = 'schedule' ORDER BY period_from DESC LIMIT 1`))
	if errors.Is(err, pgx.ErrNoRows) {
		return financeflow.Run{}, false, nil
	}
	if err != nil {
		return financeflow.Run{}, false, storeError(err, "last scheduled reconciliation run")
	}
	return r, true, nil
}

// FinishRun implements financeflow.Store: the run is marked completed
// (only if it is still running: a late second attempt finds it done and
// leaves its items, and their resolutions, alone), then its items are
// copied in, in one transaction.
func (s *Store) FinishRun(ctx context.Context, r financeflow.Run, items []finance.Item) error {
	sum := summaryJSON{Exceptions: map[string]int{}, Totals: []totalJSON{}}
	for k, n := range r.Summary.Exceptions {
		sum.Exceptions[string(k)] = n
	}
	for _, t := range r.Summary.Totals {
		sum.Totals = append(sum.Totals, totalJSON{Currency: t.Currency.String(), Claims: t.Claims, Provider: t.Provider, Ledger: t.Ledger})
	}
	summary, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		exceptions := len(items) - r.Summary.Matched
		tag, err := tx.Exec(ctx, `UPDATE reconciliation_runs SET status = 'completed', matched = $2, exceptions = $3,
			open_exceptions = $3, provider_refunds = $4, foreign_refunds = $5, summary = $6, finished_at = $7, error = NULL
			WHERE id = $1 AND status = 'running'`, r.ID, r.Summary.Matched, exceptions, r.ProviderRefunds, r.ForeignRefunds, summary, r.FinishedAt)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"reconciliation_items"}, []string{
			"run_id", "seq", "kind", "claim_id", "provider", "refund_id",
			"claim_status", "claim_amount", "claim_currency", "provider_status", "provider_amount", "provider_currency",
			"ledger_amount", "ledger_currency", "detail",
		}, pgx.CopyFromSlice(len(items), func(i int) ([]any, error) {
			it := items[i]
			ca, cc := amountColumns(it.ClaimAmount)
			pa, pc := amountColumns(it.ProviderAmount)
			la, lc := amountColumns(it.LedgerAmount)
			return []any{r.ID, i + 1, string(it.Kind), nonEmpty(it.ClaimID), nonEmpty(it.Provider), nonEmpty(it.RefundID),
				nonEmpty(it.ClaimStatus), ca, cc, nonEmpty(it.ProviderStatus), pa, pc, la, lc, it.Detail}, nil
		}))
		return err
	})
	if err != nil {
		return storeError(err, "finish reconciliation run %s", r.ID)
	}
	return nil
}

// amountColumns splits an item's side into its amount and currency
// columns, both NULL when the side has nothing.
func amountColumns(m money.Money) (*int64, *string) {
	if m.Currency().IsZero() {
		return nil, nil
	}
	a, c := m.Amount(), m.Currency().String()
	return &a, &c
}

const itemColumns = `run_id, seq, kind, coalesce(claim_id, ''), coalesce(provider, ''), coalesce(refund_id, ''),
	coalesce(claim_status, ''), claim_amount, claim_currency, coalesce(provider_status, ''), provider_amount, provider_currency,
	ledger_amount, ledger_currency, detail, resolved_at, coalesce(resolved_by, ''), coalesce(resolution_note, '')`

func scanItem(row pgx.Row) (financeflow.RunItem, error) {
	var it financeflow.RunItem
	var kind string
	var ca, pa, la *int64
	var cc, pc, lc *string
	var resolved *time.Time
	if err := row.Scan(&it.RunID, &it.Seq, &kind, &it.ClaimID, &it.Provider, &it.RefundID, &it.ClaimStatus, &ca, &cc,
		&it.ProviderStatus, &pa, &pc, &la, &lc, &it.Detail, &resolved, &it.ResolvedBy, &it.ResolutionNote); err != nil {
		return financeflow.RunItem{}, err
	}
	it.Kind = finance.ItemKind(kind)
	var err error
	for _, side := range []struct {
		a   *int64
		c   *string
		dst *money.Money
	}{{ca, cc, &it.ClaimAmount}, {pa, pc, &it.ProviderAmount}, {la, lc, &it.LedgerAmount}} {
		if side.a == nil || side.c == nil {
			continue
		}
		if *side.dst, err = money.New(*side.a, strings.TrimSpace(*side.c)); err != nil {
			return financeflow.RunItem{}, fmt.Errorf("reconciliation item %s/%d: %w", it.RunID, it.Seq, err)
		}
	}
	if resolved != nil {
		it.ResolvedAt = resolved.UTC()
	}
	return it, nil
}

// RunItems implements financeflow.Store.
func (s *Store) RunItems(ctx context.Context, f financeflow.ItemFilter, fn func(financeflow.RunItem) error) error {
	q := `SELECT ` + itemColumns + ` FROM reconciliation_items WHERE run_id = $1 AND seq > $2`
	args := []any{f.RunID, f.AfterSeq}
	if len(f.Kinds) > 0 {
		kinds := make([]string, len(f.Kinds))
		for i, k := range f.Kinds {
			kinds[i] = string(k)
		}
		args = append(args, kinds)
		q += fmt.Sprintf(" AND kind = ANY($%d)", len(args))
	}
	if f.Exceptions || f.Open {
		q += " AND kind <> 'matched'"
	}
	if f.Open {
		q += " AND resolved_at IS NULL"
	}
	q += " ORDER BY seq"
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	return s.snapshot(ctx, "list reconciliation items", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scanItem(rows)
			if err != nil {
				return err
			}
			if err := fn(it); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// ResolveException implements financeflow.Store.
func (s *Store) ResolveException(ctx context.Context, runID string, seq int, by, note string, at time.Time) (financeflow.RunItem, error) {
	var out financeflow.RunItem
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		it, err := scanItem(tx.QueryRow(ctx, `SELECT `+itemColumns+` FROM reconciliation_items WHERE run_id = $1 AND seq = $2 FOR UPDATE`, runID, seq))
		if errors.Is(err, pgx.ErrNoRows) {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM reconciliation_runs WHERE id = $1`, runID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
				return &claimflow.NotFoundError{Resource: "reconciliation", ID: runID}
			}
			return &claimflow.NotFoundError{Resource: "exception", ID: fmt.Sprintf("%s/%d", runID, seq)}
		}
		if err != nil {
			return err
		}
		switch {
		case !it.Kind.IsException():
			return &finance.RefusedError{Code: "not_an_exception", Message: fmt.Sprintf("item %d of run %s matched; there is nothing to resolve", seq, runID)}
		case !it.ResolvedAt.IsZero():
			return &finance.RefusedError{Code: "already_resolved", Message: fmt.Sprintf(
				"exception %d of run %s was resolved by %s at %s", seq, runID, it.ResolvedBy, it.ResolvedAt.Format(time.RFC3339))}
		}
		if _, err := tx.Exec(ctx, `UPDATE reconciliation_items SET resolved_at = $3, resolved_by = $4, resolution_note = $5
			WHERE run_id = $1 AND seq = $2`, runID, seq, at, by, note); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE reconciliation_runs SET open_exceptions = open_exceptions - 1 WHERE id = $1`, runID); err != nil {
			return err
		}
		it.ResolvedAt, it.ResolvedBy, it.ResolutionNote = at.UTC(), by, note
		out = it
		return nil
	})
	if err != nil {
		var nf *claimflow.NotFoundError
		var re *finance.RefusedError
		if errors.As(err, &nf) || errors.As(err, &re) {
			return financeflow.RunItem{}, err
		}
		return financeflow.RunItem{}, storeError(err, "resolve exception %s/%d", runID, seq)
	}
	return out, nil
}
