package claimflow_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// switchable is a policy source whose versions a test changes between
// claims, as an activation does.
type switchable struct {
	active   decision.Policy
	shadow   *decision.Policy
	versions map[string]decision.Policy
}

func (s *switchable) Active() decision.Policy { return s.active }
func (s *switchable) Shadow() (decision.Policy, bool) {
	if s.shadow == nil {
		return decision.Policy{}, false
	}
	return *s.shadow, true
}
func (s *switchable) Version(v string) (decision.Policy, bool) { p, ok := s.versions[v]; return p, ok }

func TestEachClaimIsDecidedByTheVersionActiveWhenFiled(t *testing.T) {
	t.Parallel()
	base := policyfile.Default()
	strict := policyfile.Default()
	strict.Version = "strict"
	for i := range strict.Tiers {
		strict.Tiers[i].InstantLimits[money.MustCurrency("EUR")] = 0
	}
	src := &switchable{active: base, versions: map[string]decision.Policy{base.Version: base, "strict": strict}}
	svc, _ := setup(t, claimflow.WithPolicies(src))
	ctx := context.Background()
	req := func(sku string) claim.Request {
		return claim.Request{ShopperID: "shp_1", Reason: "damaged", Description: "broken", Items: []claim.Item{{SKU: sku, Quantity: 1}}}
	}

	rec, err := svc.Submit(ctx, "ord_1", req("a"))
	require.NoError(t, err)
	require.Equal(t, base.Version, rec.Decision.PolicyVersion)
	require.Equal(t, decision.OutcomeInstantRefund, rec.Decision.Outcome)
	require.Nil(t, rec.Shadow, "no shadow, no shadow decision")

	// The strict version goes in shadow: it decides beside, never instead.
	src.shadow = &strict
	rec, err = svc.Submit(ctx, "ord_1", req("a"))
	require.NoError(t, err)
	require.Equal(t, base.Version, rec.Decision.PolicyVersion)
	require.Equal(t, claim.StatusApproved, rec.Claim.Status(), "the active version's decision is the one acted on")
	require.NotNil(t, rec.Shadow)
	require.Equal(t, "strict", rec.Shadow.PolicyVersion)
	require.Equal(t, decision.OutcomeManualReview, rec.Shadow.Outcome)

	// Activated, it decides the next claim.
	src.active, src.shadow = strict, nil
	require.Equal(t, "strict", svc.Policy().Version)
	rec, err = svc.Submit(ctx, "ord_1", req("b"))
	require.NoError(t, err)
	require.Equal(t, "strict", rec.Decision.PolicyVersion)
	require.Equal(t, decision.OutcomeManualReview, rec.Decision.Outcome)
	require.Equal(t, claim.StatusInReview, rec.Claim.Status())
	require.Equal(t, rec.DecidedAt, rec.DecidedAt.Truncate(1000), "decided at a moment the store keeps exactly")
}
