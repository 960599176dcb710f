package claimflow_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/claimflow/storetest"
)

// protectingPolicy protects creditable sellers, as the default policy does.
var protectingPolicy = decision.Policy{ProtectLevels: []standing.Level{standing.LevelCreditable}}

// amendStore lets a Service act through a Memory: agents' and sellers'
// actions need GetClaim and AmendClaim only.
type amendStore struct {
	claimflow.Store
	m *storetest.Memory
}

func (s amendStore) GetClaim(ctx context.Context, id string) (claimflow.Record, error) {
	return s.m.GetClaim(ctx, id)
}

func (s amendStore) AmendClaim(ctx context.Context, id string,
	fn func(c *claim.Claim, refundable money.Money) (claimflow.Effects, error)) (claimflow.Record, error) {
	return s.m.AmendClaim(ctx, id, fn)
}

// protectBundle is a store of refunded claims and everything that acts on
// their charges.
type protectBundle struct {
	store    *storetest.Memory
	charge   *claimflow.ChargeSellerStep
	deadline *claimflow.DeadlineStep
	settler  *claimflow.Settler
	svc      *claimflow.Service
	now      time.Time
}

func setupProtect(t *testing.T) *protectBundle {
	t.Helper()
	st := storetest.NewMemory()
	b := &protectBundle{store: st, now: stepNow}
	clock := func() time.Time { return b.now }
	b.charge = &claimflow.ChargeSellerStep{Store: st, Now: clock, Policy: protectingPolicy}
	b.deadline = &claimflow.DeadlineStep{Store: st, Now: clock, Policy: protectingPolicy}
	b.settler = &claimflow.Settler{Store: st, Now: clock, Policy: protectingPolicy}
	b.svc = claimflow.NewService(amendStore{m: st}, protectingPolicy, clock)
	return b
}

