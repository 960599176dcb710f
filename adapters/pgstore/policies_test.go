package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// TestReplayCasesReadsEachDecisionAsRecorded: a backtest reads back each
// claim's facts, moment and outcome as the claim was decided, in the
// order of the decisions, with what became of it since; replaying the
// policy that decided them changes none. The shadow's report reads the
// same rows with the shadow's decision beside them.
func TestReplayCasesReadsEachDecisionAsRecorded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, o := seed(t)
	p := policyfile.Default()
	shadowVersion := uniq("replay-shadow")
	eur := money.MustCurrency("EUR")
	var recs []claimflow.Record
	file := func(amount int64, at time.Time, mod func(*decision.Facts)) claimflow.Record {
		t.Helper()
		rec, err := store.SubmitClaim(ctx, o.ID(), o.BuyerID(), at.Add(-claimflow.HistoryWindow), func(in claimflow.Intake) (claimflow.Record, error) {
			id, err := claim.NewID(at, nil)
			require.NoError(t, err)
			c, err := claim.New(id, in.Order, claim.Request{ShopperID: o.BuyerID(), Reason: "damaged", Description: "d",
				Amount: &amount, Items: []claim.Item{{SKU: "a", Quantity: 1}}}, in.Order.Amount(), at)
			require.NoError(t, err)
			f := decision.Facts{ClaimReason: c.Reason(), Amount: c.Amount(), OrderAmount: in.Order.Amount(),
				PaidAt: *in.Order.PaidAt(), ShopperFirstOrderAt: at.Add(-400 * 24 * time.Hour), ShopperClaims90d: in.ShopperClaims,
				ShopperRefunded90d: money.Of(in.ShopperClaimed, eur), SellerRiskScore: in.Seller.RiskScore(),
				SellerStanding: standing.LevelStandard, SellerStandingScore: 60}
			mod(&f)
			d := decision.Decide(p, f, at)
			switch d.Outcome {
			case decision.OutcomeInstantRefund:
				err = c.Approve(claim.SystemActor, "", nil, at)
			case decision.OutcomeManualReview:
				err = c.SendToReview(claim.SystemActor, "", nil, at.Add(24*time.Hour), at)
			default:
				err = c.Reject(claim.SystemActor, "", nil, at)
			}
			require.NoError(t, err)
			shadow := decision.Decision{Outcome: decision.OutcomeManualReview, PolicyVersion: shadowVersion, Tier: "new",
				Reasons: []decision.Reason{{Code: decision.CodeAboveInstantLimit, Message: "m"}}}
			return claimflow.Record{Claim: c, Decision: d, Facts: f, DecidedAt: at, Shadow: &shadow}, nil
		})
		require.NoError(t, err)
		recs = append(recs, rec)
		return rec
	}
	// Filed in this order, decided in the reverse one.
	refunded := file(1000, now.Add(3*time.Millisecond), func(*decision.Facts) {})
	reviewed := file(1000, now.Add(2*time.Millisecond), func(f *decision.Facts) {
		f.LinkedShoppers, f.LinkedClaims90d, f.LinkedRefunded90d, f.LinkedSignals = 2, 4, money.Of(7000, eur), []string{"device"}
	})
	rejected := file(1000, now.Add(time.Millisecond), func(f *decision.Facts) { f.ItemsAlreadyClaimed = true })
	require.Equal(t, decision.OutcomeInstantRefund, refunded.Decision.Outcome)
	require.Equal(t, decision.OutcomeManualReview, reviewed.Decision.Outcome)
	require.Equal(t, decision.OutcomeRejected, rejected.Decision.Outcome)

	// Later: the refund fails; a person rejects the claim sent to them.
	_, err := store.AmendClaim(ctx, refunded.Claim.ID(), func(c *claim.Claim, _ money.Money) (claimflow.Effects, error) {
		return claimflow.Effects{}, c.FailRefund(claim.Failure{Code: "card_declined", Reason: "declined"}, now.Add(time.Hour), now.Add(time.Second))
	})
	require.NoError(t, err)
	_, err = store.AmendClaim(ctx, reviewed.Claim.ID(), func(c *claim.Claim, _ money.Money) (claimflow.Effects, error) {
		return claimflow.Effects{}, c.OverrideReject(claim.Actor{Kind: "agent", ID: "ana"}, claim.RejectInsufficientEvidence, "no", now.Add(time.Second))
	})
	require.NoError(t, err)

	var cases []policylab.Case
	err = store.ReplayCases(ctx, now.Add(-time.Minute), now.Add(time.Minute), policyflow.Filters{SellerID: s.ID()}, func(c policylab.Case) error {
		cases = append(cases, c)
		return nil
	})
	require.NoError(t, err)
	require.Len(t, cases, 3)
	for i, want := range []claimflow.Record{rejected, reviewed, refunded} {
		c := cases[i]
		require.Equal(t, want.Claim.ID(), c.ClaimID)
		require.Equal(t, want.DecidedAt, c.DecidedAt)
		require.Equal(t, want.Decision.Outcome, c.Got)
		_, wantFacts, err := pgstore.DecisionJSON(want.Decision, want.Facts)
		require.NoError(t, err)
		_, gotFacts, err := pgstore.DecisionJSON(want.Decision, c.Facts)
		require.NoError(t, err)
		require.JSONEq(t, string(wantFacts), string(gotFacts))
		require.Equal(t, want.Facts.LinkedSignals, c.Facts.LinkedSignals)
	}
	require.Equal(t, policylab.Later{}, cases[0].Later)
	require.Equal(t, policylab.Later{AgentRejected: true}, cases[1].Later)
	require.Equal(t, policylab.Later{RefundFailed: true}, cases[2].Later)

	rp, err := policyflow.NewReplayer(p)
	require.NoError(t, err)
	for _, c := range cases {
		_, changed := rp.Add(c)
		require.False(t, changed, "%s: the policy that decided it decides it so again", c.ClaimID)
	}
	require.Equal(t, int64(3), rp.Report().Replayed)

	var shadows []policyflow.ShadowDecision
	var shadowed []string
	err = store.ShadowCases(ctx, shadowVersion, func(c policylab.Case, sd policyflow.ShadowDecision) error {
		shadowed, shadows = append(shadowed, c.ClaimID), append(shadows, sd)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{rejected.Claim.ID(), reviewed.Claim.ID(), refunded.Claim.ID()}, shadowed)
	for _, sd := range shadows {
		require.Equal(t, policyflow.ShadowDecision{Outcome: decision.OutcomeManualReview, Tier: "new"}, sd)
	}
}
