package pgstore_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// amountBounds are the constraints migration 0008 adds, by table.
var amountBounds = map[string]string{
	"claims":            "claims_amount_max",
	"ledger_postings":   "ledger_postings_amount_max",
	"orders":            "orders_amount_max",
	"sandbox_refunds":   "sandbox_refunds_amount_max",
	"seller_recoveries": "seller_recoveries_amount_max",
}

// validated reads which of the amount bounds PostgreSQL has validated.
func validated(t *testing.T, st *pgstore.Store) map[string]bool {
	t.Helper()
	rows, err := st.DB().Query(`SELECT conrelid::regclass::text, convalidated FROM pg_constraint WHERE conname LIKE '%\_amount\_max'`)
	require.NoError(t, err)
	got := map[string]bool{}
	for rows.Next() {
		var table string
		var ok bool
		require.NoError(t, rows.Scan(&table, &ok))
		got[table] = ok
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	return got
}

func requireCheckViolation(t *testing.T, err error, constraint string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "23514", pgErr.Code)
	require.Equal(t, constraint, pgErr.ConstraintName)
}

// TestAmountBoundsInTheDatabase: the database refuses an amount above
// money.MaxAmount however it is written, and takes one at the maximum.
func TestAmountBoundsInTheDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	got := validated(t, store)
	require.Len(t, got, len(amountBounds))
	for table := range amountBounds {
		require.True(t, got[table], "%s: validated on a database without larger amounts", table)
	}

	_, o := seed(t)
	maxEUR := money.MaxAmount(money.MustCurrency("EUR"))
	tests := []struct {
		name       string
		constraint string
		sql        string
		args       []any
	}{
		{name: "order", constraint: "orders_amount_max", sql: `UPDATE orders SET amount = $1 WHERE id = $2`, args: []any{o.ID()}},
		{name: "posting debit", constraint: "ledger_postings_amount_max",
			sql: `WITH t AS (INSERT INTO ledger_transactions (key, kind, description, created_at) VALUES ($2, 'adjustment', '', now()) RETURNING id)
			      INSERT INTO ledger_postings (transaction_id, account, amount, currency)
			      SELECT t.id, a, v, 'EUR' FROM t, (VALUES ('x', $1::bigint), ('y', -$1::bigint)) p(a, v)`, args: []any{uniq("key")}},
		{name: "sandbox refund", constraint: "sandbox_refunds_amount_max",
			sql:  `INSERT INTO sandbox_refunds (id, idempotency_key, payment_reference, claim_id, amount, currency, status, created_at) VALUES ($2, $2, 'p', 'clm_x', $1, 'EUR', 'succeeded', now())`,
			args: []any{uniq("re")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := store.DB().ExecContext(ctx, tt.sql, append([]any{maxEUR + 1}, tt.args...)...)
			requireCheckViolation(t, err, tt.constraint)
		})
	}

	// At the maximum, through the store.
	big := order.Rehydrate(order.Params{ID: uniq("ord"), BuyerID: o.BuyerID(), SellerID: o.SellerID(), Currency: "EUR", Amount: maxEUR,
		Items: []order.Item{{SKU: "a", Name: "A", Quantity: 1, UnitAmount: maxEUR}}, Payment: o.Payment(), PaidAt: o.PaidAt()})
	_, err := store.UpsertOrder(ctx, big, now)
	require.NoError(t, err)
	over := order.Rehydrate(order.Params{ID: uniq("ord"), BuyerID: o.BuyerID(), SellerID: o.SellerID(), Currency: "EUR", Amount: maxEUR + 1,
		Items: []order.Item{{SKU: "a", Name: "A", Quantity: 1, UnitAmount: maxEUR + 1}}, Payment: o.Payment(), PaidAt: o.PaidAt()})
	_, err = store.UpsertOrder(ctx, over, now)
	requireCheckViolation(t, err, "orders_amount_max")
}

// legacy is a database of a test's own that holds what a database written
// before amounts were bounded can hold: an order and claims of up to
// math.MaxInt64, charged to their seller and refunded twice over, so that
// its sums no longer fit in an int64.
type legacy struct {
	st               *pgstore.Store
	sellerID, buyer  string
	orderID          string
	claims           [3]string // math.MaxInt64, 8997, 1
	postedAt         time.Time
	postedIn, before finance.Period
}

