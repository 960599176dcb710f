package pgstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// seedOn stores a seller and an order of a new buyer's for 3000 EUR on st,
// for tests that need a database of their own.
func seedOn(t testing.TB, st *pgstore.Store) *order.Order {
	t.Helper()
	ctx := context.Background()
	s, err := seller.New(seller.Params{ID: uniq("sel"), Name: "S", RiskScore: 30})
	require.NoError(t, err)
	_, err = st.UpsertSeller(ctx, s, now)
	require.NoError(t, err)
	paid := now.Add(-48 * time.Hour)
	o, err := order.New(order.Params{
		ID: uniq("ord"), BuyerID: uniq("shp"), SellerID: s.ID(), Currency: "EUR", Amount: 3000,
		Items:   []order.Item{{SKU: "a", Name: "A", Quantity: 3, UnitAmount: 1000}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay"}, PaidAt: &paid,
	})
	require.NoError(t, err)
	_, err = st.UpsertOrder(ctx, o, now)
	require.NoError(t, err)
	return o
}

// filed is a claim of amount on o sent to review, decided with a version
// in shadow beside it and a refund step to schedule, as the claims that
// cost intake the most statements are.
func filed(t *testing.T, in claimflow.Intake, o *order.Order, amount int64) (claimflow.Record, error) {
	t.Helper()
	rec, err := newRecord(t, in, o, amount, func(c *claim.Claim) error {
		return c.SendToReview(claim.SystemActor, "", map[string]any{"k": "v"}, now.Add(24*time.Hour), now)
	})
	if err != nil {
		return rec, err
	}
	rec.Shadow = &decision.Decision{Outcome: decision.OutcomeRejected, PolicyVersion: "candidate", Tier: "new",
		Reasons: []decision.Reason{{Code: "shadow", Message: "in shadow"}}}
	rec.Next = []claimflow.Step{claimflow.StepRefund}
	return rec, nil
}

// statements is how many times the server has run each statement in st's
// database.
func statements(t *testing.T, st *pgstore.Store) map[string]int64 {
	t.Helper()
	rows, err := st.DB().QueryContext(context.Background(), `SELECT query, sum(calls)::bigint
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		GROUP BY query`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var q string
		var n int64
		require.NoError(t, rows.Scan(&q, &n))
		out[q] = n
	}
	require.NoError(t, rows.Err())
	return out
}

// TestIntakeStatements counts the statements filing a claim costs, with
// and without an idempotency key, on a database of its own so nothing
// else is counted. It needs pg_stat_statements loaded by the server and
// is skipped where it is not.
func TestIntakeStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "intake_statements")
	if _, err := st.DB().ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		t.Skipf("no pg_stat_statements: %v", err)
	}
	var one int
	if err := st.DB().QueryRowContext(ctx, `SELECT 1 FROM pg_stat_statements LIMIT 1`).Scan(&one); err != nil {
		t.Skipf("pg_stat_statements not loaded: %v", err)
	}
	const claims = 5
	// count files a claim on each of claims new orders and returns the
	// statements that ran once for each. The job queue's occasional
	// statements (a notice to its workers, sent at most so often, and a
	// look at the server's version) are logged, not counted.
	count := func(name string, file func(o *order.Order)) int64 {
		orders := make([]*order.Order, claims)
		for i := range orders {
			orders[i] = seedOn(t, st)
		}
		before := statements(t, st)
		for _, o := range orders {
			file(o)
		}
		after := statements(t, st)
		var each int64
		for q, n := range after {
			d := n - before[q]
			if d <= 0 || strings.Contains(q, "pg_stat_statements") {
				continue
			}
			q = strings.Join(strings.Fields(q), " ")
			if strings.Contains(q, "name: PGNotifyMany") || strings.Contains(q, "name: PGGetProductAndVersion") {
				t.Logf("%s, not counted: %d in all: %.100s", name, d, q)
				continue
			}
			require.Zero(t, d%claims, "%s: %d× %s", name, d, q)
			each += d / claims
			t.Logf("%s: %d× %.100s", name, d/claims, q)
		}
		return each
	}
	plain := count("without a key", func(o *order.Order) {
		_, err := st.SubmitClaim(ctx, o.ID(), o.BuyerID(), now.Add(-claimflow.HistoryWindow),
			func(in claimflow.Intake) (claimflow.Record, error) { return filed(t, in, o, 500) })
		require.NoError(t, err)
	})
	keyed := count("with a key", func(o *order.Order) {
		_, _, err := st.ClaimOnce(ctx, uniq("shopper"), uniq("key"), []byte("h"), func(tx claimflow.Store) (claimflow.Record, error) {
			return tx.SubmitClaim(ctx, o.ID(), o.BuyerID(), now.Add(-claimflow.HistoryWindow),
				func(in claimflow.Intake) (claimflow.Record, error) { return filed(t, in, o, 500) })
		})
		require.NoError(t, err)
	})
	t.Logf("statements per claim filed: %d without a key, %d with one", plain, keyed)
	// begin, the order's lock, the intake's read, the claim's write, the
	// job, commit; and with a key, the key's insert and its result.
	require.LessOrEqual(t, plain, int64(6))
	require.LessOrEqual(t, keyed, int64(8))
}

