package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
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
	"github.com/claimsd/claimsd/migrations"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

var store *pgstore.Store

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, "pgstore", &store)) }

func uniq(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

var now = time.Now().UTC().Truncate(time.Microsecond)

func seed(t *testing.T) (*seller.Seller, *order.Order) {
	t.Helper()
	ctx := context.Background()
	s, err := seller.New(seller.Params{ID: uniq("sel"), Name: "S", RiskScore: 30})
	require.NoError(t, err)
	created, err := store.UpsertSeller(ctx, s, now)
	require.NoError(t, err)
	require.True(t, created)
	paid := now.Add(-48 * time.Hour)
	o, err := order.New(order.Params{
		ID: uniq("ord"), BuyerID: uniq("shp"), SellerID: s.ID(), Currency: "EUR", Amount: 3000,
		Items:   []order.Item{{SKU: "a", Name: "A", Quantity: 3, UnitAmount: 1000}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay"}, PaidAt: &paid,
	})
	require.NoError(t, err)
	created, err = store.UpsertOrder(ctx, o, now)
	require.NoError(t, err)
	require.True(t, created)
	return s, o
}

func TestMigrateIsIdempotentAndSerialised(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, cleanup, err := pgtest.Database(ctx, "migrate")
	require.NoError(t, err)
	t.Cleanup(cleanup)

	// Two processes starting at once: both succeed, the schema is built once.
	var wg sync.WaitGroup
	applied := make([][]string, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := pgstore.Open(ctx, url, pgstore.PoolConfig{MaxConns: 2})
			if err != nil {
				errs[i] = err
				return
			}
			defer st.Close()
			applied[i], errs[i] = st.Migrate(ctx)
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	files, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	require.ElementsMatch(t, files, append(applied[0], applied[1]...), "each migration applied exactly once")

	st, err := pgstore.Open(ctx, url, pgstore.PoolConfig{MaxConns: 2})
	require.NoError(t, err)
	defer st.Close()
	again, err := st.Migrate(ctx)
	require.NoError(t, err)
	require.Empty(t, again)
	pending, err := st.PendingMigrations(ctx)
	require.NoError(t, err)
	require.Zero(t, pending)
}

func TestPendingMigrationsOnEmptyDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, cleanup, err := pgtest.Database(ctx, "empty")
	require.NoError(t, err)
	t.Cleanup(cleanup)
	st, err := pgstore.Open(ctx, url, pgstore.PoolConfig{MaxConns: 2})
	require.NoError(t, err)
	defer st.Close()
	pending, err := st.PendingMigrations(ctx)
	require.NoError(t, err)
	require.Positive(t, pending)
}

func TestUpsertRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, o := seed(t)

	got, err := store.GetOrder(ctx, o.ID())
	require.NoError(t, err)
	require.Equal(t, o.Amount(), got.Amount())
	require.Equal(t, o.Items(), got.Items())
	require.Equal(t, o.PaidAt().UnixMicro(), got.PaidAt().UnixMicro())

	s2, err := seller.New(seller.Params{ID: s.ID(), Name: "Renamed", RiskScore: 99, Verified: true, StripeAccount: "acct_1"})
	require.NoError(t, err)
	created, err := store.UpsertSeller(ctx, s2, now)
	require.NoError(t, err)
	require.False(t, created)
	gs, err := store.GetSeller(ctx, s.ID())
	require.NoError(t, err)
	require.Equal(t, 99, gs.RiskScore())
	require.Equal(t, "acct_1", gs.StripeAccount())

	// An item's brand is kept with the items, a brand no one registered
	// included, and read back as given.
	p := order.Params{ID: uniq("ord"), BuyerID: uniq("shp"), SellerID: s.ID(), Currency: "EUR", Amount: 3000,
		Items: []order.Item{
			{SKU: "a", Name: "A", Quantity: 1, UnitAmount: 1000, Brand: "brand_unregistered"},
			{SKU: "b", Name: "B", Quantity: 1, UnitAmount: 2000},
		},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay"}, PaidAt: o.PaidAt()}
	branded, err := order.New(p)
	require.NoError(t, err)
	_, err = store.UpsertOrder(ctx, branded, now)
	require.NoError(t, err)
	got, err = store.GetOrder(ctx, branded.ID())
	require.NoError(t, err)
	require.Equal(t, branded.Items(), got.Items())
	require.Equal(t, "brand_unregistered", got.Items()[0].Brand)
	require.Empty(t, got.Items()[1].Brand)

	_, err = store.GetOrder(ctx, uniq("ord"))
	var nf *claimflow.NotFoundError
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "order", nf.Resource)
}

func TestUpsertOrderUnknownSeller(t *testing.T) {
	t.Parallel()
	paid := now
	o, err := order.New(order.Params{
		ID: uniq("ord"), BuyerID: "shp", SellerID: uniq("sel_missing"), Currency: "EUR", Amount: 100,
		Items:   []order.Item{{SKU: "a", Quantity: 1, UnitAmount: 100}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "p"}, PaidAt: &paid,
	})
	require.NoError(t, err)
	_, err = store.UpsertOrder(context.Background(), o, now)
	var nf *claimflow.NotFoundError
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "seller_id", nf.Field)
}

