package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/standingflow"
)

// standingSeller puts a seller with n orders paid at the given ages and
// returns the seller's id and the orders' ids.
func standingSeller(t *testing.T, st *pgstore.Store, risk int, ages ...time.Duration) (string, []*order.Order) {
	t.Helper()
	ctx := context.Background()
	s, err := seller.New(seller.Params{ID: uniq("sel"), Name: "S", RiskScore: risk})
	require.NoError(t, err)
	_, err = st.UpsertSeller(ctx, s, now)
	require.NoError(t, err)
	var orders []*order.Order
	for i, age := range ages {
		paid := now.Add(-age)
		o, err := order.New(order.Params{
			ID: uniq(fmt.Sprintf("ord%d", i)), BuyerID: uniq("shp"), SellerID: s.ID(), Currency: "EUR", Amount: 3000,
			Items:   []order.Item{{SKU: "a", Name: "A", Quantity: 3, UnitAmount: 1000}},
			Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay"}, PaidAt: &paid,
		})
		require.NoError(t, err)
		_, err = st.UpsertOrder(ctx, o, now)
		require.NoError(t, err)
		orders = append(orders, o)
	}
	return s.ID(), orders
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func TestStandingInputsCountWhatTheEngineSaw(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ages := []time.Duration{days(1), days(10), days(80), days(100), days(200), days(364), days(400), days(1000)}
	sid, orders := standingSeller(t, store, 20, ages...)
	svc := claimflow.NewService(store, policyfile.Default(), func() time.Time { return now })

	// Claims on the recent orders: one of each fate the counts tell apart.
	file := func(o *order.Order, reason string) string {
		rec, err := svc.Submit(ctx, o.ID(), claim.Request{ShopperID: o.BuyerID(), Reason: reason, Description: "d",
			Items: []claim.Item{{SKU: "a", Quantity: 1}}})
		require.NoError(t, err)
		return rec.Claim.ID()
	}
	// Each claim is dated as if filed the day its order was paid.
	set := func(i int, id, status, chargeback string) {
		_, err := store.DB().Exec(`UPDATE claims SET status = $1, chargeback_status = NULLIF($2, ''), created_at = $3 WHERE id = $4`,
			status, chargeback, now.Add(-ages[i]), id)
		require.NoError(t, err)
	}
	set(0, file(orders[0], "counterfeit"), "closed", "final")    // a confirmed counterfeit
	set(1, file(orders[1], "counterfeit"), "closed", "upheld")   // confirmed on contest
	set(2, file(orders[2], "counterfeit"), "closed", "reversed") // the seller won
	set(3, file(orders[3], "damaged"), "closed", "waived")       // older than 90 days, waived
	set(4, file(orders[4], "not_as_described"), "rejected", "")  // rejected: not counted
	set(5, file(orders[5], "counterfeit"), "closed", "open")     // charged, not yet final
	set(6, file(orders[6], "counterfeit"), "closed", "final")    // older than a year

	in, err := store.StandingInputs(ctx, sid, now)
	require.NoError(t, err)
	require.Equal(t, standing.Inputs{
		PlatformRiskScore: 20,
		Recent: standing.Counts{Orders: 3, Claims: 3, Counterfeit: 3, ConfirmedCounterfeits: 2,
			ContestsWon: 1, ContestsLost: 1, Released: 1},
		Year: standing.Counts{Orders: 6, Claims: 5, Counterfeit: 4, ConfirmedCounterfeits: 2,
			ContestsWon: 1, ContestsLost: 1, Released: 2},
	}, in)

	_, err = store.StandingInputs(ctx, uniq("sel_missing"), now)
	require.ErrorIs(t, err, claimflow.ErrNotFound)
}

// TestStandingKeptCurrentAndReadAtIntake runs on a database of its own:
// the refresh drains every seller's notes.
func TestStandingKeptCurrentAndReadAtIntake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "standing")
	// Each refresh runs a little later than the last: a seller is
	// recomputed at most once per standingflow.MinInterval.
	at := now
	clock := func() time.Time { return at }
	standings := standingflow.NewService(st, clock)
	claims := claimflow.NewService(st, policyfile.Default(), clock)
	refresh := func() int {
		t.Helper()
		at = at.Add(standingflow.MinInterval + time.Second)
		n, err := standings.RefreshChanged(ctx)
		require.NoError(t, err)
		return n
	}

	// A clean record of a few dozen orders, and a platform that calls the
	// seller low-risk.
	ages := make([]time.Duration, 30)
	for i := range ages {
		ages[i] = days(2 + i*2)
	}
	sid, orders := standingSeller(t, st, 5, ages...)

	// Nothing computed yet: the intake reads a standard seller.
	rec, err := claims.Submit(ctx, orders[0].ID(), claim.Request{ShopperID: orders[0].BuyerID(), Reason: "damaged",
		Description: "d", Items: []claim.Item{{SKU: "a", Quantity: 1}}})
	require.NoError(t, err)
	require.Equal(t, standing.LevelStandard, rec.Facts.SellerStanding)
	require.Equal(t, standing.NoHistoryScore, rec.Facts.SellerStandingScore)
	_, err = st.DB().Exec(`UPDATE claims SET status = 'rejected' WHERE id = $1`, rec.Claim.ID())
	require.NoError(t, err)

	require.Equal(t, 1, refresh(), "one seller noted, recomputed once however many changes it had")
	kept, ok, err := st.GetStanding(ctx, sid)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, standing.LevelCreditable, kept.Level, "30 clean orders earn credit")

	require.Zero(t, refresh(), "nothing changed since")

	rec, err = claims.Submit(ctx, orders[1].ID(), claim.Request{ShopperID: orders[1].BuyerID(), Reason: "counterfeit",
		Description: "d", Items: []claim.Item{{SKU: "a", Quantity: 1}}})
	require.NoError(t, err)
	require.Equal(t, standing.LevelCreditable, rec.Facts.SellerStanding, "the intake reads the kept standing")
	require.Equal(t, kept.Score, rec.Facts.SellerStandingScore)
	again, err := st.GetClaim(ctx, rec.Claim.ID())
	require.NoError(t, err)
	require.Equal(t, rec.Facts, again.Facts, "the facts snapshot keeps the standing, so the decision replays")

	// Counterfeits confirmed: the seller reads worse although the platform
	// still says low-risk.
	for _, o := range orders[2:5] {
		r, err := claims.Submit(ctx, o.ID(), claim.Request{ShopperID: o.BuyerID(), Reason: "counterfeit",
			Description: "d", Items: []claim.Item{{SKU: "a", Quantity: 1}}})
		require.NoError(t, err)
		_, err = st.DB().Exec(`UPDATE claims SET status = 'closed', chargeback_status = 'final' WHERE id = $1`, r.Claim.ID())
		require.NoError(t, err)
	}
	refresh()
	kept, _, err = st.GetStanding(ctx, sid)
	require.NoError(t, err)
	require.Equal(t, standing.LevelHighRisk, kept.Level)

	timeline, err := st.StandingChanges(ctx, sid, 10)
	require.NoError(t, err)
	require.Len(t, timeline, 2, "standard → creditable → high_risk")
	require.Equal(t, standing.LevelCreditable, timeline[0].From)
	require.Equal(t, standing.LevelHighRisk, timeline[0].To)
	require.Equal(t, standing.LevelStandard, timeline[1].From)
	require.NotEmpty(t, timeline[0].Why)

	// A change of the platform's score is noted too.
	s, err := seller.New(seller.Params{ID: sid, Name: "S", RiskScore: 80})
	require.NoError(t, err)
	_, err = st.UpsertSeller(ctx, s, now)
	require.NoError(t, err)
	require.Equal(t, 1, refresh())
	kept, _, err = st.GetStanding(ctx, sid)
	require.NoError(t, err)
	require.Equal(t, 80, kept.Inputs.PlatformRiskScore)

	// A day on, the windows have rolled: the stale standing is recomputed
	// with nothing noted.
	at = at.Add(standingflow.StaleAfter)
	require.Equal(t, 1, refresh())

	// A seller with claims every second is recomputed once a minute: the
	// changes wait, then are all counted at once.
	r, err := claims.Submit(ctx, orders[6].ID(), claim.Request{ShopperID: orders[6].BuyerID(), Reason: "damaged",
		Description: "d", Items: []claim.Item{{SKU: "a", Quantity: 1}}})
	require.NoError(t, err)
	require.NotEmpty(t, r.Claim.ID())
	n, err := standings.RefreshChanged(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "computed less than a minute ago")
	require.Equal(t, 1, refresh())
}

