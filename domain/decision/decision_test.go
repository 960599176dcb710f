package decision_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/domain/validation"
)

const day = 24 * time.Hour

var (
	now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	eur = money.MustCurrency("EUR")
	usd = money.MustCurrency("USD")
	jpy = money.MustCurrency("JPY")
	chf = money.MustCurrency("CHF")
)

// testPolicy mirrors the built-in default policy.
func testPolicy() decision.Policy {
	limits := func(v int64) map[money.Currency]int64 {
		return map[money.Currency]int64{eur: v, usd: v, jpy: v}
	}
	return decision.Policy{
		Version: "test.1",
		ClaimWindowDays: map[claim.Reason]int{
			claim.ReasonCounterfeit: 180, claim.ReasonNotAsDescribed: 30,
			claim.ReasonDamaged: 30, claim.ReasonNotReceived: 60,
		},
		NotReceivedMinWaitDays:      7,
		LinkedClaims90d:             3,
		FrequentClaims90d:           3,
		RecentRefundLimits:          limits(200000),
		HighRiskSellerScore:         70,
		CounterfeitPatternClaims90d: 3,
		Tiers: []decision.Tier{
			{Name: "new", MinAccountAgeDays: 0, InstantLimits: limits(5000), RaisedLimits: limits(15000)},
			{Name: "established", MinAccountAgeDays: 30, InstantLimits: limits(15000), RaisedLimits: limits(45000)},
			{Name: "trusted", MinAccountAgeDays: 366, InstantLimits: limits(50000), RaisedLimits: limits(100000)},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// facts returns an established shopper's clean 20.00 EUR counterfeit claim
// on a 100.00 EUR order delivered 10 days ago, changed by mods.
func facts(mods ...func(*decision.Facts)) decision.Facts {
	f := decision.Facts{
		ClaimReason:         claim.ReasonCounterfeit,
		Amount:              money.Of(2000, eur),
		OrderAmount:         money.Of(10000, eur),
		PaidAt:              now.Add(-20 * day),
		DeliveredAt:         ptr(now.Add(-10 * day)),
		SellerRiskScore:     10,
		SellerVerified:      true,
		ShopperFirstOrderAt: now.Add(-100 * day),
		ShopperRefunded90d:  money.Of(0, eur),
	}
	for _, m := range mods {
		m(&f)
	}
	return f
}

func reason(r claim.Reason) func(*decision.Facts) {
	return func(f *decision.Facts) { f.ClaimReason = r }
}

func delivered(ago time.Duration) func(*decision.Facts) {
	return func(f *decision.Facts) {
		f.DeliveredAt = ptr(now.Add(-ago))
		if f.PaidAt.After(*f.DeliveredAt) {
			f.PaidAt = f.DeliveredAt.Add(-5 * day)
		}
	}
}

func undelivered(paidAgo time.Duration) func(*decision.Facts) {
	return func(f *decision.Facts) { f.DeliveredAt = nil; f.PaidAt = now.Add(-paidAgo) }
}

func amount(a int64, c money.Currency) func(*decision.Facts) {
	return func(f *decision.Facts) {
		f.Amount = money.Of(a, c)
		f.OrderAmount = money.Of(max(a, 10000)*2, c)
		f.ShopperRefunded90d = money.Of(0, c)
	}
}

func accountAge(d time.Duration) func(*decision.Facts) {
	return func(f *decision.Facts) { f.ShopperFirstOrderAt = now.Add(-d) }
}

func claims(n int) func(*decision.Facts) {
	return func(f *decision.Facts) { f.ShopperClaims90d = n }
}

func riskScore(n int) func(*decision.Facts) {
	return func(f *decision.Facts) { f.SellerRiskScore = n }
}

func sellerStanding(l standing.Level) func(*decision.Facts) {
	return func(f *decision.Facts) { f.SellerStanding = l }
}

// linked links the shopper to `others` shoppers who filed n claims in the
// last 90 days, refunded the amount given.
func linked(others, n int, refunded int64) func(*decision.Facts) {
	return func(f *decision.Facts) {
		f.LinkedShoppers, f.LinkedClaims90d = others, n
		f.LinkedRefunded90d = money.Of(refunded, f.Amount.Currency())
		f.LinkedSignals = []string{"device", "shipping_address"}
	}
}

func counterfeitClaims(n int) func(*decision.Facts) {
	return func(f *decision.Facts) { f.SellerCounterfeitClaims90d = n }
}

func TestDecide(t *testing.T) {
	t.Parallel()
	const (
		instant = "instant_refund"
		review  = "manual_review"
		reject  = "rejected"
	)
	newShopper := accountAge(29 * day)
	tests := []struct {
		name      string
		give      decision.Facts
		wantOut   string
		wantCodes []string
		wantTier  string
	}{
		// Rule 1: the claim window, from delivery or else from payment.
		{"counterfeit on the window's last day", facts(delivered(180 * day)), instant, []string{"within_instant_limit"}, "established"},
		{"counterfeit late on the window's last day", facts(delivered(181*day - time.Second)), instant, []string{"within_instant_limit"}, "established"},
		{"counterfeit one day past the window", facts(delivered(181 * day)), reject, []string{"outside_claim_window"}, ""},
		{"not as described on the last day", facts(reason(claim.ReasonNotAsDescribed), delivered(30*day)), instant, []string{"within_instant_limit"}, "established"},
		{"not as described one day past", facts(reason(claim.ReasonNotAsDescribed), delivered(31*day)), reject, []string{"outside_claim_window"}, ""},
		{"damaged on the last day", facts(reason(claim.ReasonDamaged), delivered(30*day)), instant, []string{"within_instant_limit"}, "established"},
		{"damaged one day past", facts(reason(claim.ReasonDamaged), delivered(31*day)), reject, []string{"outside_claim_window"}, ""},
		{"not received on the last day from payment", facts(reason(claim.ReasonNotReceived), undelivered(60*day)), instant, []string{"within_instant_limit"}, "established"},
		{"not received one day past payment window", facts(reason(claim.ReasonNotReceived), undelivered(61*day)), reject, []string{"outside_claim_window"}, ""},
		{"undelivered counterfeit counts from payment", facts(undelivered(181 * day)), reject, []string{"outside_claim_window"}, ""},
		{"delivered counts from delivery, not payment", facts(func(f *decision.Facts) { f.PaidAt = now.Add(-200 * day) }, delivered(170*day)), instant, []string{"within_instant_limit"}, "established"},

		// Rule 2: duplicates; the first rejection wins.
		{"duplicate claim", facts(func(f *decision.Facts) { f.ItemsAlreadyClaimed = true }), reject, []string{"duplicate_claim"}, ""},
		{"late duplicate names the window", facts(delivered(300*day), func(f *decision.Facts) { f.ItemsAlreadyClaimed = true }), reject, []string{"outside_claim_window"}, ""},
		{"duplicate beats untrustworthy facts", decision.Facts{ItemsAlreadyClaimed: true}, reject, []string{"duplicate_claim"}, ""},

		// Rule 3: not received.
		{"not received but delivered", facts(reason(claim.ReasonNotReceived)), review, []string{"delivery_confirmed"}, "established"},
		{"not received before the wait", facts(reason(claim.ReasonNotReceived), undelivered(7*day-time.Second)), reject, []string{"delivery_not_overdue"}, ""},
		{"not received just paid", facts(reason(claim.ReasonNotReceived), undelivered(0)), reject, []string{"delivery_not_overdue"}, ""},
		{"not received when the wait is over", facts(reason(claim.ReasonNotReceived), undelivered(7*day)), instant, []string{"within_instant_limit"}, "established"},

		// Rule 4: the shopper's recent history.
		{"claims below the threshold", facts(claims(2)), instant, []string{"within_instant_limit"}, "established"},
		{"frequent claims at the threshold", facts(claims(3)), review, []string{"frequent_claims"}, "established"},
		{"recent refunds exactly at the limit", facts(func(f *decision.Facts) { f.ShopperRefunded90d = money.Of(198000, eur) }), instant, []string{"within_instant_limit"}, "established"},
		{"recent refunds one unit above", facts(func(f *decision.Facts) { f.ShopperRefunded90d = money.Of(198001, eur) }), review, []string{"high_recent_refunds"}, "established"},
		{"recent refunds overflow", facts(func(f *decision.Facts) { f.ShopperRefunded90d = money.Of(math.MaxInt64, eur) }), review, []string{"high_recent_refunds"}, "established"},

		// Rule 5: trust tiers and their limits.
		{"new shopper small amount at the limit", facts(newShopper, amount(5000, eur)), instant, []string{"small_amount_new_shopper"}, "new"},
		{"new shopper one unit above", facts(newShopper, amount(5001, eur)), review, []string{"above_instant_limit"}, "new"},
		{"new shopper with a recent claim", facts(newShopper, claims(1)), instant, []string{"within_instant_limit"}, "new"},
		{"account created today", facts(accountAge(0), amount(100, eur)), instant, []string{"small_amount_new_shopper"}, "new"},
		{"established from day 30 at the limit", facts(accountAge(30*day), amount(15000, eur)), instant, []string{"within_instant_limit"}, "established"},
		{"established one unit above", facts(accountAge(30*day), amount(15001, eur)), review, []string{"above_instant_limit"}, "established"},
		{"still established on day 365", facts(accountAge(365*day), amount(15001, eur)), review, []string{"above_instant_limit"}, "established"},
		{"trusted from day 366 at the limit", facts(accountAge(366*day), amount(50000, eur)), instant, []string{"within_instant_limit"}, "trusted"},
		{"trusted one unit above", facts(accountAge(366*day), amount(50001, eur)), review, []string{"above_instant_limit"}, "trusted"},
		{"zero-exponent currency at the limit", facts(newShopper, amount(5000, jpy)), instant, []string{"small_amount_new_shopper"}, "new"},
		{"zero-exponent currency one yen above", facts(newShopper, amount(5001, jpy)), review, []string{"above_instant_limit"}, "new"},
		{"currency without limits", facts(amount(2000, chf)), review, []string{"no_limit_for_currency"}, "established"},

		// Rule 6: high-risk sellers and counterfeit patterns raise the limit.
		{"risk below the threshold", facts(newShopper, amount(6000, eur), riskScore(69)), review, []string{"above_instant_limit"}, "new"},
		{"high-risk seller above the tier limit", facts(newShopper, amount(6000, eur), riskScore(70)), instant, []string{"high_risk_seller"}, "new"},
		{"high-risk seller within the tier limit", facts(newShopper, riskScore(100)), instant, []string{"high_risk_seller"}, "new"},
		{"high-risk seller at the raised limit", facts(newShopper, amount(15000, eur), riskScore(70)), instant, []string{"high_risk_seller"}, "new"},
		{"high-risk seller one unit above", facts(newShopper, amount(15001, eur), riskScore(70)), review, []string{"above_instant_limit"}, "new"},
		{"high-risk seller for damaged goods", facts(reason(claim.ReasonDamaged), amount(40000, eur), riskScore(90)), instant, []string{"high_risk_seller"}, "established"},
		{"counterfeit claims below the pattern", facts(newShopper, amount(6000, eur), counterfeitClaims(2)), review, []string{"above_instant_limit"}, "new"},
		{"counterfeit pattern at the threshold", facts(newShopper, amount(6000, eur), counterfeitClaims(3)), instant, []string{"counterfeit_pattern"}, "new"},
		{"pattern only for counterfeit claims", facts(reason(claim.ReasonDamaged), newShopper, amount(6000, eur), counterfeitClaims(9)), review, []string{"above_instant_limit"}, "new"},
		{"pattern at the raised limit of a trusted shopper", facts(accountAge(400*day), amount(100000, eur), counterfeitClaims(3)), instant, []string{"counterfeit_pattern"}, "trusted"},
		{"both seller signals", facts(amount(45000, eur), riskScore(80), counterfeitClaims(5)), instant, []string{"high_risk_seller", "counterfeit_pattern"}, "established"},
		{"high-risk standing above the tier limit", facts(newShopper, amount(6000, eur), sellerStanding(standing.LevelHighRisk)), instant, []string{"high_risk_standing"}, "new"},
		{"high-risk standing one unit above the raised limit", facts(newShopper, amount(15001, eur), sellerStanding(standing.LevelHighRisk)), review, []string{"above_instant_limit"}, "new"},
		{"high-risk standing although the platform rates the seller low", facts(newShopper, amount(15000, eur), riskScore(5), sellerStanding(standing.LevelHighRisk)), instant, []string{"high_risk_standing"}, "new"},
		{"watch standing does not raise the limit", facts(newShopper, amount(6000, eur), sellerStanding(standing.LevelWatch)), review, []string{"above_instant_limit"}, "new"},
		{"creditable standing does not lower the limit", facts(newShopper, amount(5000, eur), sellerStanding(standing.LevelCreditable)), instant, []string{"small_amount_new_shopper"}, "new"},
		{"every seller signal", facts(amount(45000, eur), riskScore(80), counterfeitClaims(5), sellerStanding(standing.LevelHighRisk)), instant, []string{"high_risk_seller", "high_risk_standing", "counterfeit_pattern"}, "established"},
		{"unknown standing", facts(sellerStanding("gold")), review, []string{"invalid_history"}, ""},
		{"standing score out of range", facts(func(f *decision.Facts) { f.SellerStandingScore = 101 }), review, []string{"invalid_history"}, ""},
		{"both signals do not lift a review", facts(riskScore(80), counterfeitClaims(5), claims(4)), review, []string{"frequent_claims"}, "established"},

		// Rule 6: linked accounts.
		{"no linked accounts", facts(linked(0, 0, 0)), instant, []string{"within_instant_limit"}, "established"},
		{"linked claims below the threshold", facts(linked(4, 2, 9000)), instant, []string{"within_instant_limit"}, "established"},
		{"linked claims at the threshold", facts(linked(1, 3, 0)), review, []string{"linked_accounts"}, "established"},
		{"linked claims above the threshold", facts(linked(2, 40, 41200)), review, []string{"linked_accounts"}, "established"},
		{"linked accounts beat a small new-shopper refund", facts(newShopper, amount(500, eur), linked(1, 3, 1500)), review, []string{"linked_accounts"}, "new"},
		{"linked accounts beat a high-risk seller", facts(riskScore(90), linked(1, 3, 1500)), review, []string{"linked_accounts"}, "established"},
		{"linked accounts with a currency without limits", facts(amount(2000, chf), linked(1, 3, 0)), review, []string{"no_limit_for_currency", "linked_accounts"}, "established"},

		// Review reasons are collected.
		{"every rule reason at once", facts(reason(claim.ReasonNotReceived), claims(5), amount(16000, eur), linked(2, 7, 41200),
			func(f *decision.Facts) { f.ShopperRefunded90d = money.Of(190000, eur) }), review,
			[]string{"delivery_confirmed", "frequent_claims", "high_recent_refunds", "linked_accounts", "above_instant_limit"}, "established"},

		// Facts that cannot be relied on go to a person.
		{"zero facts", decision.Facts{}, review, []string{"missing_payment_date", "unknown_claim_reason", "unknown_account_age", "invalid_amount"}, ""},
		{"zero amount", facts(func(f *decision.Facts) { f.Amount = money.Of(0, eur) }), review, []string{"invalid_amount"}, ""},
		{"negative amount", facts(func(f *decision.Facts) { f.Amount = money.Of(-1, eur) }), review, []string{"invalid_amount"}, ""},
		{"amount equal to the order", facts(accountAge(400*day), func(f *decision.Facts) { f.Amount = f.OrderAmount }), instant, []string{"within_instant_limit"}, "trusted"},
		{"amount above the order", facts(func(f *decision.Facts) { f.Amount = money.Of(10001, eur) }), review, []string{"amount_exceeds_order"}, ""},
		{"order in another currency", facts(func(f *decision.Facts) { f.OrderAmount = money.Of(10000, usd) }), review, []string{"currency_mismatch"}, ""},
		{"recent refunds in another currency", facts(func(f *decision.Facts) { f.ShopperRefunded90d = money.Of(0, usd) }), review, []string{"currency_mismatch"}, ""},
		{"recent refunds without currency", facts(func(f *decision.Facts) { f.ShopperRefunded90d = money.Money{} }), review, []string{"currency_mismatch"}, ""},
		{"delivered before paid", facts(func(f *decision.Facts) { f.DeliveredAt = ptr(f.PaidAt.Add(-time.Hour)) }), review, []string{"inconsistent_dates"}, ""},
		{"delivered in the future", facts(func(f *decision.Facts) { f.DeliveredAt = ptr(now.Add(time.Hour)) }), review, []string{"inconsistent_dates"}, ""},
		{"delivered a minute from now is clock skew", facts(func(f *decision.Facts) { f.DeliveredAt = ptr(now.Add(time.Minute)) }), instant, []string{"within_instant_limit"}, "established"},
		{"delivered with a zero date", facts(func(f *decision.Facts) { f.DeliveredAt = &time.Time{} }), review, []string{"inconsistent_dates"}, ""},
		{"paid in the future", facts(undelivered(-2 * day)), review, []string{"inconsistent_dates"}, ""},
		{"first order in the future", facts(accountAge(-2 * day)), review, []string{"inconsistent_dates"}, ""},
		{"bad dates skip the window", facts(delivered(-2*day), func(f *decision.Facts) { f.PaidAt = now.Add(-900 * day) }), review, []string{"inconsistent_dates"}, ""},
		{"risk score above 100", facts(riskScore(101)), review, []string{"invalid_history"}, ""},
		{"negative risk score", facts(riskScore(-1)), review, []string{"invalid_history"}, ""},
		{"negative claim count", facts(claims(-1)), review, []string{"invalid_history"}, ""},
		{"negative seller count", facts(counterfeitClaims(-1)), review, []string{"invalid_history"}, ""},
		{"negative recent refunds", facts(func(f *decision.Facts) { f.ShopperRefunded90d = money.Of(-1, eur) }), review, []string{"invalid_history"}, ""},
		{"negative linked shoppers", facts(linked(-1, 0, 0)), review, []string{"invalid_history"}, ""},
		{"negative linked claims", facts(linked(1, -1, 0)), review, []string{"invalid_history"}, ""},
		{"negative linked refunds", facts(linked(1, 1, -1)), review, []string{"invalid_history"}, ""},
		{"several fact problems at once", facts(riskScore(-5), accountAge(0), func(f *decision.Facts) {
			f.ShopperFirstOrderAt = time.Time{}
			f.ClaimReason = claim.Reason{}
			f.Amount = money.Of(20000, eur)
			f.ShopperRefunded90d = money.Of(0, jpy)
		}), review, []string{"unknown_claim_reason", "unknown_account_age", "amount_exceeds_order", "currency_mismatch", "invalid_history"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := decision.Decide(testPolicy(), tt.give, now)
			require.Equal(t, tt.wantOut, got.Outcome.String())
			require.Equal(t, tt.wantCodes, codes(got))
			require.Equal(t, tt.wantTier, got.Tier)
			require.Equal(t, "test.1", got.PolicyVersion)
			for _, r := range got.Reasons {
				require.NotEmpty(t, r.Message, r.Code)
				// Only the linked-account rule tells staff more than the
				// shopper reads.
				require.Equal(t, r.Code == decision.CodeLinkedAccounts, r.Staff != "", r.Code)
			}
		})
	}
}

func TestDecideLinkedAccounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		givePolicy int // the policy's LinkedClaims90d
		give       decision.Facts
		wantReview bool
		wantStaff  string
	}{
		{name: "off: every linked claim in the world", givePolicy: 0, give: facts(linked(50, 10000, 900000))},
		{name: "threshold one, no linked claims", givePolicy: 1, give: facts(linked(3, 0, 0))},
		{name: "threshold one, one linked claim", givePolicy: 1, give: facts(linked(1, 1, 2000)), wantReview: true,
			wantStaff: "Linked to 1 other shopper by device and shipping address; they filed 1 claim in the last 90 days (20.00 EUR not rejected)."},
		{name: "one below the threshold", givePolicy: 3, give: facts(linked(3, 2, 41200))},
		{name: "at the threshold", givePolicy: 3, give: facts(linked(3, 3, 41200)), wantReview: true,
			wantStaff: "Linked to 3 other shoppers by device and shipping address; they filed 3 claims in the last 90 days (412.00 EUR not rejected)."},
		{name: "above the threshold", givePolicy: 3, give: facts(linked(3, 7, 41200)), wantReview: true,
			wantStaff: "Linked to 3 other shoppers by device and shipping address; they filed 7 claims in the last 90 days (412.00 EUR not rejected)."},
		{name: "one kind of signal", givePolicy: 3, give: facts(linked(1, 4, 0), func(f *decision.Facts) { f.LinkedSignals = []string{"payment_fingerprint"} }),
			wantReview: true, wantStaff: "Linked to 1 other shopper by payment fingerprint; they filed 4 claims in the last 90 days (0.00 EUR not rejected)."},
		{name: "three kinds of signal", givePolicy: 3, give: facts(linked(2, 4, 0), func(f *decision.Facts) {
			f.LinkedSignals = []string{"device", "payment_fingerprint", "shipping_address"}
		}), wantReview: true,
			wantStaff: "Linked to 2 other shoppers by device, payment fingerprint and shipping address; they filed 4 claims in the last 90 days (0.00 EUR not rejected)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := testPolicy()
			p.LinkedClaims90d = tt.givePolicy
			got := decision.Decide(p, tt.give, now)
			if !tt.wantReview {
				require.Equal(t, decision.OutcomeInstantRefund, got.Outcome)
				require.NotContains(t, codes(got), decision.CodeLinkedAccounts)
				return
			}
			require.Equal(t, decision.OutcomeManualReview, got.Outcome)
			require.Equal(t, []string{decision.CodeLinkedAccounts}, codes(got))
			r := got.Reasons[0]
			require.Equal(t, tt.wantStaff, r.Staff)

			// The shopper is not told what was found.
			require.Equal(t, "This claim needs a closer look before it can be refunded. A person will review this claim.", r.Message)
			require.True(t, strings.HasSuffix(r.Message, decision.ReviewPromise))
			require.Equal(t, "This claim needs a closer look before it can be refunded.", r.Decided())
			for _, word := range []string{"link", "shopper", "account", "device", "address", "payment"} {
				require.NotContains(t, strings.ToLower(r.Message), word)
			}
			pub := r.Public()
			require.Equal(t, decision.Reason{Code: decision.CodeFurtherReview, Message: r.Message}, pub)
		})
	}
}

