package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// protectedCharge files a claim refunded at once against a new seller,
// makes the seller creditable in the claim's facts snapshot, and charges
// it under the default policy, which protects creditable sellers. It
// returns the claim's and the seller's ids.
func protectedCharge(t *testing.T, svc *claimflow.Service, chargedAt time.Time) (string, string) {
	t.Helper()
	ctx := context.Background()
	sellerID := uniq("sel")
	_, _, err := svc.PutSeller(ctx, seller.Params{ID: sellerID, Name: "S", RiskScore: 10, Verified: true})
	require.NoError(t, err)
	paid, delivered := now.Add(-5*24*time.Hour), now.Add(-4*24*time.Hour)
	orderID, shopper := uniq("ord"), uniq("shp")
	_, _, err = svc.PutOrder(ctx, order.Params{
		ID: orderID, BuyerID: shopper, SellerID: sellerID, Currency: "EUR", Amount: 1000,
		Items:   []order.Item{{SKU: "a", Name: "A", Quantity: 1, UnitAmount: 1000}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_" + orderID},
		PaidAt:  &paid, DeliveredAt: &delivered,
	})
	require.NoError(t, err)
	rec, err := svc.Submit(ctx, orderID, claim.Request{ShopperID: shopper, Reason: "counterfeit", Description: "Fake."})
	require.NoError(t, err)
	require.Equal(t, claim.StatusApproved, rec.Claim.Status())
	id := rec.Claim.ID()
	at := func() time.Time { return chargedAt }
	refund := &claimflow.RefundStep{Store: store, Now: at,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(store.DB(), sandbox.Config{})}}
	require.NoError(t, refund.Run(ctx, id, 1, 10))
	_, err = store.DB().ExecContext(ctx,
		`UPDATE claims SET decision_facts = jsonb_set(decision_facts, '{seller_standing}', '"creditable"') WHERE id = $1`, id)
	require.NoError(t, err)
	got, err := store.GetClaim(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "creditable", got.Facts.SellerStanding.String())
	charge := &claimflow.ChargeSellerStep{Store: store, Now: at, Policy: policyfile.Default()}
	require.NoError(t, charge.Run(ctx, id, 1, 10))
	require.NoError(t, charge.Run(ctx, id, 1, 10), "a second delivery finds the work done")
	return id, sellerID
}

// claimNet sums a claim's postings to account, in EUR minor units.
func claimNet(t *testing.T, id string, account ledger.Account) int64 {
	t.Helper()
	var n int64
	require.NoError(t, store.DB().QueryRowContext(context.Background(), `
		SELECT coalesce(sum(p.amount), 0)::bigint FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id
		 WHERE t.claim_id = $1 AND p.account = $2`, id, string(account)).Scan(&n))
	return n
}

func sellerOwes(t *testing.T, sellerID string) int64 {
	t.Helper()
	bal, err := store.Balances(context.Background(), ledger.SellerReceivable(sellerID))
	require.NoError(t, err)
	var n int64
	for _, m := range bal {
		n += m.Amount()
	}
	return n
}