func newLegacy(t *testing.T) legacy {
	t.Helper()
	ctx := context.Background()
	st := pgtest.Store(t, "legacy")
	db := st.DB()

	// As it was before migration 0008.
	for table, constraint := range amountBounds {
		_, err := db.ExecContext(ctx, `ALTER TABLE `+table+` DROP CONSTRAINT `+constraint)
		require.NoError(t, err)
	}
	_, err := db.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = 8`)
	require.NoError(t, err)

	l := legacy{st: st, buyer: uniq("shp"), postedAt: now.Add(-30 * time.Hour)}
	l.postedIn = finance.Day(l.postedAt)
	l.before = finance.Period{From: l.postedIn.To, To: l.postedIn.To.Add(24 * time.Hour)}
	s, err := seller.New(seller.Params{ID: uniq("sel"), Name: "S", RiskScore: 30})
	require.NoError(t, err)
	_, err = st.UpsertSeller(ctx, s, now)
	require.NoError(t, err)
	l.sellerID = s.ID()
	paid := now.Add(-48 * time.Hour)
	o, err := order.New(order.Params{
		ID: uniq("ord"), BuyerID: l.buyer, SellerID: s.ID(), Currency: "EUR", Amount: 3000,
		Items:   []order.Item{{SKU: "a", Name: "A", Quantity: 3, UnitAmount: 1000}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay"}, PaidAt: &paid,
	})
	require.NoError(t, err)
	_, err = st.UpsertOrder(ctx, o, now)
	require.NoError(t, err)
	l.orderID = o.ID()
	for i := range l.claims {
		rec, err := st.SubmitClaim(ctx, o.ID(), l.buyer, now.Add(-claimflow.HistoryWindow), func(in claimflow.Intake) (claimflow.Record, error) {
			id, err := claim.NewID(now, nil)
			require.NoError(t, err)
			c, err := claim.New(id, in.Order, claim.Request{ShopperID: l.buyer, Reason: "damaged", Description: "d",
				Items: []claim.Item{{SKU: "a", Quantity: 1}}}, money.Of(1000, in.Order.Currency()), now)
			require.NoError(t, err)
			require.NoError(t, c.SendToReview(claim.SystemActor, "", nil, now.Add(24*time.Hour), now))
			return claimflow.Record{Claim: c, Decision: decision.Decision{Outcome: decision.OutcomeManualReview, PolicyVersion: "t"}, DecidedAt: now}, nil
		})
		require.NoError(t, err)
		l.claims[i] = rec.Claim.ID()
	}

	// What the engine took before the bound.
	amounts := []int64{math.MaxInt64, 8997, 1}
	_, err = db.ExecContext(ctx, `UPDATE orders SET amount = $1 WHERE id = $2`, int64(math.MaxInt64), o.ID())
	require.NoError(t, err)
	receivable := string(ledger.SellerReceivable(s.ID()))
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	post := func(key, kind, claimID, from, to string, amount int64) {
		_, err := tx.ExecContext(ctx, `
			WITH t AS (INSERT INTO ledger_transactions (key, kind, claim_id, description, created_at) VALUES ($1, $2, $3, '', $4) RETURNING id)
			INSERT INTO ledger_postings (transaction_id, account, amount, currency)
			SELECT t.id, a, v, 'EUR' FROM t, (VALUES ($5, -$7::bigint), ($6, $7::bigint)) p(a, v)`,
			key, kind, claimID, l.postedAt, from, to, amount)
		require.NoError(t, err)
	}
	for i, id := range l.claims {
		_, err := tx.ExecContext(ctx, `UPDATE claims SET amount = $1 WHERE id = $2`, amounts[i], id)
		require.NoError(t, err)
		post("claim/"+id+"/refund", "refund", id, "provider_cash:sandbox", "claims_clearing", amounts[i])
		post("claim/"+id+"/charge_seller", "seller_charge", id, "claims_clearing", receivable, amounts[i])
	}
	// The largest refunded a second time, as a retry under a new key.
	post("claim/"+l.claims[0]+"/refund/2", "refund", l.claims[0], "provider_cash:sandbox", "claims_clearing", math.MaxInt64)
	require.NoError(t, tx.Commit())

	// Then the bound arrives.
	applied, err := st.Migrate(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"0008_amount_bounds.sql"}, applied)
	return l
}

// TestMigrationOnAmountsAboveTheMaximum: a database that holds amounts
// above the maximum still migrates; the bounds its rows break stay NOT
// VALID (and hold for every new row), the others are validated.
func TestMigrationOnAmountsAboveTheMaximum(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newLegacy(t)
	require.Equal(t, map[string]bool{"claims": false, "ledger_postings": false, "orders": false,
		"sandbox_refunds": true, "seller_recoveries": true}, validated(t, l.st))

	_, err := l.st.DB().ExecContext(ctx, `UPDATE claims SET amount = $1 WHERE id = $2`, money.MaxAmount(money.MustCurrency("EUR"))+1, l.claims[2])
	requireCheckViolation(t, err, "claims_amount_max")
	_, err = l.st.DB().ExecContext(ctx, `UPDATE claims SET amount = $1 WHERE id = $2`, money.MaxAmount(money.MustCurrency("EUR")), l.claims[2])
	require.NoError(t, err)
}

// TestSumsBeyondInt64 calls every store method that adds amounts up in
// SQL on a database whose sums no longer fit in an int64: each reports
// money.ErrOverflow, none answers a figure.
func TestSumsBeyondInt64(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newLegacy(t)
	st := l.st
	tests := []struct {
		name string
		call func() error
	}{
		{name: "seller balance", call: func() error {
			_, err := st.Balances(ctx, ledger.SellerReceivable(l.sellerID))
			return err
		}},
		{name: "trial balance", call: func() error {
			_, err := st.TrialBalance(ctx, time.Time{})
			return err
		}},
		{name: "statement opening", call: func() error {
			return st.SellerStatement(ctx, l.sellerID, l.before, func([]money.Money) error {
				t.Error("opening must not be called with a wrong balance")
				return nil
			}, func(financeflow.StatementEntry) error { return nil })
		}},
		{name: "recovery of one minor unit", call: func() error {
			_, err := st.RecordRecovery(ctx, l.sellerID, func([]money.Money) (finance.Recovery, error) {
				t.Error("build must not be called with a wrong balance")
				return finance.Recovery{}, errors.New("called")
			})
			return err
		}},
		{name: "seller's claim history", call: func() error {
			_, err := st.ClaimHistory(ctx, claimflow.HistoryFilter{SellerID: l.sellerID, Since: now.Add(-claimflow.HistoryWindow)})
			return err
		}},
		{name: "shopper's history at intake", call: func() error {
			_, err := st.SubmitClaim(ctx, l.orderID, l.buyer, now.Add(-claimflow.HistoryWindow), func(claimflow.Intake) (claimflow.Record, error) {
				t.Error("decide must not be called with a wrong history")
				return claimflow.Record{}, errors.New("called")
			})
			return err
		}},
		{name: "what other claims hold of the order", call: func() error {
			_, err := st.AmendClaim(ctx, l.claims[2], func(*claim.Claim, money.Money) (claimflow.Effects, error) {
				t.Error("the action must not be checked against a wrong refundable")
				return claimflow.Effects{}, errors.New("called")
			})
			return err
		}},
		{name: "shopper's orders", call: func() error {
			_, err := st.ShopperOrders(ctx, l.buyer, 10)
			return err
		}},
		{name: "daily amounts", call: func() error {
			_, err := st.Daily(ctx, l.postedIn)
			return err
		}},
		{name: "ledger net of a claim", call: func() error {
			_, _, err := st.ReconcileClaims(ctx, []string{"sandbox"}, l.postedIn, nil)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.call()
			require.ErrorIs(t, err, money.ErrOverflow)
			require.NotErrorIs(t, err, claimflow.ErrUnavailable)
		})
	}
}