func TestReasonPublic(t *testing.T) {
	t.Parallel()
	r := decision.Reason{Code: decision.CodeFrequentClaims, Message: "m", Staff: "s"}
	require.Equal(t, decision.Reason{Code: decision.CodeFrequentClaims, Message: "m"}, r.Public())
	require.Equal(t, decision.CodeFurtherReview, decision.PublicCode(decision.CodeLinkedAccounts))
	require.Equal(t, decision.CodeAboveInstantLimit, decision.PublicCode(decision.CodeAboveInstantLimit))
}

func codes(d decision.Decision) []string {
	out := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		out[i] = r.Code
	}
	return out
}

func TestDecideMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give decision.Facts
		want string
	}{
		{"window from delivery", facts(delivered(200 * day)),
			"Claims for counterfeit goods must be filed within 180 days of delivery; this order was delivered 200 days ago."},
		{"window from payment", facts(reason(claim.ReasonNotReceived), undelivered(75*day)),
			"Claims for items not received must be filed within 60 days of payment; this order was paid 75 days ago."},
		{"not overdue", facts(reason(claim.ReasonNotReceived), undelivered(3*day)),
			"Claims for items not received can be filed 7 days after payment; this order was paid 3 days ago. If it has still not arrived on 5 December 2026, please file again."},
		{"above limit", facts(accountAge(29*day), amount(5001, eur)),
			"The amount claimed, 50.01 EUR, is above 50.00 EUR, the instant-refund limit for new accounts. A person will review this claim."},
		{"within limit", facts(),
			"The amount claimed, 20.00 EUR, is within the 150.00 EUR refunded instantly for established accounts."},
		{"yen", facts(accountAge(29*day), amount(5000, jpy)),
			"The amount claimed, 5000 JPY, is within the 5000 JPY refunded instantly for new accounts with no recent claims."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := decision.Decide(testPolicy(), tt.give, now)
			require.Len(t, got.Reasons, 1)
			require.Equal(t, tt.want, got.Reasons[0].Message)
		})
	}
}

