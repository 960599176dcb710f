package pgstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// dailySeed writes claims and ledger transactions straight into a
// database of the test's own, at the times a test needs.
type dailySeed struct {
	st    *pgstore.Store
	order string
	n     int
}

func newDailySeed(t testing.TB, st *pgstore.Store) *dailySeed {
	t.Helper()
	db := st.DB()
	_, err := db.Exec(`INSERT INTO sellers (id, name, risk_score, created_at, updated_at) VALUES ('sel_daily', 'S', 10, now(), now())`)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO orders (id, buyer_id, seller_id, currency, amount, items, payment_provider, payment_reference, created_at, updated_at)
		VALUES ('ord_daily', 'shp_daily', 'sel_daily', 'EUR', 100000000, '[]', 'sandbox', 'pay', now(), now())`)
	require.NoError(t, err)
	return &dailySeed{st: st, order: "ord_daily"}
}

// claims writes claims filed at the times given, each with outcome.
func (s *dailySeed) claims(t testing.TB, outcome decision.Outcome, at ...time.Time) {
	t.Helper()
	rows := make([][]any, len(at))
	for i, a := range at {
		id, err := claim.NewID(a, nil)
		require.NoError(t, err)
		rows[i] = []any{id, s.order, "shp_daily", "sel_daily", "counterfeit", "in_review", int64(1000), "EUR",
			"[]", "", "[]", outcome.String(), "[]", "v1", "", "{}", a, int64(1), a, a}
	}
	_, err := s.st.Pool().CopyFrom(context.Background(), pgx.Identifier{"claims"},
		[]string{"id", "order_id", "shopper_id", "seller_id", "reason", "status", "amount", "currency",
			"items", "description", "evidence", "decision_outcome", "decision_reasons", "decision_policy_version",
			"decision_tier", "decision_facts", "decided_at", "version", "created_at", "updated_at"}, pgx.CopyFromRows(rows))
	require.NoError(t, err)
}

// transfer writes a balanced ledger transaction of kind moving m at at.
func (s *dailySeed) transfer(t testing.TB, kind ledger.Kind, m money.Money, at time.Time) {
	t.Helper()
	s.n++
	var id int64
	require.NoError(t, s.st.DB().QueryRow(`INSERT INTO ledger_transactions (key, kind, created_at) VALUES ($1, $2, $3) RETURNING id`,
		fmt.Sprintf("daily/%d", s.n), string(kind), at).Scan(&id))
	_, err := s.st.DB().Exec(`INSERT INTO ledger_postings (transaction_id, account, amount, currency) VALUES ($1, 'a', $2, $3), ($1, 'b', $4, $3)`,
		id, m.Amount(), m.Currency().String(), -m.Amount())
	require.NoError(t, err)
}

func TestDailySumsByDayOutcomeKindAndCurrency(t *testing.T) {
	t.Parallel()
	st := pgtest.Store(t, "pgstore_daily")
	s := newDailySeed(t, st)
	d1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	d2, d3 := d1.AddDate(0, 0, 1), d1.AddDate(0, 0, 2)
	eur, usd := money.MustCurrency("EUR"), money.MustCurrency("USD")

	// Before the period, the first and last instant in it, after it.
	s.claims(t, decision.OutcomeInstantRefund, d1.Add(-time.Millisecond), d1, d1.Add(time.Hour), d2.Add(23*time.Hour+59*time.Minute), d3)
	s.claims(t, decision.OutcomeManualReview, d1.Add(2*time.Hour))
	s.claims(t, decision.OutcomeRejected, d2.Add(time.Minute), d2.Add(2*time.Minute))
	s.transfer(t, ledger.KindRefund, money.Of(1000, eur), d1.Add(time.Hour))
	s.transfer(t, ledger.KindRefund, money.Of(250, eur), d1.Add(3*time.Hour))
	s.transfer(t, ledger.KindRefund, money.Of(700, usd), d1.Add(3*time.Hour))
	s.transfer(t, ledger.KindSellerRecovery, money.Of(400, eur), d2.Add(time.Hour))
	s.transfer(t, ledger.KindSellerCharge, money.Of(999, eur), d2.Add(time.Hour)) // not a refund or recovery
	s.transfer(t, ledger.KindRefund, money.Of(5, eur), d3)                        // after the period
	s.transfer(t, ledger.KindRefund, money.Of(6, eur), d1.Add(-time.Second))      // before it

	got, err := st.Daily(context.Background(), finance.Period{From: d1, To: d3})
	require.NoError(t, err)
	require.Equal(t, []financeflow.DayOutcome{
		{Day: d1, Outcome: decision.OutcomeInstantRefund, Claims: 2},
		{Day: d1, Outcome: decision.OutcomeManualReview, Claims: 1},
		{Day: d2, Outcome: decision.OutcomeInstantRefund, Claims: 1},
		{Day: d2, Outcome: decision.OutcomeRejected, Claims: 2},
	}, got.Outcomes)
	require.Equal(t, []financeflow.DayAmount{
		{Day: d1, Kind: ledger.KindRefund, Amount: money.Of(1250, eur)},
		{Day: d1, Kind: ledger.KindRefund, Amount: money.Of(700, usd)},
		{Day: d2, Kind: ledger.KindSellerRecovery, Amount: money.Of(400, eur)},
	}, got.Amounts)

	empty, err := st.Daily(context.Background(), finance.Period{From: d3.AddDate(0, 0, 1), To: d3.AddDate(0, 0, 8)})
	require.NoError(t, err)
	require.Empty(t, empty.Outcomes)
	require.Empty(t, empty.Amounts)
}

// TestDailyQueriesUseTheirIndexes seeds 100,000 claims and refunds over
// a year and checks that a 90-day summary reads only its period through
// an index, never a whole table.
func TestDailyQueriesUseTheirIndexes(t *testing.T) {
	t.Parallel()
	st := pgtest.Store(t, "pgstore_daily_plan")
	s := newDailySeed(t, st)
	ctx := context.Background()
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	const n = 100_000
	at := make([]time.Time, n)
	for i := range at {
		at[i] = end.Add(-time.Duration(i) * (365 * 24 * time.Hour / n))
	}
	s.claims(t, decision.OutcomeInstantRefund, at...)
	_, err := st.DB().Exec(`
		WITH t AS (
			INSERT INTO ledger_transactions (key, kind, created_at)
			SELECT 'bulk/' || i, 'refund', $1::timestamptz - i * interval '315 seconds' FROM generate_series(1, 100000) i
			RETURNING id)
		INSERT INTO ledger_postings (transaction_id, account, amount, currency)
		SELECT id, acct, amt, 'EUR' FROM t, (VALUES ('a', 100), ('b', -100)) v(acct, amt)`, end)
	require.NoError(t, err)
	_, err = st.DB().Exec(`ANALYZE claims; ANALYZE ledger_transactions; ANALYZE ledger_postings`)
	require.NoError(t, err)

	p := finance.Period{From: end.AddDate(0, 0, -90), To: end}
	for _, tc := range []struct {
		name  string
		query string
		args  []any
		index string
	}{
		{"claims", pgstore.DailyClaimsQuery, []any{p.From, p.To, pgstore.ClaimIDBound(p.From), pgstore.ClaimIDBound(p.To)}, "claims_pkey"},
		{"amounts", pgstore.DailyAmountsQuery, []any{p.From, p.To}, "ledger_transactions_created_idx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var plan []string
			rows, err := st.DB().Query("EXPLAIN "+tc.query, tc.args...)
			require.NoError(t, err)
			defer rows.Close()
			for rows.Next() {
				var line string
				require.NoError(t, rows.Scan(&line))
				plan = append(plan, line)
			}
			require.NoError(t, rows.Err())
			text := strings.Join(plan, "\n")
			require.Contains(t, text, tc.index, text)
			require.NotContains(t, text, "Seq Scan on claims", text)
			require.NotContains(t, text, "Seq Scan on ledger_transactions", text)
		})
	}

	start := time.Now()
	d, err := st.Daily(ctx, p)
	require.NoError(t, err)
	t.Logf("90 days of 100,000 claims and refunds a year summed in %s", time.Since(start))
	claims := 0
	for _, o := range d.Outcomes {
		claims += o.Claims
	}
	require.InDelta(t, n*90/365, claims, 2)
	require.Len(t, d.Outcomes, 90)
}
