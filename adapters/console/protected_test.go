package console_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// protectedClaim files a claim refunded at once against sellerShort, makes
// the seller creditable in the claim's facts snapshot (as intake records
// it) and charges it under a policy that protects creditable sellers.
func (b *testBundle) protectedClaim(t *testing.T, sellerShort string, chargedAt time.Time) string {
	t.Helper()
	ctx := context.Background()
	id := b.fileClaim(t, sellerShort, b.name(fmt.Sprintf("shp_%d", time.Now().UnixNano())), instantAmount)
	at := func() time.Time { return chargedAt }
	refund := &claimflow.RefundStep{Store: store, Now: at,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(store.DB(), sandbox.Config{})}}
	require.NoError(t, refund.Run(ctx, id, 1, 10))
	_, err := store.DB().ExecContext(ctx,
		`UPDATE claims SET decision_facts = jsonb_set(decision_facts, '{seller_standing}', '"creditable"') WHERE id = $1`, id)
	require.NoError(t, err)
	policy := decision.Policy{ProtectLevels: []standing.Level{standing.LevelCreditable}}
	require.NoError(t, (&claimflow.ChargeSellerStep{Store: store, Now: at, Policy: policy}).Run(ctx, id, 1, 10))
	require.True(t, b.get(t, id).Claim.Chargeback().Protected)
	return id
}

func TestProtectedChargeIsNotTheSellersYet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.protectedClaim(t, "sel_prot", b.clock.Now())
	sellerID := b.name("sel_prot")
	require.Empty(t, b.owed(t, sellerID), "the seller's balance holds nothing until the charge is confirmed")

	s := b.signIn(t, "seller", sellerID)
	r := b.do(t, http.MethodGet, "/console/seller/claims/"+id, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, section(t, r.Body, "decision-h"), "Refunded to the shopper by the platform (10.00 EUR); you will be charged only if you do not contest by ")
	require.Contains(t, section(t, r.Body, "charge-h"), "not charged yet")

	r = b.do(t, http.MethodGet, "/console/seller", s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, section(t, r.Body, "windows-h"), "refunded by the platform, not charged yet")
	require.Contains(t, section(t, r.Body, "claims-h"), "not charged yet")

	a := b.signIn(t, "agent", b.name("agt_prot"))
	r = b.do(t, http.MethodGet, "/console/claims/"+id, a.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, r.Body, `<span class="badge">protected</span>`)
	require.Contains(t, r.Body, "The platform carries this charge until it is confirmed")
}

func TestFinanceOverviewShowsWhatThePlatformCarries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.protectedClaim(t, "sel_protfin", b.clock.Now())

	f := b.signIn(t, "finance", b.name("fin_prot"))
	r := b.do(t, http.MethodGet, "/console/finance", f.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	carried := section(t, r.Body, "protection-h")
	require.Contains(t, carried, "Funded by the platform now")
	require.Contains(t, carried, "EUR", "the open protected charge is funded by the platform")
	require.NotContains(t, carried, "<dd>0</dd>", "at least one protected charge is open")
}

func TestQueueListsProtectedContestsFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.protectedClaim(t, "sel_protq", b.clock.Now())
	_, err := b.svc.Contest(context.Background(), claimflow.Viewer{Role: claimflow.RoleSeller, Subject: b.name("sel_protq")}, id,
		claimflow.ContestRequest{Statement: "Genuine."})
	require.NoError(t, err)

	a := b.signIn(t, "agent", b.name("agt_protq"))
	r := b.do(t, http.MethodGet, "/console/queue", a.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	contests := section(t, r.Body, "contests-h")
	require.Contains(t, contests, `href="/console/claims/`+id+`"`)
	require.Contains(t, contests, `<span class="badge">protected</span>`)
}