func TestProtectedChargeOnPostgres(t *testing.T) {
	t.Parallel()
	agent := claimflow.Viewer{Role: claimflow.RoleAgent, Subject: "agt_1"}
	tests := []struct {
		give       string
		settle     func(t *testing.T, svc *claimflow.Service, id, sellerID string)
		want       claim.ChargebackStatus
		wantSeller int64
		wantAbsorb int64
	}{
		{give: "window passes", settle: func(t *testing.T, _ *claimflow.Service, id, _ string) {
			dl := &claimflow.DeadlineStep{Store: store, Policy: policyfile.Default(), Now: func() time.Time { return now.Add(73 * time.Hour) }}
			again, err := dl.RunContest(context.Background(), id)
			require.NoError(t, err)
			require.Zero(t, again)
		}, want: claim.ChargebackFinal, wantSeller: 1000},
		{give: "contest upheld", settle: func(t *testing.T, svc *claimflow.Service, id, sellerID string) {
			rec, err := svc.Contest(context.Background(), claimflow.Viewer{Role: claimflow.RoleSeller, Subject: sellerID}, id, claimflow.ContestRequest{Statement: "Genuine."})
			require.NoError(t, err)
			_, err = svc.ResolveContest(context.Background(), agent, id, claimflow.ContestUphold, "the label is fake", rec.Claim.Version())
			require.NoError(t, err)
		}, want: claim.ChargebackUpheld, wantSeller: 1000},
		{give: "contest reversed", settle: func(t *testing.T, svc *claimflow.Service, id, sellerID string) {
			rec, err := svc.Contest(context.Background(), claimflow.Viewer{Role: claimflow.RoleSeller, Subject: sellerID}, id, claimflow.ContestRequest{Statement: "Genuine."})
			require.NoError(t, err)
			_, err = svc.ResolveContest(context.Background(), agent, id, claimflow.ContestReverse, "the invoice convinces", rec.Claim.Version())
			require.NoError(t, err)
		}, want: claim.ChargebackReversed, wantAbsorb: 1000},
		{give: "waived", settle: func(t *testing.T, svc *claimflow.Service, id, _ string) {
			rec, err := store.GetClaim(context.Background(), id)
			require.NoError(t, err)
			_, err = svc.Override(context.Background(), agent, id, claimflow.OverrideRequest{
				Action: claimflow.ActionWaiveChargeback, Note: "goodwill", Version: rec.Claim.Version()})
			require.NoError(t, err)
		}, want: claim.ChargebackWaived, wantAbsorb: 1000},
		{give: "voided", settle: func(t *testing.T, _ *claimflow.Service, id, _ string) {
			rec, err := store.GetClaim(context.Background(), id)
			require.NoError(t, err)
			settler := &claimflow.Settler{Store: store, Policy: policyfile.Default(), Now: func() time.Time { return now }}
			require.NoError(t, settler.Settle(context.Background(), claimflow.RefundUpdate{Provider: order.ProviderSandbox,
				RefundID: rec.Claim.Refund().ID, ClaimID: id, Status: "failed", FailureReason: "bank returned it"}))
		}, want: claim.ChargebackVoided},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			svc := claimflow.NewService(store, policyfile.Default(), func() time.Time { return now })
			id, sellerID := protectedCharge(t, svc, now)

			rec, err := store.GetClaim(ctx, id)
			require.NoError(t, err)
			cb := rec.Claim.Chargeback()
			require.True(t, cb.Protected, "kept through the store")
			require.Equal(t, claim.ChargebackOpen, cb.Status)
			require.Equal(t, int64(1000), claimNet(t, id, ledger.PlatformProtection))
			require.Zero(t, sellerOwes(t, sellerID), "the seller is not charged before confirmation")
			var column bool
			require.NoError(t, store.DB().QueryRowContext(ctx, `SELECT chargeback_protected FROM claims WHERE id = $1`, id).Scan(&column))
			require.True(t, column)

			tt.settle(t, svc, id, sellerID)

			rec, err = store.GetClaim(ctx, id)
			require.NoError(t, err)
			require.Equal(t, tt.want, rec.Claim.Chargeback().Status)
			require.True(t, rec.Claim.Chargeback().Protected)
			require.Zero(t, claimNet(t, id, ledger.PlatformProtection), "platform_protection nets to zero")
			require.Equal(t, tt.wantSeller, sellerOwes(t, sellerID))
			require.Equal(t, tt.wantAbsorb, claimNet(t, id, ledger.ClaimsAbsorbed))
		})
	}
}

func TestProtectedChargesOpenCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := claimflow.NewService(store, policyfile.Default(), func() time.Time { return now })
	protectedCharge(t, svc, now)
	fin := financeflow.New(financeflow.Config{Store: store, Now: func() time.Time { return now }})
	p, err := fin.Protection(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, p.Open, int64(1))
	require.NotEmpty(t, p.Advanced)
}

func TestContestQueueWorksProtectedContestsFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := claimflow.NewService(store, policyfile.Default(), func() time.Time { return now })
	sellerID := uniq("sel")
	_, _, err := svc.PutSeller(ctx, seller.Params{ID: sellerID, Name: "S", RiskScore: 10, Verified: true})
	require.NoError(t, err)
	contest := func(id, seller string) {
		_, err := svc.Contest(ctx, claimflow.Viewer{Role: claimflow.RoleSeller, Subject: seller}, id, claimflow.ContestRequest{Statement: "Genuine."})
		require.NoError(t, err)
	}
	// An unprotected contest whose window closes first, then a protected one.
	plain := chargedClaim(t, svc, sellerID, now.Add(-60*time.Hour))
	contest(plain, sellerID)
	protected, protectedSeller := protectedCharge(t, svc, now.Add(-time.Hour))
	contest(protected, protectedSeller)

	recs, _, err := svc.ContestQueue(ctx, claimflow.Viewer{Role: claimflow.RoleAgent, Subject: "agt_1"}, claimflow.MaxContestQueue)
	require.NoError(t, err)
	at := map[string]int{}
	for i, r := range recs {
		require.Equal(t, claim.ChargebackContested, r.Claim.Chargeback().Status)
		at[r.Claim.ID()] = i
		if i > 0 && r.Claim.Chargeback().Protected {
			require.True(t, recs[i-1].Claim.Chargeback().Protected, "protected contests lead")
		}
	}
	require.Contains(t, at, plain)
	require.Contains(t, at, protected)
	require.Less(t, at[protected], at[plain], "the protected contest comes first though its window closes later")

	_, _, err = svc.ContestQueue(ctx, claimflow.Viewer{Role: claimflow.RoleSeller, Subject: sellerID}, 10)
	require.ErrorIs(t, err, claimflow.ErrNotFound)
}
