package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
// eff, in tx.
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
	res := tx.Model(&claimRow{}).Where("id = ? AND version = ?", id, row.Version).Updates(updates)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("claim %s changed under us (version %d)", id, row.Version)
	}
	if err := appendEvents(tx, id, events); err != nil {
		return err
	}
	for _, lt := range eff.Ledger {
		if err := writeLedger(tx, lt, id, c.UpdatedAt()); err != nil {
			return err
		}
	}
	return s.enqueue(ctx, tx, id, eff.Next, eff.Timers)
}

// writeLedger writes a transaction and its postings once per key: a key
// already written is left as it is.
func writeLedger(tx *gorm.DB, lt ledger.Transaction, claimID string, at time.Time) error {
	return writeLedgerDescribed(tx, lt, claimID, "", at)
}

// writeLedgerDescribed is writeLedger with a description; claimID may be
// "" for a transaction of no claim. A transaction that lowers a seller's
// receivable first takes the lock recoveries check the seller's debt
// under.
func writeLedgerDescribed(tx *gorm.DB, lt ledger.Transaction, claimID, description string, at time.Time) error {
	for _, p := range lt.Postings() {
		if p.Amount.Amount() < 0 && strings.HasPrefix(string(p.Account), string(ledger.SellerReceivable(""))) {
			if err := lockReceivable(tx, p.Account); err != nil {
				return fmt.Errorf("ledger %s: %w", lt.Key(), err)
			}
		}
	}
	// One statement: the transaction row, then its postings only if the
	// row was new (a key written before inserts nothing).
	var q strings.Builder
	args := []any{lt.Key(), string(lt.Kind()), nonEmpty(claimID), description, at}
	q.WriteString(`WITH t AS (INSERT INTO ledger_transactions (key, kind, claim_id, description, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING RETURNING id)
		INSERT INTO ledger_postings (transaction_id, account, amount, currency)
		SELECT t.id, v.account, v.amount, v.currency FROM t, (VALUES `)
	for i, p := range lt.Postings() {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?::text, ?::bigint, ?::char(3))")
		args = append(args, string(p.Account), p.Amount.Amount(), p.Amount.Currency().String())
	}
	q.WriteString(") v(account, amount, currency)")
	if err := tx.Exec(q.String(), args...).Error; err != nil {
		return fmt.Errorf("ledger %s: %w", lt.Key(), err)
	}
	return nil
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