func submit(ctx context.Context, t *testing.T, o *order.Order, amount int64, status func(*claim.Claim) error) (claimflow.Record, error) {
	t.Helper()
	return submitOn(ctx, t, store, o, amount, status)
}

// newRecord builds the record of a claim of amount on o in the state
// status leaves it, decided for review.
func newRecord(t *testing.T, in claimflow.Intake, o *order.Order, amount int64, status func(*claim.Claim) error) (claimflow.Record, error) {
	t.Helper()
	id, err := claim.NewID(now, nil)
	require.NoError(t, err)
	c, err := claim.New(id, in.Order, claim.Request{ShopperID: o.BuyerID(), Reason: "damaged", Description: "d",
		Amount: &amount, Items: []claim.Item{{SKU: "a", Quantity: 1}}}, in.Order.Amount(), now)
	if err != nil {
		return claimflow.Record{}, err
	}
	if err := status(c); err != nil {
		return claimflow.Record{}, err
	}
	d := decision.Decision{Outcome: decision.OutcomeManualReview, PolicyVersion: "test", Tier: "new",
		Reasons: []decision.Reason{{Code: "test", Message: "a test"}}}
	f := decision.Facts{ClaimReason: c.Reason(), Amount: c.Amount(), OrderAmount: in.Order.Amount(),
		PaidAt: *in.Order.PaidAt(), ShopperFirstOrderAt: in.ShopperFirstOrderAt, ShopperClaims90d: in.ShopperClaims,
		ShopperRefunded90d: money.Of(in.ShopperClaimed, in.Order.Currency()), SellerRiskScore: in.Seller.RiskScore()}
	return claimflow.Record{Claim: c, Decision: d, Facts: f, DecidedAt: now}, nil
}

func TestSubmitClaimStoresEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, o := seed(t)
	toReview := func(c *claim.Claim) error {
		return c.SendToReview(claim.SystemActor, "", map[string]any{"k": "v"}, now.Add(24*time.Hour), now)
	}

	rec, err := submit(ctx, t, o, 1000, toReview)
	require.NoError(t, err)
	got, err := store.GetClaim(ctx, rec.Claim.ID())
	require.NoError(t, err)
	require.Equal(t, claim.StatusInReview, got.Claim.Status())
	require.Equal(t, rec.Claim.Amount(), got.Claim.Amount())
	require.Equal(t, rec.Claim.Items(), got.Claim.Items())
	require.Equal(t, rec.Decision, got.Decision)
	require.Equal(t, 30, got.Facts.SellerRiskScore)
	require.Equal(t, int64(2), got.Claim.Version())

	events, err := store.ClaimEvents(ctx, rec.Claim.ID())
	require.NoError(t, err)
	require.Len(t, events, 2)
	require.Equal(t, claim.StatusInReview, events[1].To)
	require.Equal(t, claim.StatusSubmitted, events[1].From)
	require.Equal(t, "v", events[1].Data["k"])

	// The second claim sees the first in its history and its live claims.
	var seen claimflow.Intake
	_, err = store.SubmitClaim(ctx, o.ID(), o.BuyerID(), now.Add(-claimflow.HistoryWindow), func(in claimflow.Intake) (claimflow.Record, error) {
		seen = in
		return claimflow.Record{}, errors.New("stop here")
	})
	require.ErrorContains(t, err, "stop here")
	require.Equal(t, 1, seen.ShopperClaims)
	require.Equal(t, int64(1000), seen.ShopperClaimed)
	require.Len(t, seen.LiveClaims, 1)
	require.Equal(t, []claim.Item{{SKU: "a", Quantity: 1}}, seen.LiveClaims[0].Items)

	// Someone else asking about the order sees nothing.
	_, err = store.SubmitClaim(ctx, o.ID(), uniq("shp_other"), now, func(claimflow.Intake) (claimflow.Record, error) {
		t.Fatal("decide must not run for another shopper's order")
		return claimflow.Record{}, nil
	})
	require.ErrorIs(t, err, claimflow.ErrNotFound)
}

