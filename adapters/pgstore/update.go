package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

var _ claimflow.StepStore = (*Store)(nil)

// Enqueuer schedules workflow steps inside the caller's transaction, so a
// step is scheduled exactly when the state change that calls for it
// commits: steps to run now, timers to run at their time.
type Enqueuer interface {
	EnqueueTx(ctx context.Context, tx *sql.Tx, claimID string, steps []claimflow.Step, timers []claimflow.Timer) error
}

// SetEnqueuer sets the job queue that schedules steps. Without one, a
// change that schedules a step fails.
func (s *Store) SetEnqueuer(e Enqueuer) { s.enqueuer = e }

func (s *Store) enqueue(ctx context.Context, tx *gorm.DB, claimID string, steps []claimflow.Step, timers []claimflow.Timer) error {
	if len(steps) == 0 && len(timers) == 0 {
		return nil
	}
	if s.enqueuer == nil {
		return fmt.Errorf("schedule %v %v for claim %s: no job queue configured", steps, timers, claimID)
	}
	sqlTx, err := sqlTxOf(tx, "schedule a claim's steps")
	if err != nil {
		return fmt.Errorf("claim %s: %w", claimID, err)
	}
	return s.enqueuer.EnqueueTx(ctx, sqlTx, claimID, steps, timers)
}

// UpdateClaim implements claimflow.StepStore. The claim row is locked for
// the transaction; the update is also guarded by the version read, so a
// lost lock can never let two writers both apply.
func (s *Store) UpdateClaim(ctx context.Context, id string, fn func(c *claim.Claim) (claimflow.Effects, error)) error {
	return s.UpdateRecord(ctx, id, func(r claimflow.Record) (claimflow.Effects, error) { return fn(r.Claim) })
}

// UpdateRecord implements claimflow.StepStore, as UpdateClaim.
func (s *Store) UpdateRecord(ctx context.Context, id string, fn func(r claimflow.Record) (claimflow.Effects, error)) error {
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		row, rec, err := lockClaim(tx, id)
		if err != nil {
			return err
		}
		eff, err := fn(rec)
		if err != nil {
			return err
		}
		return s.writeClaim(ctx, tx, row, rec.Claim, eff)
	})
	if errors.Is(err, claimflow.ErrNothingToDo) {
		return nil
	}
	if err != nil {
		return storeError(err, "update claim %s", id)
	}
	return nil
}

// errChangedUnderUs is writeClaim's error when the claim is no longer at
// the version it was read at.
var errChangedUnderUs = errors.New("changed under us")

// UpdateSeen implements claimflow.StepStore: fn's change to the record
// read before is written without reading the claim again, guarded by the
// version it was read at (the update takes the row's lock); when the claim
// changed since, or fn finds nothing to do with what was read, it is
// UpdateRecord.
func (s *Store) UpdateSeen(ctx context.Context, seen claimflow.Record, fn func(r claimflow.Record) (claimflow.Effects, error)) error {
	id := seen.Claim.ID()
	read := claimRow{ID: id, Version: seen.Claim.Version()}
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		eff, err := fn(seen)
		if err != nil {
			return err
		}
		return s.writeClaim(ctx, tx, read, seen.Claim, eff)
	})
	if errors.Is(err, errChangedUnderUs) || errors.Is(err, claimflow.ErrNothingToDo) {
		return s.UpdateRecord(ctx, id, fn)
	}
	if err != nil {
		return storeError(err, "update claim %s", id)
	}
	return nil
}

// AmendClaim implements claimflow.Store. It locks the claim's order before
// the claim, in the order a new claim's intake locks them, so an agent
// granting a claim again is serialised with new claims on the order.
func (s *Store) AmendClaim(ctx context.Context, id string,
	fn func(c *claim.Claim, refundable money.Money) (claimflow.Effects, error)) (claimflow.Record, error) {
	var out claimflow.Record
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		var orderID string
		if err := tx.Raw(`SELECT order_id FROM claims WHERE id = ?`, id).Scan(&orderID).Error; err != nil {
			return err
		}
		if orderID == "" {
			return &claimflow.NotFoundError{Resource: "claim", ID: id}
		}
		var paid struct {
			Amount   int64
			Currency string
		}
		if err := tx.Raw(`SELECT amount, currency FROM orders WHERE id = ? FOR UPDATE`, orderID).Scan(&paid).Error; err != nil {
			return err
		}
		var held int64
		if err := tx.Raw(`SELECT coalesce(sum(amount), 0)::bigint FROM claims WHERE order_id = ? AND id <> ? AND status <> ?`,
			orderID, id, claim.StatusRejected.String()).Scan(&held).Error; err != nil {
			return err
		}
		refundable, err := money.New(max(paid.Amount-held, 0), paid.Currency)
		if err != nil {
			return fmt.Errorf("order %s: %w", orderID, err)
		}
		row, rec, err := lockClaim(tx, id)
		if err != nil {
			return err
		}
		eff, err := fn(rec.Claim, refundable)
		if err != nil {
			return err
		}
		if err := s.writeClaim(ctx, tx, row, rec.Claim, eff); err != nil {
			return err
		}
		out = rec
		return nil
	})
	if err != nil {
		return claimflow.Record{}, storeError(err, "amend claim %s", id)
	}
	return out, nil
}