func TestDecideInvalidPolicy(t *testing.T) {
	t.Parallel()
	for _, give := range []decision.Policy{{}, {Version: "v1"}, func() decision.Policy {
		p := testPolicy()
		p.Tiers = nil
		return p
	}()} {
		got := decision.Decide(give, facts(), now)
		require.Equal(t, decision.OutcomeManualReview, got.Outcome)
		require.Equal(t, []string{"invalid_policy"}, codes(got))
		require.NotEmpty(t, got.Reasons[0].Message)
	}
}

// TestDecideNeverPanics throws a few thousand odd Facts at Decide: it must
// always return a known outcome with 1..MaxReasons distinct, explained
// reasons, and the same decision twice.
func TestDecideNeverPanics(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2026, 11))
	currencies := []money.Currency{{}, eur, usd, jpy, chf}
	reasons := append([]claim.Reason{{}}, claim.Reasons...)
	amounts := []int64{math.MinInt64, -1, 0, 1, 4999, 5000, 5001, 15000, 50000, 198000, math.MaxInt64}
	pick := func() money.Money {
		a := amounts[rng.IntN(len(amounts))]
		if rng.IntN(3) == 0 {
			a = rng.Int64N(400000) - 1000
		}
		return money.Of(a, currencies[rng.IntN(len(currencies))])
	}
	when := func() time.Time {
		switch rng.IntN(8) {
		case 0:
			return time.Time{}
		case 1:
			return time.Unix(rng.Int64()-math.MaxInt64/2, 0)
		case 2:
			return now.Add(time.Duration(rng.Int64N(10)) * time.Minute)
		}
		return now.Add(-time.Duration(rng.Int64N(800*24)) * time.Hour)
	}
	ints := []int{math.MinInt, -1, 0, 1, 2, 3, 69, 70, 100, 101, math.MaxInt}
	policies := []decision.Policy{testPolicy(), {}}
	seen := map[string]bool{}
	for i := range 5000 {
		f := decision.Facts{
			ClaimReason:                reasons[rng.IntN(len(reasons))],
			Amount:                     pick(),
			OrderAmount:                pick(),
			PaidAt:                     when(),
			ItemsAlreadyClaimed:        rng.IntN(10) == 0,
			SellerRiskScore:            ints[rng.IntN(len(ints))],
			SellerVerified:             rng.IntN(2) == 0,
			SellerCounterfeitClaims90d: ints[rng.IntN(len(ints))],
			ShopperFirstOrderAt:        when(),
			ShopperClaims90d:           ints[rng.IntN(len(ints))],
			ShopperRefunded90d:         pick(),
			LinkedShoppers:             ints[rng.IntN(len(ints))],
			LinkedClaims90d:            ints[rng.IntN(len(ints))],
			LinkedRefunded90d:          pick(),
		}
		if rng.IntN(2) == 0 {
			f.Amount = money.Of(rng.Int64N(60000)+1, eur)
			f.OrderAmount = money.Of(f.Amount.Amount()+rng.Int64N(1000), eur)
			f.ShopperRefunded90d = money.Of(rng.Int64N(200000), eur)
			f.SellerRiskScore = rng.IntN(101)
			f.ShopperClaims90d = rng.IntN(5)
			f.SellerCounterfeitClaims90d = rng.IntN(5)
			f.LinkedShoppers, f.LinkedClaims90d = rng.IntN(3), rng.IntN(4)
			f.LinkedRefunded90d = money.Of(rng.Int64N(100000), eur)
		}
		if rng.IntN(2) == 0 {
			f.DeliveredAt = ptr(when())
		}
		p := policies[min(rng.IntN(20), 1)]

		got := decision.Decide(p, f, now)
		require.Contains(t, decision.Outcomes, got.Outcome, "case %d", i)
		require.NotEmpty(t, got.Reasons, "case %d: %+v", i, f)
		require.LessOrEqual(t, len(got.Reasons), decision.MaxReasons, "case %d: %+v", i, f)
		codes := map[string]bool{}
		for _, r := range got.Reasons {
			require.NotEmpty(t, r.Code, "case %d", i)
			require.NotEmpty(t, r.Message, "case %d", i)
			require.False(t, codes[r.Code], "case %d: code %s twice", i, r.Code)
			codes[r.Code] = true
			seen[r.Code] = true
		}
		require.Equal(t, got, decision.Decide(p, f, now), "case %d", i)
	}
	// The generator reaches every outcome; a sanity check on the test itself.
	for _, code := range []string{"outside_claim_window", "duplicate_claim", "invalid_amount", "within_instant_limit", "above_instant_limit", "linked_accounts"} {
		require.True(t, seen[code], code)
	}
}