// TestClaimOnce: fn runs in the key's transaction on the store it is
// given, so a failure keeps neither its writes nor the key; a replay
// returns the claim as the first call left it, even after the claim
// moved on, and runs nothing; another request with the key is refused.
func TestClaimOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, o := seed(t)
	key, scope := uniq("key"), uniq("shopper:x")
	toReview := func(c *claim.Claim) error {
		return c.SendToReview(claim.SystemActor, "", nil, now.Add(24*time.Hour), now)
	}

	// fn writes a claim, then fails: the claim and the key are both gone.
	_, _, err := store.ClaimOnce(ctx, scope, key, []byte("h1"), func(tx claimflow.Store) (claimflow.Record, error) {
		_, err := submitOn(ctx, t, tx, o, 500, toReview)
		require.NoError(t, err)
		return claimflow.Record{}, errors.New("boom")
	})
	require.ErrorContains(t, err, "boom")
	list, _, err := store.ListClaims(ctx, claimflow.ClaimFilter{ShopperID: o.BuyerID()})
	require.NoError(t, err)
	require.Empty(t, list)

	// Now it succeeds, and a replay returns the kept claim.
	calls := 0
	run := func(tx claimflow.Store) (claimflow.Record, error) {
		calls++
		return submitOn(ctx, t, tx, o, 500, toReview)
	}
	first, replayed, err := store.ClaimOnce(ctx, scope, key, []byte("h1"), run)
	require.NoError(t, err)
	require.False(t, replayed)
	require.Equal(t, claim.StatusInReview, first.Claim.Status())

	// The claim moves on; the replay still answers it as first filed.
	_, err = store.AmendClaim(ctx, first.Claim.ID(), func(c *claim.Claim, _ money.Money) (claimflow.Effects, error) {
		return claimflow.Effects{}, c.OverrideReject(claim.Actor{Kind: "agent", ID: "ana"}, claim.RejectDuplicate, "dup", now)
	})
	require.NoError(t, err)
	again, replayed, err := store.ClaimOnce(ctx, scope, key, []byte("h1"), run)
	require.NoError(t, err)
	require.True(t, replayed)
	require.Equal(t, 1, calls)
	require.Equal(t, first.Claim.ID(), again.Claim.ID())
	require.Equal(t, first.Claim.Version(), again.Claim.Version())
	require.Equal(t, claim.StatusInReview, again.Claim.Status())
	require.Equal(t, first.Decision, again.Decision)
	require.Equal(t, first.Claim.ReviewDeadline(), again.Claim.ReviewDeadline())
	require.Equal(t, first.Claim.CreatedAt(), again.Claim.CreatedAt(), "the first answer and a replay agree to the microsecond")
	require.Equal(t, first.Claim.UpdatedAt(), again.Claim.UpdatedAt())
	require.Equal(t, first.DecidedAt, again.DecidedAt)
	require.Equal(t, first.Facts, again.Facts)
	list, _, err = store.ListClaims(ctx, claimflow.ClaimFilter{ShopperID: o.BuyerID()})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, claim.StatusRejected, list[0].Claim.Status())

	_, _, err = store.ClaimOnce(ctx, scope, key, []byte("h2"), run)
	require.ErrorIs(t, err, claimflow.ErrIdempotencyKeyReused)
	// The same key in another scope is another key.
	_, replayed, err = store.ClaimOnce(ctx, uniq("shopper:y"), key, []byte("h2"), func(tx claimflow.Store) (claimflow.Record, error) {
		return tx.GetClaim(ctx, first.Claim.ID())
	})
	require.NoError(t, err)
	require.False(t, replayed)
}

