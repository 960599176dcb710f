package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
// commits.
type Enqueuer interface {
	EnqueueTx(ctx context.Context, tx *sql.Tx, claimID string, steps []claimflow.Step) error
}

// SetEnqueuer sets the job queue that schedules steps. Without one, a
// change that schedules a step fails.
func (s *Store) SetEnqueuer(e Enqueuer) { s.enqueuer = e }

func (s *Store) enqueue(ctx context.Context, tx *gorm.DB, claimID string, steps []claimflow.Step) error {
	if len(steps) == 0 {
		return nil
	}
	if s.enqueuer == nil {
		return fmt.Errorf("schedule %v for claim %s: no job queue configured", steps, claimID)
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return fmt.Errorf("schedule %v for claim %s: not in a transaction", steps, claimID)
	}
	return s.enqueuer.EnqueueTx(ctx, sqlTx, claimID, steps)
}

// UpdateClaim implements claimflow.StepStore. The claim row is locked for
// the transaction; the update is also guarded by the version read, so a
// lost lock can never let two writers both apply.
func (s *Store) UpdateClaim(ctx context.Context, id string, fn func(c *claim.Claim) (claimflow.Effects, error)) error {
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		var row claimRow
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return &claimflow.NotFoundError{Resource: "claim", ID: id}
		}
		if err != nil {
			return err
		}
		rec, err := row.record()
		if err != nil {
			return err
		}
		c := rec.Claim
		eff, err := fn(c)
		if err != nil {
			return err
		}
		events := c.PopEvents()
		ref, f := c.Refund(), c.Failure()
		updates := map[string]any{
			"status": c.Status().String(), "version": c.Version(), "updated_at": c.UpdatedAt(),
			"refund_id": nonEmpty(ref.ID), "refund_provider": nonEmpty(ref.Provider),
			"failure_code": nonEmpty(f.Code), "failure_reason": nonEmpty(f.Reason),
		}
		if !ref.At.IsZero() {
			updates["refunded_at"] = ref.At
		}
		for _, ev := range events {
			if ev.To == claim.StatusSellerCharged {
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
		var last int
		if err := tx.Raw(`SELECT coalesce(max(seq), 0) FROM claim_events WHERE claim_id = ?`, id).Scan(&last).Error; err != nil {
			return err
		}
		if err := appendEvents(tx, id, last+1, events); err != nil {
			return err
		}
		for _, lt := range eff.Ledger {
			if err := writeLedger(tx, lt, id, c.UpdatedAt()); err != nil {
				return err
			}
		}
		return s.enqueue(ctx, tx, id, eff.Next)
	})
	if errors.Is(err, claimflow.ErrNothingToDo) {
		return nil
	}
	if err != nil {
		return storeError(err, "update claim %s", id)
	}
	return nil
}

// writeLedger writes a transaction and its postings once per key: a key
// already written is left as it is.
func writeLedger(tx *gorm.DB, lt ledger.Transaction, claimID string, at time.Time) error {
	var txID int64
	err := tx.Raw(`INSERT INTO ledger_transactions (key, kind, claim_id, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING RETURNING id`, lt.Key(), string(lt.Kind()), claimID, at).Scan(&txID).Error
	if err != nil {
		return fmt.Errorf("ledger %s: %w", lt.Key(), err)
	}
	if txID == 0 {
		return nil // written before
	}
	for _, p := range lt.Postings() {
		if err := tx.Exec(`INSERT INTO ledger_postings (transaction_id, account, amount, currency) VALUES (?, ?, ?, ?)`,
			txID, string(p.Account), p.Amount.Amount(), p.Amount.Currency().String()).Error; err != nil {
			return fmt.Errorf("ledger %s: %w", lt.Key(), err)
		}
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
	err := s.conn(ctx).Raw(`SELECT currency, sum(amount) AS amount FROM ledger_postings WHERE account = ?
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