// lockClaim reads a claim FOR UPDATE.
func lockClaim(tx *gorm.DB, id string) (claimRow, claimflow.Record, error) {
	var row claimRow
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, claimflow.Record{}, &claimflow.NotFoundError{Resource: "claim", ID: id}
	}
	if err != nil {
		return row, claimflow.Record{}, err
	}
	rec, err := row.record()
	return row, rec, err
}

// writeClaim writes a changed claim read as row, its new events and
// eff, in tx. The claim's row, its events and its ledger transactions go
// in one statement, so a step costs one round trip for them however much
// it writes; the job queue's insert follows it.
func (s *Store) writeClaim(ctx context.Context, tx *gorm.DB, row claimRow, c *claim.Claim, eff claimflow.Effects) error {
	// A claim filed in this transaction is no longer as it was filed.
	s.keep(nil)
	id := c.ID()
	events := c.PopEvents()
	ref, f := c.Refund(), c.Failure()
	updates, err := agentColumns(c)
	if err != nil {
		return err
	}
	for k, v := range map[string]any{
		"status": c.Status().String(), "version": c.Version(), "updated_at": c.UpdatedAt(),
		"refund_id": nonEmpty(ref.ID), "refund_provider": nonEmpty(ref.Provider),
		"failure_code": nonEmpty(f.Code.String()), "failure_reason": nonEmpty(f.Reason),
		"refunded_at": nonZeroTime(ref.At),
	} {
		updates[k] = v
	}
	for _, ev := range events {
		if ev.To == claim.StatusSellerCharged && ev.From != claim.StatusSellerCharged {
			updates["charged_at"] = ev.At
		}
	}
	for _, lt := range eff.Ledger {
		if err := lockLoweredReceivables(tx, lt); err != nil {
			return err
		}
	}
	txs := firstOfEachKey(eff.Ledger)

	// Every insert reads the update's one row, so an update that matched
	// nothing writes nothing, and the count says so.
	var q strings.Builder
	q.Grow(4096)
	args := make([]any, 0, len(updates)+4+9*len(events)+16*len(txs))
	q.WriteString("WITH u AS (")
	args = updateClaim(&q, args, id, row.Version, updates)
	q.WriteString(")")
	if len(events) > 0 {
		q.WriteString(", ev AS (")
		if args, err = insertEvents(&q, args, id, events, "u"); err != nil {
			return err
		}
		q.WriteString(")")
	}
	if len(txs) > 0 {
		q.WriteString(", ")
		args = insertLedger(&q, args, txs, id, "", c.UpdatedAt(), "u")
	}
	q.WriteString(" SELECT count(*) FROM u")
	var n int64
	if err := tx.Raw(q.String(), args...).Row().Scan(&n); err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("claim %s %w (version %d)", id, errChangedUnderUs, row.Version)
	}
	return s.enqueue(ctx, tx, id, eff.Next, eff.Timers)
}

// updateClaim writes to q the UPDATE of claim id at version to the
// columns cols, returning 1 for the row it changed, and returns args with
// its values added. The columns go in name order, so one set of columns
// is always the same statement text and the driver's cache of prepared
// statements holds it once.
func updateClaim(q *strings.Builder, args []any, id string, version int64, cols map[string]any) []any {
	names := make([]string, 0, len(cols))
	for k := range cols {
		names = append(names, k)
	}
	slices.Sort(names)
	q.WriteString("UPDATE claims SET ")
	for i, k := range names {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(k)
		q.WriteString(" = ?")
		args = append(args, cols[k])
	}
	q.WriteString(" WHERE id = ? AND version = ? RETURNING 1")
	return append(args, id, version)
}