// submitOn is submit on st, a store ClaimOnce handed over.
func submitOn(ctx context.Context, t *testing.T, st claimflow.Store, o *order.Order, amount int64, status func(*claim.Claim) error) (claimflow.Record, error) {
	t.Helper()
	return st.SubmitClaim(ctx, o.ID(), o.BuyerID(), now.Add(-claimflow.HistoryWindow),
		func(in claimflow.Intake) (claimflow.Record, error) { return newRecord(t, in, o, amount, status) })
}

func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	st, err := pgstore.Open(ctx, "postgres://claimsd@"+addr+"/claimsd?sslmode=disable&connect_timeout=2", pgstore.PoolConfig{MaxConns: 1})
	require.NoError(t, err)
	defer st.Close()
	_, err = st.GetClaim(ctx, "clm_x")
	require.ErrorIs(t, err, claimflow.ErrUnavailable)
	_, _, err = st.ListClaims(ctx, claimflow.ClaimFilter{})
	require.ErrorIs(t, err, claimflow.ErrUnavailable)
}

// TestGormReturnsConnectionsToThePool: gorm (database/sql) and pgx users
// share one pool, so database/sql must not keep connections idle for
// itself, or pgx users would wait for connections nobody uses.
func TestGormReturnsConnectionsToThePool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, cleanup, err := pgtest.Database(ctx, "pool")
	require.NoError(t, err)
	t.Cleanup(cleanup)
	st, err := pgstore.Open(ctx, url, pgstore.PoolConfig{MaxConns: 4})
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Migrate(ctx)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := st.ListClaims(ctx, claimflow.ClaimFilter{})
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	require.Zero(t, st.Pool().Stat().AcquiredConns())
	require.NoError(t, st.Ping(ctx))
}

// TestDatabaseRefusesUnbalancedLedger: whoever writes the ledger, even with
// plain SQL, a transaction whose postings do not sum to zero per currency
// does not commit.
func TestDatabaseRefusesUnbalancedLedger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := store.DB()
	write := func(key string, legs ...[2]any) error {
		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err)
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO ledger_transactions (key, kind, created_at) VALUES ($1, 'test', now()) RETURNING id`, key).Scan(&id); err != nil {
			return err
		}
		for _, l := range legs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_postings (transaction_id, account, amount, currency) VALUES ($1, 'acct', $2, $3)`, id, l[0], l[1]); err != nil {
				return err
			}
		}
		return tx.Commit()
	}
	require.NoError(t, write(uniq("balanced"), [2]any{100, "EUR"}, [2]any{-100, "EUR"}))
	require.ErrorContains(t, write(uniq("off"), [2]any{100, "EUR"}, [2]any{-99, "EUR"}), "does not balance")
	require.ErrorContains(t, write(uniq("mixed"), [2]any{100, "EUR"}, [2]any{-100, "USD"}), "does not balance")
	require.ErrorContains(t, write(uniq("one"), [2]any{5, "EUR"}), "does not balance")

	// Editing a committed posting is checked too.
	key := uniq("edit")
	require.NoError(t, write(key, [2]any{7, "EUR"}, [2]any{-7, "EUR"}))
	_, err := db.ExecContext(ctx, `UPDATE ledger_postings SET amount = 8 WHERE amount = 7 AND transaction_id =
		(SELECT id FROM ledger_transactions WHERE key = $1)`, key)
	require.ErrorContains(t, err, "does not balance")
}

// TestConcurrentFirstUpsertOfAnOrder: many first PUTs of one new order all
// succeed, exactly one of them creating it.
func TestConcurrentFirstUpsertOfAnOrder(t *testing.T) {
	t.Parallel()
	s, o := seed(t)
	paid := now
	for round := range 5 {
		fresh, err := order.New(order.Params{
			ID: fmt.Sprintf("%s_%d", o.ID(), round), BuyerID: "shp", SellerID: s.ID(), Currency: "EUR", Amount: 100,
			Items:   []order.Item{{SKU: "a", Quantity: 1, UnitAmount: 100}},
			Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "p"}, PaidAt: &paid,
		})
		require.NoError(t, err)
		var wg sync.WaitGroup
		created := make([]bool, 6)
		errs := make([]error, 6)
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				created[i], errs[i] = store.UpsertOrder(context.Background(), fresh, now)
			}()
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs...))
		n := 0
		for _, c := range created {
			if c {
				n++
			}
		}
		require.Equal(t, 1, n)
	}
}