// refunded stores a refunded claim id of amount against seller, with the
// seller's standing in its facts.
func (b *protectBundle) refunded(t *testing.T, id, sellerID string, amount int64, level standing.Level) {
	t.Helper()
	paid := stepFiledAt.Add(-72 * time.Hour)
	o, err := order.New(order.Params{
		ID: "ord_" + id, BuyerID: "shp_7", SellerID: sellerID, Currency: "EUR", Amount: amount,
		Items:   []order.Item{{SKU: "sku_1", Name: "Shoes", Quantity: 1, UnitAmount: amount}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_" + id}, PaidAt: &paid,
	})
	require.NoError(t, err)
	c, err := claim.New(id, o, claim.Request{ShopperID: "shp_7", Reason: "counterfeit", Description: "a fake"}, o.Amount(), stepFiledAt)
	require.NoError(t, err)
	moveClaim(t, c, claim.StatusRefunded)
	b.store.Put(o, c)
	b.store.PutFacts(id, decision.Facts{SellerStanding: level})
}

var (
	agentViewer = claimflow.Viewer{Role: claimflow.RoleAgent, Subject: "agt_1"}
)

func (b *protectBundle) contest(t *testing.T, id, sellerID string) {
	t.Helper()
	_, err := b.svc.Contest(context.Background(), claimflow.Viewer{Role: claimflow.RoleSeller, Subject: sellerID}, id,
		claimflow.ContestRequest{Statement: "It was genuine."})
	require.NoError(t, err)
}

func (b *protectBundle) resolve(t *testing.T, id, outcome string) {
	t.Helper()
	rec, err := b.store.GetClaim(context.Background(), id)
	require.NoError(t, err)
	_, err = b.svc.ResolveContest(context.Background(), agentViewer, id, outcome, "settled", rec.Claim.Version())
	require.NoError(t, err)
}

func (b *protectBundle) waive(t *testing.T, id string) {
	t.Helper()
	rec, err := b.store.GetClaim(context.Background(), id)
	require.NoError(t, err)
	_, err = b.svc.Override(context.Background(), agentViewer, id, claimflow.OverrideRequest{
		Action: claimflow.ActionWaiveChargeback, Note: "goodwill", Version: rec.Claim.Version()})
	require.NoError(t, err)
}

// finalize runs the contest timer of claim id once its window has passed,
// then turns the clock back, so other claims' windows stay open.
func (b *protectBundle) finalize(t *testing.T, id string) {
	t.Helper()
	was := b.now
	defer func() { b.now = was }()
	b.now = b.store.Claim(t, id).Chargeback().ContestBy.Add(time.Minute)
	again, err := b.deadline.RunContest(context.Background(), id)
	require.NoError(t, err)
	require.Zero(t, again)
}

func (b *protectBundle) void(t *testing.T, id string) {
	t.Helper()
	require.NoError(t, b.settler.Settle(context.Background(), claimflow.RefundUpdate{
		Provider: order.ProviderSandbox, RefundID: "re_old", ClaimID: id, Status: "failed", FailureReason: "bank returned it"}))
}

// requireBalanced checks every transaction written balances per currency.
func requireBalanced(t *testing.T, st *storetest.Memory) {
	t.Helper()
	for _, tx := range st.Ledger() {
		sums := map[string]int64{}
		for _, p := range tx.Postings() {
			sums[p.Amount.Currency().String()] += p.Amount.Amount()
		}
		for cur, s := range sums {
			require.Zero(t, s, "transaction %s in %s", tx.Key(), cur)
		}
	}
}

func TestProtectedChargeIsCarriedByThePlatform(t *testing.T) {
	t.Parallel()
	b := setupProtect(t)
	b.refunded(t, "clm_p1", "sel_good", 2500, standing.LevelCreditable)

	require.NoError(t, b.charge.Run(context.Background(), "clm_p1", 1, 3))

	c := b.store.Claim(t, "clm_p1")
	require.Equal(t, claim.StatusClosed, c.Status())
	cb := c.Chargeback()
	require.Equal(t, claim.ChargebackOpen, cb.Status)
	require.True(t, cb.Protected)
	require.Empty(t, cb.Recovery)
	require.Equal(t, int64(2500), balance(t, b.store, ledger.PlatformProtection))
	require.Zero(t, balance(t, b.store, ledger.SellerReceivable("sel_good")))
	txs := b.store.Ledger()
	require.Len(t, txs, 1)
	require.Equal(t, claimflow.ChargeSellerKey("clm_p1", 1), txs[0].Key())
	require.Equal(t, ledger.KindProtectedCharge, txs[0].Kind())
	ev := b.store.Events("clm_p1")
	require.Equal(t, "seller_charged", ev[0].Type)
	require.Equal(t, true, ev[0].Data["protected"])

	// A second delivery finds the work done.
	require.NoError(t, b.charge.Run(context.Background(), "clm_p1", 1, 3))
	require.Len(t, b.store.Ledger(), 1)
}

func TestUnprotectedStandingsAreChargedAtOnce(t *testing.T) {
	t.Parallel()
	for _, level := range []standing.Level{"", standing.LevelStandard, standing.LevelWatch, standing.LevelHighRisk} {
		t.Run(string(level)+"_", func(t *testing.T) {
			t.Parallel()
			b := setupProtect(t)
			b.refunded(t, "clm_u1", "sel_u", 1200, level)
			require.NoError(t, b.charge.Run(context.Background(), "clm_u1", 1, 3))
			require.False(t, b.store.Claim(t, "clm_u1").Chargeback().Protected)
			require.Equal(t, int64(1200), balance(t, b.store, ledger.SellerReceivable("sel_u")))
			require.Zero(t, balance(t, b.store, ledger.PlatformProtection))
			require.NotContains(t, b.store.Events("clm_u1")[0].Data, "protected")
		})
	}
}

func TestProtectionFollowsThePolicyInForce(t *testing.T) {
	t.Parallel()
	b := setupProtect(t)
	b.charge.Policy = decision.Policy{} // protects no one
	b.refunded(t, "clm_p1", "sel_good", 2500, standing.LevelCreditable)
	require.NoError(t, b.charge.Run(context.Background(), "clm_p1", 1, 3))
	require.False(t, b.store.Claim(t, "clm_p1").Chargeback().Protected)
	require.Equal(t, int64(2500), balance(t, b.store, ledger.SellerReceivable("sel_good")))
}

func TestProtectedChargeRecoveredWithRefundIsChargedAsUsual(t *testing.T) {
	t.Parallel()
	b := setupProtect(t)
	b.charge.RecoveredWithRefund = true
	b.refunded(t, "clm_p1", "sel_good", 2500, standing.LevelCreditable)

	require.NoError(t, b.charge.Run(context.Background(), "clm_p1", 1, 3))

	cb := b.store.Claim(t, "clm_p1").Chargeback()
	require.False(t, cb.Protected)
	require.Equal(t, "reversed_with_refund", cb.Recovery)
	require.Zero(t, balance(t, b.store, ledger.PlatformProtection))
	require.Contains(t, b.store.Events("clm_p1")[0].Note, "protected")
}

func TestProtectedChargeSettles(t *testing.T) {
	t.Parallel()
	const seller = "sel_good"
	tests := []struct {
		give       string
		settle     func(t *testing.T, b *protectBundle, id string)
		want       claim.ChargebackStatus
		wantSeller int64 // the seller's receivable after
		wantAbsorb int64 // claims_absorbed after
	}{
		{give: "window passes", settle: func(t *testing.T, b *protectBundle, id string) { b.finalize(t, id) },
			want: claim.ChargebackFinal, wantSeller: 2500},
		{give: "contest upheld", settle: func(t *testing.T, b *protectBundle, id string) {
			b.contest(t, id, seller)
			b.resolve(t, id, claimflow.ContestUphold)
		}, want: claim.ChargebackUpheld, wantSeller: 2500},
		{give: "contest reversed", settle: func(t *testing.T, b *protectBundle, id string) {
			b.contest(t, id, seller)
			b.resolve(t, id, claimflow.ContestReverse)
		}, want: claim.ChargebackReversed, wantAbsorb: 2500},
		{give: "waived while open", settle: func(t *testing.T, b *protectBundle, id string) { b.waive(t, id) },
			want: claim.ChargebackWaived, wantAbsorb: 2500},
		{give: "waived once final", settle: func(t *testing.T, b *protectBundle, id string) {
			b.finalize(t, id)
			b.waive(t, id)
		}, want: claim.ChargebackWaived, wantAbsorb: 2500},
		{give: "voided while open", settle: func(t *testing.T, b *protectBundle, id string) { b.void(t, id) },
			want: claim.ChargebackVoided},
		{give: "voided once upheld", settle: func(t *testing.T, b *protectBundle, id string) {
			b.contest(t, id, seller)
			b.resolve(t, id, claimflow.ContestUphold)
			b.void(t, id)
		}, want: claim.ChargebackVoided},
		{give: "voided once reversed", settle: func(t *testing.T, b *protectBundle, id string) {
			b.contest(t, id, seller)
			b.resolve(t, id, claimflow.ContestReverse)
			b.void(t, id)
		}, want: claim.ChargebackVoided},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			t.Parallel()
			b := setupProtect(t)
			b.refunded(t, "clm_p1", seller, 2500, standing.LevelCreditable)
			require.NoError(t, b.charge.Run(context.Background(), "clm_p1", 1, 3))
			require.Zero(t, balance(t, b.store, ledger.SellerReceivable(seller)))

			tt.settle(t, b, "clm_p1")

			cb := b.store.Claim(t, "clm_p1").Chargeback()
			require.Equal(t, tt.want, cb.Status)
			require.True(t, cb.Protected)
			require.Zero(t, balance(t, b.store, ledger.PlatformProtection))
			require.Equal(t, tt.wantSeller, balance(t, b.store, ledger.SellerReceivable(seller)))
			require.Equal(t, tt.wantAbsorb, balance(t, b.store, ledger.ClaimsAbsorbed))
			requireBalanced(t, b.store)
			for _, ev := range b.store.Events("clm_p1") {
				if ev.Type != "closed" {
					require.Equal(t, true, ev.Data["protected"], "event %s", ev.Type)
				}
			}
		})
	}
}

