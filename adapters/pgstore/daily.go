package pgstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// zeroRand reads zeros: the smallest id of a millisecond.
type zeroRand struct{}

func (zeroRand) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// claimIDBound is the smallest claim id made at t: every claim filed
// before t has a smaller id, every claim filed at or after it one at
// least as large (ids lead with their creation time in milliseconds).
func claimIDBound(t time.Time) string {
	id, _ := claim.NewID(t, zeroRand{}) // zeroRand never fails
	return id
}

// dailyClaimsQuery counts a period's claims by UTC filing day and decided
// outcome. The claims table has no index on created_at, but claim ids
// sort by creation time, so the id range [$3, $4) makes this a range scan
// of the primary key bounded by the period; created_at keeps the bounds
// exact.
const dailyClaimsQuery = `
	SELECT date_trunc('day', created_at AT TIME ZONE 'UTC') AS day, decision_outcome, count(*)
	  FROM claims
	 WHERE id >= $3 AND id < $4 AND created_at >= $1 AND created_at < $2
	 GROUP BY 1, 2 ORDER BY 1, 2`

// dailyAmountsQuery sums a period's refund and recovery transactions by
// UTC day, kind and currency: each is a transfer, so its debit legs sum
// to its amount. ledger_transactions_created_idx bounds it.
const dailyAmountsQuery = `
	SELECT date_trunc('day', t.created_at AT TIME ZONE 'UTC') AS day, t.kind, p.currency, sum(p.amount)::bigint
	  FROM ledger_transactions t JOIN ledger_postings p ON p.transaction_id = t.id
	 WHERE t.created_at >= $1 AND t.created_at < $2 AND t.kind IN ('refund', 'seller_recovery') AND p.amount > 0
	 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`

// Daily implements financeflow.Store.
func (s *Store) Daily(ctx context.Context, p finance.Period) (financeflow.Daily, error) {
	var d financeflow.Daily
	err := s.snapshot(ctx, "daily summary", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, dailyClaimsQuery, p.From, p.To, claimIDBound(p.From), claimIDBound(p.To))
		if err != nil {
			return err
		}
		for rows.Next() {
			var o financeflow.DayOutcome
			var outcome string
			if err := rows.Scan(&o.Day, &outcome, &o.Claims); err != nil {
				rows.Close()
				return err
			}
			if o.Outcome, err = decision.ParseOutcome(outcome); err != nil {
				rows.Close()
				return err
			}
			o.Day = utcDay(o.Day)
			d.Outcomes = append(d.Outcomes, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, dailyAmountsQuery, p.From, p.To)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a financeflow.DayAmount
			var kind, currency string
			var amount int64
			if err := rows.Scan(&a.Day, &kind, &currency, &amount); err != nil {
				return err
			}
			if a.Amount, err = money.New(amount, strings.TrimSpace(currency)); err != nil {
				return fmt.Errorf("%s on %s: %w", kind, a.Day.Format(time.DateOnly), err)
			}
			a.Day, a.Kind = utcDay(a.Day), ledger.Kind(kind)
			d.Amounts = append(d.Amounts, a)
		}
		return rows.Err()
	})
	return d, err
}

// utcDay reads a date_trunc of a UTC wall time (a timestamp without zone,
// which pgx gives back as UTC) as the day's start in UTC.
func utcDay(t time.Time) time.Time {
	y, m, dd := t.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
}
