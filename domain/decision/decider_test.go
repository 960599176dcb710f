package decision_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/domain/validation"
)

// randomFacts draws facts around every rule's edges: mostly sound, with
// now and then a missing or future date, a foreign or missing currency, a
// negative count, an unknown standing, linked accounts.
func randomFacts(r *rand.Rand, now time.Time) decision.Facts {
	odd := func() bool { return r.IntN(40) == 0 }
	reasons := append([]claim.Reason{{}}, claim.Reasons...)
	cur := func() money.Currency { return fuzzCurrencies[r.IntN(len(fuzzCurrencies))] }
	ago := func(most time.Duration) time.Time {
		switch {
		case odd():
			return time.Time{}
		case odd():
			return now.Add(time.Duration(r.IntN(72)) * time.Hour) // ahead of now
		}
		return now.Add(-time.Duration(r.Int64N(int64(most))))
	}
	count := func(n int) int {
		if odd() {
			return -1
		}
		return r.IntN(n)
	}
	c := eur
	if r.IntN(4) == 0 {
		c = cur()
	}
	amount := 1 + int64(math.Exp(r.Float64()*math.Log(60000))) // mostly small
	f := decision.Facts{
		ClaimReason:                reasons[1+r.IntN(len(reasons)-1)],
		Amount:                     money.Of(amount, c),
		OrderAmount:                money.Of(amount+r.Int64N(20000), c),
		PaidAt:                     ago(80 * day),
		ItemsAlreadyClaimed:        odd(),
		SellerRiskScore:            r.IntN(101),
		SellerVerified:             r.IntN(2) == 0,
		SellerCounterfeitClaims90d: count(6),
		ShopperFirstOrderAt:        ago([]time.Duration{40 * day, 1500 * day}[r.IntN(2)]),
		ShopperClaims90d:           count(4),
		ShopperRefunded90d:         money.Of(r.Int64N(200000), c),
		SellerStanding:             []standing.Level{"", standing.LevelCreditable, standing.LevelStandard, standing.LevelWatch, standing.LevelHighRisk}[r.IntN(5)],
		SellerStandingScore:        r.IntN(101),
	}
	switch {
	case odd():
		f.ClaimReason = claim.Reason{}
	case odd():
		f.Amount = money.Of(-amount, c)
	case odd():
		f.OrderAmount = money.Of(amount-1, c)
	case odd():
		f.OrderAmount = money.Of(amount, cur())
	case odd():
		f.ShopperRefunded90d = money.Of(amount, cur())
	case odd():
		f.SellerStanding = "bogus"
	case odd():
		f.SellerRiskScore = 101
	}
	if r.IntN(4) > 0 {
		at := f.PaidAt.Add(time.Duration(r.Int64N(int64(10 * day))))
		if odd() {
			at = f.PaidAt.Add(-day)
		}
		f.DeliveredAt = &at
	}
	if r.IntN(5) == 0 {
		f.LinkedShoppers, f.LinkedClaims90d = 1+r.IntN(3), count(6)
		f.LinkedRefunded90d = money.Of(r.Int64N(90000), c)
		f.LinkedSignals = []string{"device", "shipping_address"}[:r.IntN(3)]
	}
	return f
}

func TestDeciderDecidesAsDecide(t *testing.T) {
	t.Parallel()
	for _, p := range []decision.Policy{testPolicy(), policyfile.Default()} {
		dc, err := decision.NewDecider(p)
		require.NoError(t, err)
		r := rand.New(rand.NewPCG(7, uint64(len(p.Version))))
		outcomes, codes := map[decision.Outcome]int{}, map[string]bool{}
		for range 20000 {
			at := now.Add(-time.Duration(r.Int64N(int64(400 * day))))
			f := randomFacts(r, at)
			want := decision.Decide(p, f, at)
			require.Equal(t, want, dc.Decide(f, at), "%+v at %s", f, at)
			outcomes[want.Outcome]++
			for _, rs := range want.Reasons {
				codes[rs.Code] = true
			}
		}
		for _, o := range decision.Outcomes {
			require.Greater(t, outcomes[o], 500, "the facts drawn reach every outcome: %v", outcomes)
		}
		require.GreaterOrEqual(t, len(codes), 22, "the facts drawn reach every code but invalid_policy: %v", codes)
	}
}

func TestNewDeciderRefusesWhatValidateRefuses(t *testing.T) {
	t.Parallel()
	p := testPolicy()
	p.FrequentClaims90d = 0
	p.Tiers[1].InstantLimits[eur] = -1
	dc, err := decision.NewDecider(p)
	require.Nil(t, dc)
	require.EqualError(t, err, p.Validate().Error())
	var ve *validation.Error
	require.True(t, errors.As(err, &ve))
	// Decide itself still sends every claim to a person under such a policy.
	require.Equal(t, decision.OutcomeManualReview, decision.Decide(p, facts(), now).Outcome)
}

func TestDeciderKeepsItsOwnCopyOfThePolicy(t *testing.T) {
	t.Parallel()
	p := testPolicy()
	dc, err := decision.NewDecider(p)
	require.NoError(t, err)
	want := decision.Decide(testPolicy(), facts(), now)
	require.Equal(t, decision.OutcomeInstantRefund, want.Outcome)

	// Changes to the policy it was made from do not reach it.
	p.ClaimWindowDays[claim.ReasonCounterfeit] = 1
	p.RecentRefundLimits[eur] = 0
	p.Tiers[1].InstantLimits[eur] = 1
	p.Tiers[1].Name = "renamed"
	require.Equal(t, decision.OutcomeRejected, decision.Decide(p, facts(), now).Outcome)
	require.Equal(t, want, dc.Decide(facts(), now))
}

// BenchmarkDecide decides the built-in policy's typical claim (an
// established shopper's small counterfeit claim) with Decide, which
// validates the policy each time, and with a Decider, which validated it
// once.
//
//	go test -run '^$' -bench Decide -benchmem ./domain/decision/
func BenchmarkDecide(b *testing.B) {
	p, f := policyfile.Default(), facts()
	b.Run("Decide", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decision.Decide(p, f, now)
		}
	})
	b.Run("Decider", func(b *testing.B) {
		dc, err := decision.NewDecider(p)
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			dc.Decide(f, now)
		}
	})
}