func TestStandingIsShownToTheSellerAndStaffOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sid, _ := standingSeller(t, store, 20, days(3))
	svc := standingflow.NewService(store, func() time.Time { return now })
	for _, v := range []claimflow.Viewer{
		{Role: claimflow.RoleSeller, Subject: sid}, {Role: claimflow.RoleAgent, Subject: "ana"},
		{Role: claimflow.RoleFinance, Subject: "fin"}, {Role: claimflow.RoleAdmin, Subject: "root"},
	} {
		view, err := svc.Get(ctx, v, sid)
		require.NoError(t, err, v.Role)
		require.Equal(t, standing.LevelStandard, view.Standing.Level)
		require.Equal(t, int64(1), view.Inputs.Recent.Orders)
		require.NotEmpty(t, view.Standing.Next, "a standard seller is told what would make them creditable")
	}
	for _, c := range []struct {
		v  claimflow.Viewer
		id string
	}{
		{claimflow.Viewer{Role: claimflow.RoleSeller, Subject: "sel_other"}, sid},
		{claimflow.Viewer{Role: claimflow.RoleShopper, Subject: "shp_1"}, sid},
		{claimflow.Viewer{Role: claimflow.RoleService, Subject: "platform"}, sid},
		{claimflow.Viewer{Role: claimflow.RoleAgent, Subject: "ana"}, uniq("sel_missing")},
		{claimflow.Viewer{Role: claimflow.RoleAgent, Subject: "ana"}, "bad id with spaces"},
	} {
		_, err := svc.Get(ctx, c.v, c.id)
		require.ErrorIs(t, err, claimflow.ErrNotFound, "%s asking for %s", c.v, c.id)
	}
}
