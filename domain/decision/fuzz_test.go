package decision_test

import (
	"math"
	"testing"
	"time"

	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
)

// fuzzCurrencies: the zero Currency, the default policy's currencies, and
// two it has no limits for.
var fuzzCurrencies = []money.Currency{{}, money.MustCurrency("EUR"), money.MustCurrency("USD"),
	money.MustCurrency("JPY"), money.MustCurrency("GBP"), money.MustCurrency("CHF"), money.MustCurrency("BHD")}

var fuzzCodes = map[decision.Outcome]map[string]bool{
	decision.OutcomeRejected: {decision.CodeOutsideClaimWindow: true, decision.CodeDuplicateClaim: true,
		decision.CodeDeliveryNotOverdue: true},
	decision.OutcomeManualReview: {decision.CodeInvalidPolicy: true, decision.CodeUnknownClaimReason: true,
		decision.CodeMissingPaymentDate: true, decision.CodeInconsistentDates: true, decision.CodeUnknownAccountAge: true,
		decision.CodeInvalidAmount: true, decision.CodeCurrencyMismatch: true, decision.CodeAmountExceedsOrder: true,
		decision.CodeInvalidHistory: true, decision.CodeDeliveryConfirmed: true, decision.CodeFrequentClaims: true,
		decision.CodeHighRecentRefunds: true, decision.CodeNoLimitForCurrency: true, decision.CodeAboveInstantLimit: true},
	decision.OutcomeInstantRefund: {decision.CodeHighRiskSeller: true, decision.CodeCounterfeitPattern: true,
		decision.CodeSmallAmountNewShopper: true, decision.CodeWithinInstantLimit: true},
}

// fuzzAgo returns now minus minutes, or the zero time when zero is set.
func fuzzAgo(now time.Time, minutes int64, zero bool) time.Time {
	if zero {
		return time.Time{}
	}
	return now.Add(-time.Duration(minutes) * time.Minute) // wraps for huge values: fine, any time will do
}

