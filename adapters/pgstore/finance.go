package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

var _ financeflow.Store = (*Store)(nil)

// SellerExists implements financeflow.Store.
func (s *Store) SellerExists(ctx context.Context, id string) error {
	_, err := s.GetSeller(ctx, id)
	return err
}

// snapshot runs fn in a read-only REPEATABLE READ transaction: every
// query sees the same committed state, so a report's opening balance and
// its entries add up even while claims keep moving. Rows are read as they
// arrive, never all at once.
func (s *Store) snapshot(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return storeError(err, "%s", what)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return storeError(err, "%s", what)
	}
	return nil
}

// Chargebacks implements financeflow.Store.
func (s *Store) Chargebacks(ctx context.Context, f financeflow.ChargebackFilter, fn func(financeflow.Chargeback) error) error {
	q := `SELECT c.id, c.order_id, c.seller_id, s.name, c.reason, c.amount, c.currency, c.charged_at,
	             coalesce(c.chargeback_status, ''), c.contest_by, coalesce(c.chargeback->>'recovery', '')
	        FROM claims c JOIN sellers s ON s.id = c.seller_id
	       WHERE c.charged_at IS NOT NULL AND c.charged_at >= $1 AND c.charged_at < $2`
	args := []any{f.Period.From, f.Period.To}
	if f.SellerID != "" {
		args = append(args, f.SellerID)
		q += fmt.Sprintf(" AND c.seller_id = $%d", len(args))
	}
	if f.Status != "" {
		args = append(args, f.Status)
		q += fmt.Sprintf(" AND c.chargeback_status = $%d", len(args))
	}
	q += " ORDER BY c.charged_at, c.id"
	return s.snapshot(ctx, "list chargebacks", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var cb financeflow.Chargeback
			var amount int64
			var currency string
			var contestBy *time.Time
			if err := rows.Scan(&cb.ClaimID, &cb.OrderID, &cb.SellerID, &cb.SellerName, &cb.Reason, &amount, &currency,
				&cb.ChargedAt, &cb.Status, &contestBy, &cb.Recovery); err != nil {
				return err
			}
			if cb.Amount, err = money.New(amount, strings.TrimSpace(currency)); err != nil {
				return fmt.Errorf("claim %s: %w", cb.ClaimID, err)
			}
			cb.ChargedAt = cb.ChargedAt.UTC()
			if contestBy != nil {
				cb.ContestBy = contestBy.UTC()
			}
			if err := fn(cb); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// SellerStatement implements financeflow.Store.
func (s *Store) SellerStatement(ctx context.Context, sellerID string, p finance.Period,
	opening func([]money.Money) error, fn func(financeflow.StatementEntry) error) error {
	account := string(ledger.SellerReceivable(sellerID))
	return s.snapshot(ctx, "statement of seller "+sellerID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT p.currency, sum(p.amount)::bigint FROM ledger_postings p
			  JOIN ledger_transactions t ON t.id = p.transaction_id
			 WHERE p.account = $1 AND t.created_at < $2
			 GROUP BY p.currency ORDER BY p.currency`, account, p.From)
		if err != nil {
			return err
		}
		open, err := scanBalances(rows)
		if err != nil {
			return err
		}
		if err := opening(open); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `
			SELECT t.id, t.created_at, t.kind, coalesce(t.claim_id, ''), t.description, p.amount, p.currency
			  FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id
			 WHERE p.account = $1 AND t.created_at >= $2 AND t.created_at < $3
			 ORDER BY t.created_at, t.id, p.id`, account, p.From, p.To)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e financeflow.StatementEntry
			var kind, currency string
			var amount int64
			if err := rows.Scan(&e.TransactionID, &e.At, &kind, &e.ClaimID, &e.Description, &amount, &currency); err != nil {
				return err
			}
			e.Kind, e.At = ledger.Kind(kind), e.At.UTC()
			if e.Amount, err = money.New(amount, strings.TrimSpace(currency)); err != nil {
				return fmt.Errorf("ledger transaction %d: %w", e.TransactionID, err)
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// scanBalances reads (currency, sum) rows into amounts, closing rows.
func scanBalances(rows pgx.Rows) ([]money.Money, error) {
	defer rows.Close()
	var out []money.Money
	for rows.Next() {
		var currency string
		var amount int64
		if err := rows.Scan(&currency, &amount); err != nil {
			return nil, err
		}
		m, err := money.New(amount, strings.TrimSpace(currency))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// lockReceivable takes the transaction-scoped lock that serialises every
// decrease of a seller's receivable, so a recovery's check of what the
// seller owes cannot race a release of one of their charges.
func lockReceivable(tx *gorm.DB, account ledger.Account) error {
	return tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, string(account)).Error
}

// RecordRecovery implements financeflow.Store.
func (s *Store) RecordRecovery(ctx context.Context, sellerID string, build func(owed []money.Money) (finance.Recovery, error)) (financeflow.Recorded, error) {
	var out financeflow.Recorded
	account := ledger.SellerReceivable(sellerID)
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		var found int
		if err := tx.Raw(`SELECT 1 FROM sellers WHERE id = ?`, sellerID).Scan(&found).Error; err != nil {
			return err
		}
		if found == 0 {
			return &claimflow.NotFoundError{Resource: "seller", ID: sellerID, Field: "seller_id"}
		}
		if err := lockReceivable(tx, account); err != nil {
			return err
		}
		owed, err := balancesTx(tx, account)
		if err != nil {
			return err
		}
		r, err := build(owed)
		if err != nil {
			return err
		}
		// A Connect recovery the charge-seller step made is on its claim,
		// not among finance's recoveries: recording it again would count
		// it twice.
		var auto string
		if err := tx.Raw(`SELECT id FROM claims WHERE seller_id = ? AND chargeback->>'recovery' = ? LIMIT 1`,
			sellerID, r.Reference).Scan(&auto).Error; err != nil {
			return err
		}
		if auto != "" {
			return &finance.RefusedError{Code: "duplicate_recovery", Message: fmt.Sprintf(
				"%q was recovered already, by the charge of claim %s", r.Reference, auto)}
		}
		lt, err := r.Transaction()
		if err != nil {
			return err
		}
		if err := writeLedgerDescribed(tx, lt, "", r.Description(), r.RecordedAt); err != nil {
			return err
		}
		err = tx.Exec(`INSERT INTO seller_recoveries (id, seller_id, amount, currency, method, reference, note, recorded_by, recorded_at, ledger_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.SellerID, r.Amount.Amount(), r.Amount.Currency().String(),
			r.Method.String(), r.Reference, r.Note, r.RecordedBy, r.RecordedAt, lt.Key()).Error
		if isUniqueViolation(err, "seller_recoveries_reference_key") {
			return &finance.RefusedError{Code: "duplicate_recovery", Message: fmt.Sprintf(
				"a %s with reference %q was already recorded for seller %s", r.Method, r.Reference, sellerID)}
		}
		if err != nil {
			return err
		}
		if out.Owed, err = balancesTx(tx, account); err != nil {
			return err
		}
		out.Recovery = r
		return nil
	})
	if err != nil {
		var nf *claimflow.NotFoundError
		var re *finance.RefusedError
		if errors.As(err, &nf) || errors.As(err, &re) {
			return financeflow.Recorded{}, err
		}
		return financeflow.Recorded{}, storeError(err, "record recovery from seller %s", sellerID)
	}
	return out, nil
}

func balancesTx(tx *gorm.DB, account ledger.Account) ([]money.Money, error) {
	var rows []struct {
		Currency string
		Amount   int64
	}
	if err := tx.Raw(`SELECT currency, sum(amount)::bigint AS amount FROM ledger_postings WHERE account = ?
		GROUP BY currency ORDER BY currency`, string(account)).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]money.Money, 0, len(rows))
	for _, r := range rows {
		m, err := money.New(r.Amount, strings.TrimSpace(r.Currency))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// TrialBalance implements financeflow.Store.
func (s *Store) TrialBalance(ctx context.Context, asOf time.Time) ([]financeflow.AccountBalance, error) {
	var out []financeflow.AccountBalance
	err := s.snapshot(ctx, "trial balance", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT p.account, p.currency,
			       coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0)::bigint,
			       coalesce(-sum(p.amount) FILTER (WHERE p.amount < 0), 0)::bigint
			  FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id
			 WHERE $1::timestamptz IS NULL OR t.created_at < $1
			 GROUP BY p.account, p.currency ORDER BY p.account, p.currency`, nonZeroTime(asOf))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b financeflow.AccountBalance
			var account, currency string
			if err := rows.Scan(&account, &currency, &b.Debits, &b.Credits); err != nil {
				return err
			}
			cur, err := money.ParseCurrency(strings.TrimSpace(currency))
			if err != nil {
				return fmt.Errorf("account %s: %w", account, err)
			}
			// Both sums are at least zero, so their difference fits.
			b.Account, b.Currency, b.Balance = ledger.Account(account), cur, b.Debits-b.Credits
			out = append(out, b)
		}
		return rows.Err()
	})
	return out, err
}

// LedgerTransactions implements financeflow.Store.
func (s *Store) LedgerTransactions(ctx context.Context, f financeflow.LedgerFilter, fn func(financeflow.LedgerTransaction) error) error {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if !f.From.IsZero() {
		where = append(where, "t.created_at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "t.created_at < "+arg(f.To))
	}
	if f.Kind != "" {
		where = append(where, "t.kind = "+arg(string(f.Kind)))
	}
	if f.ClaimID != "" {
		where = append(where, "t.claim_id = "+arg(f.ClaimID))
	}
	if f.Account != "" {
		where = append(where, "EXISTS (SELECT 1 FROM ledger_postings a WHERE a.transaction_id = t.id AND a.account = "+arg(string(f.Account))+")")
	}
	if f.AfterID > 0 {
		where = append(where, "t.id > "+arg(f.AfterID))
	}
	q := `SELECT t.id, t.key, t.kind, coalesce(t.claim_id, ''), t.description, t.created_at,
	             p.account, p.amount, p.currency
	        FROM (SELECT * FROM ledger_transactions t`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY t.id"
	if f.Limit > 0 {
		q += " LIMIT " + arg(f.Limit)
	}
	q += `) t JOIN ledger_postings p ON p.transaction_id = t.id ORDER BY t.id, p.id`
	return s.snapshot(ctx, "list ledger transactions", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var cur *financeflow.LedgerTransaction
		for rows.Next() {
			var t financeflow.LedgerTransaction
			var kind, account, currency string
			var amount int64
			if err := rows.Scan(&t.ID, &t.Key, &kind, &t.ClaimID, &t.Description, &t.At, &account, &amount, &currency); err != nil {
				return err
			}
			m, err := money.New(amount, strings.TrimSpace(currency))
			if err != nil {
				return fmt.Errorf("ledger transaction %d: %w", t.ID, err)
			}
			if cur != nil && cur.ID != t.ID {
				if err := fn(*cur); err != nil {
					return err
				}
				cur = nil
			}
			if cur == nil {
				t.Kind, t.At = ledger.Kind(kind), t.At.UTC()
				cur = &t
			}
			cur.Postings = append(cur.Postings, financeflow.LedgerPosting{Account: ledger.Account(account), Amount: m})
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if cur != nil {
			return fn(*cur)
		}
		return nil
	})
}

// ProtectedChargesOpen implements financeflow.Store; it reads
// claims_protected_open_idx.
func (s *Store) ProtectedChargesOpen(ctx context.Context) (int64, error) {
	var n int64
	err := s.conn(ctx).Raw(`SELECT count(*) FROM claims
		WHERE chargeback_protected AND chargeback_status IN ('open', 'contested')`).Scan(&n).Error
	if err != nil {
		return 0, storeError(err, "open protected charges")
	}
	return n, nil
}