func TestProtectedConfirmationKeys(t *testing.T) {
	t.Parallel()
	b := setupProtect(t)
	b.refunded(t, "clm_p1", "sel_good", 2500, standing.LevelCreditable)
	require.NoError(t, b.charge.Run(context.Background(), "clm_p1", 1, 3))
	b.finalize(t, "clm_p1")

	txs := b.store.Ledger()
	require.Len(t, txs, 2)
	require.Equal(t, "claim/clm_p1/protection_confirm", txs[1].Key())
	require.Equal(t, claimflow.ProtectionConfirmKey("clm_p1", 1), txs[1].Key())
	require.Equal(t, "claim/clm_p1/protection_confirm/2", claimflow.ProtectionConfirmKey("clm_p1", 2))
	require.Equal(t, ledger.KindProtectionConfirm, txs[1].Kind())
	require.Equal(t, []ledger.Posting{
		{Account: ledger.SellerReceivable("sel_good"), Amount: money.Of(2500, eur)},
		{Account: ledger.PlatformProtection, Amount: money.Of(-2500, eur)},
	}, txs[1].Postings())

	// The timer firing again changes nothing.
	again, err := b.deadline.RunContest(context.Background(), "clm_p1")
	require.NoError(t, err)
	require.Zero(t, again)
	require.Len(t, b.store.Ledger(), 2)
}