// firstOfEachKey drops a transaction whose key an earlier one of txs has:
// written one after the other, the later one would find its key taken and
// write nothing.
func firstOfEachKey(txs []ledger.Transaction) []ledger.Transaction {
	out := make([]ledger.Transaction, 0, len(txs))
	for _, lt := range txs {
		if !slices.ContainsFunc(out, func(o ledger.Transaction) bool { return o.Key() == lt.Key() }) {
			out = append(out, lt)
		}
	}
	return out
}

// writeLedgerDescribed writes a transaction and its postings once per
// key, with a description: a key already written is left as it is.
// claimID may be "" for a transaction of no claim. A transaction that
// lowers a seller's receivable first takes the lock recoveries check the
// seller's debt under.
func writeLedgerDescribed(tx *gorm.DB, lt ledger.Transaction, claimID, description string, at time.Time) error {
	if err := lockLoweredReceivables(tx, lt); err != nil {
		return err
	}
	var q strings.Builder
	q.WriteString("WITH ")
	args := insertLedger(&q, nil, []ledger.Transaction{lt}, claimID, description, at, "")
	q.WriteString(" SELECT 1")
	if err := tx.Exec(q.String(), args...).Error; err != nil {
		return fmt.Errorf("ledger %s: %w", lt.Key(), err)
	}
	return nil
}

// lockLoweredReceivables takes, for a transaction that lowers a seller's
// receivable, the lock recoveries check the seller's debt under.
func lockLoweredReceivables(tx *gorm.DB, lt ledger.Transaction) error {
	for _, p := range lt.Postings() {
		if p.Amount.Amount() < 0 && strings.HasPrefix(string(p.Account), string(ledger.SellerReceivable(""))) {
			if err := lockReceivable(tx, p.Account); err != nil {
				return fmt.Errorf("ledger %s: %w", lt.Key(), err)
			}
		}
	}
	return nil
}

// insertLedger writes to q two CTEs, lt and lp: the insert of the
// transactions txs (their keys distinct), and of the postings of those
// whose key was new (a key written before inserts nothing). It returns
// args with their values added. Rows go in in the order of txs and of
// their postings, so their ids number them as writing them one by one
// would. With gate, the name of an earlier CTE, nothing is inserted
// unless gate returned a row.
func insertLedger(q *strings.Builder, args []any, txs []ledger.Transaction, claimID, description string, at time.Time, gate string) []any {
	args = append(args, nonEmpty(claimID), description, at)
	q.WriteString(`lt AS (INSERT INTO ledger_transactions (key, kind, claim_id, description, created_at)
		SELECT v.key, v.kind, ?::text, ?::text, ?::timestamptz FROM `)
	if gate != "" {
		q.WriteString(gate)
		q.WriteString(", ")
	}
	q.WriteString("(VALUES ")
	for i, lt := range txs {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?::int, ?::text, ?::text)")
		args = append(args, i, lt.Key(), string(lt.Kind()))
	}
	q.WriteString(`) v(n, key, kind) ORDER BY v.n
		ON CONFLICT (key) DO NOTHING RETURNING id, key),
		lp AS (INSERT INTO ledger_postings (transaction_id, account, amount, currency)
		SELECT lt.id, v.account, v.amount, v.currency FROM lt JOIN (VALUES `)
	n := 0
	for _, lt := range txs {
		for _, p := range lt.Postings() {
			if n > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?::int, ?::text, ?::text, ?::bigint, ?::char(3))")
			args = append(args, n, lt.Key(), string(p.Account), p.Amount.Amount(), p.Amount.Currency().String())
			n++
		}
	}
	q.WriteString(") v(n, key, account, amount, currency) ON v.key = lt.key ORDER BY v.n)")
	return args
}

// Balances implements claimflow.LedgerReader: an account's balance per
// currency (debits positive), in currency order.
func (s *Store) Balances(ctx context.Context, account ledger.Account) ([]money.Money, error) {
	var rows []struct {
		Currency string
		Amount   int64
	}
	err := s.conn(ctx).Raw(`SELECT currency, sum(amount)::bigint AS amount FROM ledger_postings WHERE account = ?
		GROUP BY currency ORDER BY currency`, string(account)).Scan(&rows).Error
	if err != nil {
		return nil, storeError(err, "balance of %s", account)
	}
	out := make([]money.Money, 0, len(rows))
	for _, r := range rows {
		m, err := money.New(r.Amount, r.Currency)
		if err != nil {
			return nil, fmt.Errorf("balance of %s: %w", account, err)
		}
		out = append(out, m)
	}
	return out, nil
}