// keptResult is what the key (scope, key) keeps as its answer.
func keptResult(t *testing.T, scope, key string) []byte {
	t.Helper()
	var kept []byte
	require.NoError(t, store.DB().QueryRowContext(context.Background(),
		`SELECT result FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key).Scan(&kept))
	return kept
}

// TestClaimOnceKeepsTheRowAsStored: the row a filing keeps for its key is
// byte for byte the row read afresh, and a claim changed after it was
// filed, in the same transaction, is kept as changed.
func TestClaimOnceKeepsTheRowAsStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("Filed", func(t *testing.T) {
		t.Parallel()
		_, o := seed(t)
		scope, key := uniq("shopper"), uniq("key")
		first, replayed, err := store.ClaimOnce(ctx, scope, key, []byte("h"), func(tx claimflow.Store) (claimflow.Record, error) {
			return tx.SubmitClaim(ctx, o.ID(), o.BuyerID(), now.Add(-claimflow.HistoryWindow),
				func(in claimflow.Intake) (claimflow.Record, error) { return filed(t, in, o, 700) })
		})
		require.NoError(t, err)
		require.False(t, replayed)
		fresh, err := store.ClaimRowJSON(ctx, first.Claim.ID())
		require.NoError(t, err)
		require.Equal(t, string(fresh), string(keptResult(t, scope, key)))

		again, replayed, err := store.ClaimOnce(ctx, scope, key, []byte("h"), func(claimflow.Store) (claimflow.Record, error) {
			t.Fatal("a replay runs nothing")
			return claimflow.Record{}, nil
		})
		require.NoError(t, err)
		require.True(t, replayed)
		require.Equal(t, first, again)
	})

	t.Run("ChangedAfter", func(t *testing.T) {
		t.Parallel()
		_, o := seed(t)
		scope, key := uniq("shopper"), uniq("key")
		rec, _, err := store.ClaimOnce(ctx, scope, key, []byte("h"), func(tx claimflow.Store) (claimflow.Record, error) {
			rec, err := tx.SubmitClaim(ctx, o.ID(), o.BuyerID(), now.Add(-claimflow.HistoryWindow),
				func(in claimflow.Intake) (claimflow.Record, error) { return filed(t, in, o, 700) })
			if err != nil {
				return rec, err
			}
			_, err = tx.AmendClaim(ctx, rec.Claim.ID(), func(c *claim.Claim, _ money.Money) (claimflow.Effects, error) {
				return claimflow.Effects{}, c.OverrideReject(claim.Actor{Kind: "agent", ID: "ana"}, claim.RejectDuplicate, "dup", now)
			})
			return rec, err
		})
		require.NoError(t, err)
		require.Equal(t, claim.StatusRejected, rec.Claim.Status(), "the answer is the claim as the transaction left it")
		fresh, err := store.ClaimRowJSON(ctx, rec.Claim.ID())
		require.NoError(t, err)
		require.Equal(t, string(fresh), string(keptResult(t, scope, key)))
	})
}

// TestSubmitClaimWritesEverythingInOne: the claim, its events (and the
// outbound events their trigger writes), the note that the seller's
// standing changed and the shadow decision are all written.
func TestSubmitClaimWritesEverythingInOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, o := seed(t)
	rec, err := store.SubmitClaim(ctx, o.ID(), o.BuyerID(), now.Add(-claimflow.HistoryWindow),
		func(in claimflow.Intake) (claimflow.Record, error) { return filed(t, in, o, 800) })
	require.NoError(t, err)
	id := rec.Claim.ID()

	events, err := store.ClaimEvents(ctx, id)
	require.NoError(t, err)
	require.Len(t, events, 2)
	require.Equal(t, claim.StatusSubmitted, events[0].To)
	require.Equal(t, claim.StatusInReview, events[1].To)
	require.Equal(t, "v", events[1].Data["k"])

	db := store.DB()
	var outbound []string
	rows, err := db.QueryContext(ctx, `SELECT id FROM events WHERE claim_id = $1 ORDER BY sequence`, id)
	require.NoError(t, err)
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		outbound = append(outbound, s)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Equal(t, []string{"evt_" + id + "_1", "evt_" + id + "_2"}, outbound)

	var noted int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM seller_standing_changes WHERE seller_id = $1`,
		o.SellerID()).Scan(&noted))
	require.Positive(t, noted)

	var version, outcome, reasons, tier string
	var decidedAt time.Time
	require.NoError(t, db.QueryRowContext(ctx, `SELECT version, outcome, reasons::text, tier, decided_at
		FROM policy_shadow_decisions WHERE claim_id = $1`, id).Scan(&version, &outcome, &reasons, &tier, &decidedAt))
	require.Equal(t, []string{"candidate", "rejected", "{shadow}", "new"}, []string{version, outcome, reasons, tier})
	require.True(t, rec.DecidedAt.Equal(decidedAt))

	// Without a version in shadow, none is written.
	_, o2 := seed(t)
	plain, err := submit(ctx, t, o2, 500, func(*claim.Claim) error { return nil })
	require.NoError(t, err)
	var n int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM policy_shadow_decisions WHERE claim_id = $1`,
		plain.Claim.ID()).Scan(&n))
	require.Zero(t, n)
}

// TestIntakeSeesTheClaimItWaitedFor: a claim whose intake waits on the
// order's lock reads, once it has the lock, the claim the lock's holder
// committed, so the two are never decided as if the other did not exist.
func TestIntakeSeesTheClaimItWaitedFor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "intake_lock") // alone, so the only lock waited on here is ours
	o := seedOn(t, st)
	since := now.Add(-claimflow.HistoryWindow)

	deciding, release := make(chan struct{}), make(chan struct{})
	let := sync.OnceFunc(func() { close(release) })
	defer let() // a failed test still lets the first claim's transaction end
	var first claimflow.Record
	firstDone := make(chan error, 1)
	go func() {
		var err error
		first, err = st.SubmitClaim(ctx, o.ID(), o.BuyerID(), since, func(in claimflow.Intake) (claimflow.Record, error) {
			close(deciding)
			<-release
			return filed(t, in, o, 1000)
		})
		firstDone <- err
	}()
	select {
	case <-deciding:
	case err := <-firstDone:
		t.Fatalf("the first claim ended before its decision: %v", err)
	}

	var seen claimflow.Intake
	secondDone := make(chan error, 1)
	go func() {
		_, err := st.SubmitClaim(ctx, o.ID(), o.BuyerID(), since, func(in claimflow.Intake) (claimflow.Record, error) {
			seen = in
			return claimflow.Record{}, errPeek
		})
		secondDone <- err
	}()
	require.Eventually(t, func() bool {
		var waiting int
		err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		return err == nil && waiting == 1
	}, 10*time.Second, 5*time.Millisecond, "the second intake waits on the order's lock")
	let()
	require.NoError(t, <-firstDone)
	require.ErrorIs(t, <-secondDone, errPeek)

	require.Len(t, seen.LiveClaims, 1)
	require.Equal(t, first.Claim.ID(), seen.LiveClaims[0].ID)
	require.Equal(t, money.Of(1000, o.Currency()), seen.LiveClaims[0].Amount)
	require.Equal(t, 1, seen.ShopperClaims)
	require.Equal(t, int64(1000), seen.ShopperClaimed)
}

// BenchmarkSubmitClaim files one claim per iteration, each on an order of
// its own, with events, a shadow decision and a job, on a database of its
// own.
//
//	go test -run '^$' -bench SubmitClaim -benchtime 300x ./adapters/pgstore/
func BenchmarkSubmitClaim(b *testing.B) {
	ctx := context.Background()
	st := pgtest.Store(b, "intake_bench")
	orders := make([]*order.Order, b.N)
	for i := range orders {
		orders[i] = seedOn(b, st)
	}
	amount := int64(500)
	b.ResetTimer()
	for i := range b.N {
		o := orders[i]
		_, err := st.SubmitClaim(ctx, o.ID(), o.BuyerID(), now.Add(-claimflow.HistoryWindow), func(in claimflow.Intake) (claimflow.Record, error) {
			id, err := claim.NewID(now, nil)
			if err != nil {
				return claimflow.Record{}, err
			}
			c, err := claim.New(id, in.Order, claim.Request{ShopperID: o.BuyerID(), Reason: "damaged", Description: "d",
				Amount: &amount, Items: []claim.Item{{SKU: "a", Quantity: 1}}}, in.Order.Amount(), now)
			if err != nil {
				return claimflow.Record{}, err
			}
			if err := c.SendToReview(claim.SystemActor, "", map[string]any{"k": "v"}, now.Add(24*time.Hour), now); err != nil {
				return claimflow.Record{}, err
			}
			d := decision.Decision{Outcome: decision.OutcomeManualReview, PolicyVersion: "test", Tier: "new",
				Reasons: []decision.Reason{{Code: "test", Message: "a test"}}}
			return claimflow.Record{Claim: c, Decision: d, DecidedAt: now, Next: []claimflow.Step{claimflow.StepRefund},
				Shadow: &decision.Decision{Outcome: decision.OutcomeRejected, PolicyVersion: "candidate", Tier: "new"}}, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