// TestProtectionNetsToZero charges random claims, most of them protected,
// then settles them in random order by random paths: platform_protection
// always holds exactly the protected charges not yet settled (so it nets
// to zero at the end), every transaction balances, and each seller owes
// exactly their charges that stand.
func TestProtectionNetsToZero(t *testing.T) {
	t.Parallel()
	paths := []string{"final", "upheld", "reversed", "waived", "voided", "final_voided", "upheld_waived", "contested_waived"}
	for seed := range uint64(30) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rnd := rand.New(rand.NewPCG(seed, 7))
			b := setupProtect(t)
			type charged struct {
				id, seller string
				amount     int64
				protected  bool
			}
			var claims []charged
			var advanced int64
			for i := range 1 + rnd.IntN(12) {
				c := charged{id: fmt.Sprintf("clm_r%d", i), seller: fmt.Sprintf("sel_%d", rnd.IntN(3)),
					amount: 1 + rnd.Int64N(100_000), protected: rnd.IntN(4) != 0}
				level := standing.LevelStandard
				if c.protected {
					level = standing.LevelCreditable
					advanced += c.amount
				}
				b.refunded(t, c.id, c.seller, c.amount, level)
				require.NoError(t, b.charge.Run(context.Background(), c.id, 1, 3))
				claims = append(claims, c)
			}
			require.Equal(t, advanced, balance(t, b.store, ledger.PlatformProtection))
			owed := map[string]int64{}
			rnd.Shuffle(len(claims), func(i, j int) { claims[i], claims[j] = claims[j], claims[i] })
			for _, c := range claims {
				path := paths[rnd.IntN(len(paths))]
				switch path {
				case "final":
					b.finalize(t, c.id)
					owed[c.seller] += c.amount
				case "upheld":
					b.contest(t, c.id, c.seller)
					b.resolve(t, c.id, claimflow.ContestUphold)
					owed[c.seller] += c.amount
				case "reversed":
					b.contest(t, c.id, c.seller)
					b.resolve(t, c.id, claimflow.ContestReverse)
				case "waived":
					b.waive(t, c.id)
				case "voided":
					b.void(t, c.id)
				case "final_voided":
					b.finalize(t, c.id)
					b.void(t, c.id)
				case "upheld_waived":
					b.contest(t, c.id, c.seller)
					b.resolve(t, c.id, claimflow.ContestUphold)
					b.waive(t, c.id)
				case "contested_waived":
					b.contest(t, c.id, c.seller)
					b.waive(t, c.id)
				}
				if c.protected {
					advanced -= c.amount
				}
				require.Equal(t, advanced, balance(t, b.store, ledger.PlatformProtection), "after %s took %s", c.id, path)
			}
			require.Zero(t, balance(t, b.store, ledger.PlatformProtection))
			requireBalanced(t, b.store)
			for i := range 3 {
				seller := fmt.Sprintf("sel_%d", i)
				require.Equal(t, owed[seller], balance(t, b.store, ledger.SellerReceivable(seller)), seller)
			}
		})
	}
}
