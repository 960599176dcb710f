package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// LegacyStore writes a claim's change as the store did before the change
// went in one statement: gorm's Updates of the row, then the events, then
// each ledger transaction on its own. The tests hold the one statement to
// it: the same change must leave the same rows.
type LegacyStore struct{ *Store }

// UpdateClaim is Store.UpdateClaim, written the old way.
func (s LegacyStore) UpdateClaim(ctx context.Context, id string, fn func(c *claim.Claim) (claimflow.Effects, error)) error {
	return s.UpdateRecord(ctx, id, func(r claimflow.Record) (claimflow.Effects, error) { return fn(r.Claim) })
}

// UpdateRecord is Store.UpdateRecord, written the old way.
func (s LegacyStore) UpdateRecord(ctx context.Context, id string, fn func(r claimflow.Record) (claimflow.Effects, error)) error {
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		row, rec, err := lockClaim(tx, id)
		if err != nil {
			return err
		}
		eff, err := fn(rec)
		if err != nil {
			return err
		}
		return s.legacyWrite(ctx, tx, row, rec.Claim, eff)
	})
	if errors.Is(err, claimflow.ErrNothingToDo) {
		return nil
	}
	if err != nil {
		return storeError(err, "update claim %s", id)
	}
	return nil
}

// AmendClaim is Store.AmendClaim, written the old way.
func (s LegacyStore) AmendClaim(ctx context.Context, id string,
	fn func(c *claim.Claim, refundable money.Money) (claimflow.Effects, error)) (claimflow.Record, error) {
	var out claimflow.Record
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		var orderID string
		if err := tx.Raw(`SELECT order_id FROM claims WHERE id = ?`, id).Scan(&orderID).Error; err != nil {
			return err
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
			return err
		}
		row, rec, err := lockClaim(tx, id)
		if err != nil {
			return err
		}
		eff, err := fn(rec.Claim, refundable)
		if err != nil {
			return err
		}
		if err := s.legacyWrite(ctx, tx, row, rec.Claim, eff); err != nil {
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

// legacyWrite is writeClaim as it was: one statement per part.
func (s LegacyStore) legacyWrite(ctx context.Context, tx *gorm.DB, row claimRow, c *claim.Claim, eff claimflow.Effects) error {
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
		if err := legacyLedger(tx, lt, id, c.UpdatedAt()); err != nil {
			return err
		}
	}
	return s.enqueue(ctx, tx, id, eff.Next, eff.Timers)
}

// legacyLedger is writeLedger as it was: the transaction and its postings
// in one statement of their own.
func legacyLedger(tx *gorm.DB, lt ledger.Transaction, claimID string, at time.Time) error {
	if err := lockLoweredReceivables(tx, lt); err != nil {
		return err
	}
	var q strings.Builder
	args := []any{lt.Key(), string(lt.Kind()), nonEmpty(claimID), "", at}
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

// StaleWrite runs fn on claim id and writes its change as if the claim
// had been read at version. It returns the write's error and, counted in
// the transaction before it is rolled back, the claim's events and
// ledger transactions.
func (s *Store) StaleWrite(ctx context.Context, id string, version int64,
	fn func(r claimflow.Record) (claimflow.Effects, error)) (events, ledgerTxs int64, err error) {
	rollback := errors.New("roll back")
	var writeErr error
	terr := s.inTx(ctx, func(tx *gorm.DB) error {
		row, rec, err := lockClaim(tx, id)
		if err != nil {
			return err
		}
		eff, err := fn(rec)
		if err != nil {
			return err
		}
		row.Version = version
		writeErr = s.writeClaim(ctx, tx, row, rec.Claim, eff)
		if err := tx.Raw(`SELECT (SELECT count(*) FROM claim_events WHERE claim_id = ?),
			(SELECT count(*) FROM ledger_transactions WHERE claim_id = ?)`, id, id).Row().Scan(&events, &ledgerTxs); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(terr, rollback) {
		return 0, 0, terr
	}
	return events, ledgerTxs, writeErr
}