func TestParseOutcome(t *testing.T) {
	t.Parallel()
	for _, o := range decision.Outcomes {
		got, err := decision.ParseOutcome(o.String())
		require.NoError(t, err)
		require.Equal(t, o, got)
	}
	for _, give := range []string{"", "approved", "INSTANT_REFUND"} {
		_, err := decision.ParseOutcome(give)
		require.ErrorIs(t, err, decision.ErrUnknownOutcome, give)
	}
}

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, testPolicy().Validate())

	broken := testPolicy()
	broken.Version = ""
	broken.ClaimWindowDays = map[claim.Reason]int{claim.ReasonCounterfeit: 0, claim.ReasonDamaged: 30, claim.ReasonNotReceived: 5}
	broken.NotReceivedMinWaitDays = 5
	broken.FrequentClaims90d = 0
	broken.RecentRefundLimits = map[money.Currency]int64{eur: -1}
	broken.HighRiskSellerScore = 101
	broken.CounterfeitPatternClaims90d = -3
	broken.Tiers = []decision.Tier{
		{Name: "new", MinAccountAgeDays: 3, InstantLimits: map[money.Currency]int64{eur: 5000}, RaisedLimits: map[money.Currency]int64{eur: 4000, usd: 1}},
		{Name: "New Tier", MinAccountAgeDays: 30, InstantLimits: map[money.Currency]int64{eur: -5}, RaisedLimits: map[money.Currency]int64{}},
		{Name: "new", MinAccountAgeDays: 30, InstantLimits: nil, RaisedLimits: nil},
	}
	err := broken.Validate()
	require.Error(t, err)
	want := []string{
		"version: is required",
		"claim_window_days.counterfeit: must be between 1 and 3650 days",
		"claim_window_days.not_as_described: is required",
		"not_received_min_wait_days: must be shorter than claim_window_days.not_received (5 days)",
		"frequent_claims_90d: must be at least 1",
		"recent_refund_limits.EUR: must not be negative",
		"high_risk_seller_score: must be between 1 and 100",
		"counterfeit_pattern_claims_90d: must be at least 1",
		"tiers[0].min_account_age_days: must be 0 for the first tier",
		"tiers[0].raised_limits.EUR: must be at least instant_limits.EUR (5000)",
		"tiers[0].raised_limits.USD: has no matching instant_limits.USD",
		"tiers[1].name: must be 1 to 32 characters of a-z, 0-9 and _",
		"tiers[1].instant_limits.EUR: must not be negative",
		"tiers[1].raised_limits.EUR: is required, since instant_limits has EUR",
		"tiers[1].raised_limits: must list at least one currency",
		`tiers[2].name: "new" names another tier too`,
		"tiers[2].min_account_age_days: must be more than the previous tier's (30)",
		"tiers[2].instant_limits: must list at least one currency",
	}
	for _, w := range want {
		require.Contains(t, err.Error(), w)
	}
	require.Len(t, strings.Split(err.Error(), "\n"), len(want)+1) // tiers[2].raised_limits too
}

func TestPolicyValidateRefusesLimitsAboveTheMaximum(t *testing.T) {
	t.Parallel()
	over := money.MaxAmount(eur) + 1
	p := testPolicy()
	p.RecentRefundLimits = map[money.Currency]int64{eur: math.MaxInt64}
	p.Tiers[0].InstantLimits = map[money.Currency]int64{eur: money.MaxAmount(eur)} // at the maximum: fine
	p.Tiers[0].RaisedLimits = map[money.Currency]int64{eur: over}
	err := p.Validate()
	var ve *validation.Error
	require.ErrorAs(t, err, &ve)
	want := []string{
		"recent_refund_limits.EUR: must be at most 10000000000.00 EUR (1000000000000 minor units)",
		"tiers[0].raised_limits.EUR: must be at most 10000000000.00 EUR (1000000000000 minor units)",
	}
	for _, w := range want {
		require.Contains(t, err.Error(), w)
	}
	require.Len(t, strings.Split(err.Error(), "\n"), len(want))
	require.Equal(t, "amount_too_large", ve.Code)
}