// FuzzDecide runs Decide with the built-in default policy on arbitrary
// facts. It must not panic, must return a known outcome with 1 to
// MaxReasons distinct reasons of that outcome's codes, must be
// deterministic, and an instant refund must respect what the rules
// promise: a positive amount within the order, below the recent-refund
// limit, and at most the tier's instant limit (its raised limit when a
// seller reason is given).
func FuzzDecide(f *testing.F) {
	const d = 24 * 60 // minutes in a day
	// reason, amount, order amount, refunded 90d, currencies (amount, order,
	// refunded), paid ago, delivered ago, first order ago (minutes), flags,
	// risk score, seller counterfeit claims, shopper claims.
	f.Add(uint8(1), int64(2000), int64(10000), int64(0), uint8(1), uint8(1), uint8(1), int64(20*d), int64(10*d), int64(100*d), uint8(0x01), 10, 0, 0)
	f.Add(uint8(1), int64(14000), int64(20000), int64(0), uint8(1), uint8(1), uint8(1), int64(20*d), int64(10*d), int64(100*d), uint8(0x01), 80, 0, 0)  // high risk seller
	f.Add(uint8(1), int64(45001), int64(90000), int64(0), uint8(2), uint8(2), uint8(2), int64(20*d), int64(10*d), int64(100*d), uint8(0x01), 80, 5, 0)  // above raised
	f.Add(uint8(1), int64(4000), int64(9000), int64(0), uint8(3), uint8(3), uint8(3), int64(20*d), int64(10*d), int64(5*d), uint8(0x01), 10, 3, 0)      // counterfeit pattern, new
	f.Add(uint8(4), int64(4000), int64(9000), int64(0), uint8(1), uint8(1), uint8(1), int64(3*d), int64(0), int64(500*d), uint8(0x00), 10, 0, 0)        // not received, too early
	f.Add(uint8(4), int64(4000), int64(9000), int64(0), uint8(1), uint8(1), uint8(1), int64(30*d), int64(1*d), int64(500*d), uint8(0x01), 10, 0, 5)     // delivered, frequent
	f.Add(uint8(2), int64(4000), int64(9000), int64(0), uint8(1), uint8(1), uint8(1), int64(90*d), int64(40*d), int64(500*d), uint8(0x01), 10, 0, 0)    // outside window
	f.Add(uint8(3), int64(4000), int64(9000), int64(199000), uint8(4), uint8(4), uint8(4), int64(9*d), int64(2*d), int64(400*d), uint8(0x03), 10, 0, 0) // duplicate
	f.Add(uint8(0), int64(-1), int64(0), int64(-5), uint8(0), uint8(5), uint8(6), int64(-10*d), int64(-20*d), int64(-d), uint8(0x1d), -1, -1, -1)
	f.Add(uint8(1), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), uint8(1), uint8(1), uint8(1), int64(math.MaxInt64), int64(math.MinInt64), int64(math.MinInt64), uint8(0xff), math.MaxInt, math.MinInt, math.MaxInt)
	f.Add(uint8(1), int64(3000), int64(3000), int64(0), uint8(5), uint8(5), uint8(5), int64(20*d), int64(10*d), int64(400*d), uint8(0x01), 10, 0, 0) // CHF: no limit
	p := policyfile.Default()                                                                                                                        // Decide does not change it
	f.Fuzz(func(t *testing.T, reasonIdx uint8, amount, orderAmount, refunded int64, curA, curO, curR uint8,
		paidAgo, deliveredAgo, firstOrderAgo int64, flags uint8, risk, counterfeit, shopperClaims int) {
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		reasons := append([]claim.Reason{{}}, claim.Reasons...)
		pick := func(i uint8) money.Currency { return fuzzCurrencies[int(i)%len(fuzzCurrencies)] }
		fs := decision.Facts{
			ClaimReason:                reasons[int(reasonIdx)%len(reasons)],
			Amount:                     money.Of(amount, pick(curA)),
			OrderAmount:                money.Of(orderAmount, pick(curO)),
			PaidAt:                     fuzzAgo(now, paidAgo, flags&0x04 != 0),
			ItemsAlreadyClaimed:        flags&0x02 != 0,
			SellerRiskScore:            risk,
			SellerVerified:             flags&0x20 != 0,
			SellerCounterfeitClaims90d: counterfeit,
			ShopperFirstOrderAt:        fuzzAgo(now, firstOrderAgo, flags&0x08 != 0),
			ShopperClaims90d:           shopperClaims,
			ShopperRefunded90d:         money.Of(refunded, pick(curR)),
		}
		if flags&0x01 != 0 {
			at := fuzzAgo(now, deliveredAgo, flags&0x10 != 0)
			fs.DeliveredAt = &at
		}

		got := decision.Decide(p, fs, now)
		codes, ok := fuzzCodes[got.Outcome]
		if !ok {
			t.Fatalf("unknown outcome %q for %+v", got.Outcome, fs)
		}
		if len(got.Reasons) == 0 || len(got.Reasons) > decision.MaxReasons {
			t.Fatalf("%s with %d reasons for %+v", got.Outcome, len(got.Reasons), fs)
		}
		seen := map[string]bool{}
		for _, r := range got.Reasons {
			if !codes[r.Code] || seen[r.Code] || r.Message == "" || len(r.Message) > 1000 {
				t.Fatalf("%s: bad reason %+v in %+v", got.Outcome, r, got.Reasons)
			}
			seen[r.Code] = true
		}
		if got.PolicyVersion != p.Version {
			t.Fatalf("policy version %q, want %q", got.PolicyVersion, p.Version)
		}
		if got.Outcome == decision.OutcomeRejected && len(got.Reasons) != 1 {
			t.Fatalf("rejection with %d reasons", len(got.Reasons))
		}
		again := decision.Decide(p, fs, now)
		if again.Outcome != got.Outcome || len(again.Reasons) != len(got.Reasons) || again.Tier != got.Tier {
			t.Fatalf("not deterministic: %+v then %+v", got, again)
		}

		if got.Outcome != decision.OutcomeInstantRefund {
			return
		}
		// What an instant refund promises.
		cur := fs.Amount.Currency()
		if fs.ItemsAlreadyClaimed || fs.ClaimReason == (claim.Reason{}) || cur.IsZero() || !fs.Amount.IsPositive() ||
			fs.OrderAmount.Currency() != cur || fs.Amount.Amount() > fs.OrderAmount.Amount() {
			t.Fatalf("instant refund of untrustworthy facts %+v", fs)
		}
		if fs.ShopperClaims90d < 0 || fs.ShopperClaims90d >= p.FrequentClaims90d {
			t.Fatalf("instant refund with %d recent claims", fs.ShopperClaims90d)
		}
		if fs.ClaimReason == claim.ReasonNotReceived && fs.DeliveredAt != nil {
			t.Fatal("instant refund of a 'not received' claim the carrier reported delivered")
		}
		recent, ok := p.RecentRefundLimits[cur]
		total, err := fs.ShopperRefunded90d.Add(fs.Amount)
		if !ok || err != nil || total.Amount() > recent {
			t.Fatalf("instant refund above the recent-refund limit: %v + %v, limit %d", fs.ShopperRefunded90d, fs.Amount, recent)
		}
		var tier *decision.Tier
		for i := range p.Tiers {
			if p.Tiers[i].Name == got.Tier {
				tier = &p.Tiers[i]
			}
		}
		if tier == nil {
			t.Fatalf("instant refund with unknown tier %q", got.Tier)
		}
		raised, ok := tier.RaisedLimits[cur]
		if !ok || fs.Amount.Amount() > raised {
			t.Fatalf("instant refund of %v above tier %s's raised limit %d", fs.Amount, tier.Name, raised)
		}
		if !seen[decision.CodeHighRiskSeller] && !seen[decision.CodeCounterfeitPattern] {
			if fs.Amount.Amount() > tier.InstantLimits[cur] {
				t.Fatalf("instant refund of %v above tier %s's instant limit %d without a seller reason",
					fs.Amount, tier.Name, tier.InstantLimits[cur])
			}
		}
		if seen[decision.CodeHighRiskSeller] && fs.SellerRiskScore < p.HighRiskSellerScore {
			t.Fatalf("high_risk_seller for risk score %d", fs.SellerRiskScore)
		}
	})
}
