// Package decision decides a claim the moment it is filed: refund it
// instantly, send it to a person, or reject it. Decide is a pure function of
// a versioned Policy, the Facts gathered about the claim and the time:
//
//	d := decision.Decide(policy, facts, now)
//	if d.Outcome == decision.OutcomeInstantRefund { ... }
//
// Rules run in this order. The first rejection wins:
//
//  1. outside_claim_window: filed later than the policy's window for its
//     reason, counted from delivery, or from payment when not delivered.
//  2. duplicate_claim: some items are already covered by a live claim.
//  3. delivery_not_overdue: "not received", not delivered, and filed before
//     the policy's minimum wait after payment. The shopper may file again
//     once the wait is over.
//
// Facts that cannot be trusted (missing or contradictory dates, amounts or
// currencies that do not match, impossible counts) then send the claim to a
// person, with one reason per kind of problem. Otherwise every review rule
// that applies adds its reason:
//
//  4. delivery_confirmed: "not received" but the carrier reported delivery.
//  5. frequent_claims, high_recent_refunds: the shopper's last 90 days.
//  6. linked_accounts: the shoppers linked to this one by a shared device,
//     payment fingerprint or shipping address filed at least the policy's
//     LinkedClaims90d claims in the last 90 days (0 turns the rule off).
//     The shopper reads only that the claim needs a closer look; the link
//     is told to staff in Reason.Staff, and shoppers read the code as
//     further_review (Reason.Public).
//  7. no_limit_for_currency, above_instant_limit: the shopper's trust tier
//     (by account age) has no limit in the claim's currency, or the amount
//     is above it. A seller the platform rates high risk, a seller whose
//     standing (the engine's own record of confirmed counterfeits and
//     contests lost) is high_risk, or a counterfeit pattern raises the
//     limit to the tier's raised limit.
//
// With no review reason the claim is refunded instantly, because of
// high_risk_seller, high_risk_standing and/or counterfeit_pattern when the
// raised limit was used, else small_amount_new_shopper (first tier, no
// recent claims) or within_instant_limit.
package decision

import (
	"fmt"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/standing"
)

// Reason codes: stable snake_case identifiers for what drove a decision.
const (
	// Rejections.
	CodeOutsideClaimWindow = "outside_claim_window"
	CodeDuplicateClaim     = "duplicate_claim"
	CodeDeliveryNotOverdue = "delivery_not_overdue"

	// Manual review because the policy or the facts cannot be relied on.
	CodeInvalidPolicy      = "invalid_policy"
	CodeUnknownClaimReason = "unknown_claim_reason"
	CodeMissingPaymentDate = "missing_payment_date"
	CodeInconsistentDates  = "inconsistent_dates"
	CodeUnknownAccountAge  = "unknown_account_age"
	CodeInvalidAmount      = "invalid_amount"
	CodeCurrencyMismatch   = "currency_mismatch"
	CodeAmountExceedsOrder = "amount_exceeds_order"
	CodeInvalidHistory     = "invalid_history"

	// Manual review by the rules.
	CodeDeliveryConfirmed  = "delivery_confirmed"
	CodeFrequentClaims     = "frequent_claims"
	CodeHighRecentRefunds  = "high_recent_refunds"
	CodeNoLimitForCurrency = "no_limit_for_currency"
	CodeAboveInstantLimit  = "above_instant_limit"
	CodeLinkedAccounts     = "linked_accounts"

	// CodeFurtherReview is what a shopper reads in place of a code that
	// would tell them what the engine found (linked_accounts); see
	// Reason.Public.
	CodeFurtherReview = "further_review"

	// Instant refunds.
	CodeHighRiskSeller        = "high_risk_seller"
	CodeHighRiskStanding      = "high_risk_standing"
	CodeCounterfeitPattern    = "counterfeit_pattern"
	CodeSmallAmountNewShopper = "small_amount_new_shopper"
	CodeWithinInstantLimit    = "within_instant_limit"
)

const (
	day          = 24 * time.Hour
	clockSkew    = 5 * time.Minute // how far ahead of now a date may be and still count as now
	historyDays  = 90              // the span of the history counts in Facts
	reviewSuffix = " " + ReviewPromise
	// deliveryCheckSuffix ends delivery_confirmed's message: a promise too.
	deliveryCheckSuffix = "; a person will check the delivery before any refund."
)

// ReviewPromise is the sentence every reason that sends a claim to a
// person ends with. It holds while the claim waits for that person; once
// the claim moved on, Reason.Decided reads without it.
const ReviewPromise = "A person will review this claim."

// MaxReasons bounds len(Decision.Reasons): a rejection has one reason, an
// instant refund at most three (the seller signals), a review at most one
// per code (seven fact checks, or six rule reasons).
const MaxReasons = 8

// Reason says why a decision went the way it did.
type Reason struct {
	// Code is stable and snake_case, e.g. "outside_claim_window".
	Code string
	// Message is a plain sentence a shopper can read, with the numbers
	// that mattered.
	Message string
	// Staff, when set, is what staff read instead: what the engine found
	// that the shopper is not told (a link to other accounts, say). "" for
	// most reasons, whose Message says it all.
	Staff string
}

// Public returns the reason as the shopper it is written to reads it:
// without Staff, and under CodeFurtherReview when its own code would tell
// what the engine found (see PublicCode). Staff who work the claim read
// the reason as it is.
//
//	for _, r := range d.Reasons { show(r.Public().Code, r.Public().Message) }
func (r Reason) Public() Reason {
	return Reason{Code: PublicCode(r.Code), Message: r.Message}
}

// PublicCode returns code as shoppers read it: CodeFurtherReview for a
// code that would tell them what the engine found (linked_accounts), the
// code itself for every other.
func PublicCode(code string) string {
	if code == CodeLinkedAccounts {
		return CodeFurtherReview
	}
	return code
}

// Decided is the reason's message without its promise of what a person
// will do ("A person will review this claim.", "a person will check the
// delivery before any refund"): how it reads once the claim is no longer
// waiting for that person. Messages without a promise are returned as
// they are.
func (r Reason) Decided() string {
	if m, ok := strings.CutSuffix(r.Message, reviewSuffix); ok {
		return m
	}
	if m, ok := strings.CutSuffix(r.Message, deliveryCheckSuffix); ok {
		return m + "."
	}
	return r.Message
}

// Decision is the outcome for one claim and why.
type Decision struct {
	Outcome Outcome
	// Reasons holds 1 to MaxReasons reasons, in rule order, codes unique.
	Reasons []Reason
	// PolicyVersion is the Version of the policy that decided.
	PolicyVersion string
	// Tier is the name of the shopper's trust tier when its limits were
	// weighed; "" when the decision was made before that (rejections,
	// untrustworthy facts).
	Tier string
}

// Facts are what Decide weighs, gathered by the caller at filing time.
type Facts struct {
	ClaimReason claim.Reason
	Amount      money.Money // what this claim asks for
	OrderAmount money.Money
	PaidAt      time.Time
	DeliveredAt *time.Time // nil: not delivered (yet)
	// ItemsAlreadyClaimed: some claimed quantity is already covered by
	// another live (not rejected) claim on the order.
	ItemsAlreadyClaimed bool
	SellerRiskScore     int // 0–100
	SellerVerified      bool
	// SellerCounterfeitClaims90d counts counterfeit claims against the
	// seller in the last 90 days that were not rejected.
	SellerCounterfeitClaims90d int
	// ShopperFirstOrderAt is when the shopper first ordered; account age
	// is measured from it.
	ShopperFirstOrderAt time.Time
	// ShopperClaims90d counts the shopper's claims in the last 90 days,
	// any outcome, excluding this one.
	ShopperClaims90d int
	// ShopperRefunded90d adds up the shopper's claims of the last 90 days
	// that were not rejected, in this claim's currency.
	ShopperRefunded90d money.Money

	// SellerStanding is the seller's standing as the engine's own outcomes
	// set it when the claim was filed; "" (a decision recorded before
	// standing existed) reads as standing.LevelStandard. SellerStandingScore
	// is its score, 0–100, higher is better.
	SellerStanding      standing.Level
	SellerStandingScore int

	// Linked accounts: other shoppers who share an identity signal (a
	// device, a payment fingerprint, a shipping address) with this one.
	// LinkedShoppers counts them; LinkedClaims90d counts their claims in
	// the last 90 days, any outcome; LinkedRefunded90d adds up those not
	// rejected, in this claim's currency; LinkedSignals names the kinds of
	// signal that linked them (for the agent, never the shopper).
	LinkedShoppers    int
	LinkedClaims90d   int
	LinkedRefunded90d money.Money
	LinkedSignals     []string
}

// Decide applies p to f at time now. It is pure and never panics: facts it
// cannot rely on, and a policy that does not pass Validate, send the claim
// to a person. See the package documentation for the rules.
func Decide(p Policy, f Facts, now time.Time) Decision {
	if err := p.Validate(); err != nil {
		d := Decision{PolicyVersion: p.Version}
		return d.with(OutcomeManualReview, []Reason{{Code: CodeInvalidPolicy, Message: "The claims policy in force is incomplete." + reviewSuffix}})
	}
	return decide(p, f, now)
}

// Decider decides with one policy, validated once when it is made: what
// a replay of many recorded decisions uses, where Decide would validate
// the policy again for each. Its decisions are Decide's.
//
//	dc, err := decision.NewDecider(p) // err: p does not pass Validate
//	for _, c := range cases {
//		d := dc.Decide(c.Facts, c.DecidedAt)
//	}
type Decider struct{ p Policy }

// NewDecider validates p and returns a Decider that decides with a copy
// of it, so later changes to p's maps and slices do not reach it. The
// error is Validate's.
func NewDecider(p Policy) (*Decider, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Decider{p: p.clone()}, nil
}

// Decide applies the Decider's policy to f at time now, as
// Decide(policy, f, now) does.
func (dc *Decider) Decide(f Facts, now time.Time) Decision { return decide(dc.p, f, now) }

// decide is Decide for a policy that passed Validate.
func decide(p Policy, f Facts, now time.Time) Decision {
	d := Decision{PolicyVersion: p.Version}
	dateProblems := checkDates(f, now)
	if len(dateProblems) == 0 && f.ClaimReason != (claim.Reason{}) {
		if r, ok := outsideWindow(p, f, now); ok {
			return d.with(OutcomeRejected, []Reason{r})
		}
	}
	if f.ItemsAlreadyClaimed {
		return d.with(OutcomeRejected, []Reason{{Code: CodeDuplicateClaim, Message: "Some of the items in this claim are already covered by another open claim on this order."}})
	}
	if len(dateProblems) == 0 && f.ClaimReason == claim.ReasonNotReceived && f.DeliveredAt == nil {
		if waited := daysBetween(f.PaidAt, now); waited < int64(p.NotReceivedMinWaitDays) {
			from := f.PaidAt.Add(time.Duration(p.NotReceivedMinWaitDays) * day)
			return d.with(OutcomeRejected, []Reason{{Code: CodeDeliveryNotOverdue, Message: fmt.Sprintf(
				"Claims for items not received can be filed %s after payment; this order was paid %s. "+
					"If it has still not arrived on %s, please file again.",
				days(int64(p.NotReceivedMinWaitDays)), ago(waited), from.UTC().Format("2 January 2006"))}})
		}
	}

	if problems := append(dateProblems, checkFacts(f)...); len(problems) > 0 {
		return d.with(OutcomeManualReview, problems)
	}

	var review reasons
	if f.ClaimReason == claim.ReasonNotReceived && f.DeliveredAt != nil {
		review.add(CodeDeliveryConfirmed, fmt.Sprintf(
			"The carrier reported this order delivered on %s"+deliveryCheckSuffix,
			f.DeliveredAt.UTC().Format("2 January 2006")))
	}
	if f.ShopperClaims90d >= p.FrequentClaims90d {
		review.add(CodeFrequentClaims, fmt.Sprintf(
			"You have filed %s in the last %d days.%s", count(f.ShopperClaims90d, "other claim"), historyDays, reviewSuffix))
	}
	cur := f.Amount.Currency()
	if limit, ok := p.RecentRefundLimits[cur]; !ok {
		review.add(CodeNoLimitForCurrency, fmt.Sprintf(
			"Claims in %s cannot be refunded automatically yet.%s", cur, reviewSuffix))
	} else if total, err := f.ShopperRefunded90d.Add(f.Amount); err != nil || total.Amount() > limit {
		review.add(CodeHighRecentRefunds, fmt.Sprintf(
			"Your claims of the last %d days (%s) and this one (%s) add up to more than the %s that can be refunded automatically.%s",
			historyDays, f.ShopperRefunded90d, f.Amount, money.Of(limit, cur), reviewSuffix))
	}

	if p.LinkedClaims90d > 0 && f.LinkedClaims90d >= p.LinkedClaims90d {
		review.addStaff(CodeLinkedAccounts,
			"This claim needs a closer look before it can be refunded."+reviewSuffix,
			fmt.Sprintf("Linked to %s by %s; they filed %s in the last %d days (%s not rejected).",
				count(f.LinkedShoppers, "other shopper"), signalWords(f.LinkedSignals),
				count(f.LinkedClaims90d, "claim"), historyDays, f.LinkedRefunded90d))
	}

	tier := p.tierFor(daysBetween(f.ShopperFirstOrderAt, now))
	d.Tier = tier.Name
	accounts := strings.ReplaceAll(tier.Name, "_", " ") + " accounts"
	limit, ok := tier.InstantLimits[cur]
	if !ok {
		review.add(CodeNoLimitForCurrency, fmt.Sprintf(
			"Claims in %s cannot be refunded instantly for %s.%s", cur, accounts, reviewSuffix))
		return d.with(OutcomeManualReview, review)
	}

	var seller reasons
	raised := money.Of(tier.RaisedLimits[cur], cur)
	if f.SellerRiskScore >= p.HighRiskSellerScore {
		seller.add(CodeHighRiskSeller, fmt.Sprintf(
			"The seller is rated high risk, so claims against them of up to %s are refunded instantly for %s.",
			raised, accounts))
	}
	if f.SellerStanding == standing.LevelHighRisk {
		seller.add(CodeHighRiskStanding, fmt.Sprintf(
			"Claims against this seller have been confirmed as counterfeit or upheld before, so claims of up to %s are refunded instantly for %s.",
			raised, accounts))
	}
	if f.ClaimReason == claim.ReasonCounterfeit && f.SellerCounterfeitClaims90d >= p.CounterfeitPatternClaims90d {
		seller.add(CodeCounterfeitPattern, fmt.Sprintf(
			"Shoppers reported counterfeit goods from this seller %s in the last %d days, so claims of up to %s are refunded instantly for %s.",
			times(f.SellerCounterfeitClaims90d), historyDays, raised, accounts))
	}
	if len(seller) > 0 {
		limit = raised.Amount()
	}
	if f.Amount.Amount() > limit {
		what := "the instant-refund limit for " + accounts
		if len(seller) > 0 {
			what = "the raised instant-refund limit for claims against this seller"
		}
		review.add(CodeAboveInstantLimit, fmt.Sprintf("The amount claimed, %s, is above %s, %s.%s",
			f.Amount, money.Of(limit, cur), what, reviewSuffix))
	}
	if len(review) > 0 {
		return d.with(OutcomeManualReview, review)
	}
	if len(seller) > 0 {
		return d.with(OutcomeInstantRefund, seller)
	}
	if tier.Name == p.Tiers[0].Name && f.ShopperClaims90d == 0 {
		return d.with(OutcomeInstantRefund, []Reason{{Code: CodeSmallAmountNewShopper, Message: fmt.Sprintf(
			"The amount claimed, %s, is within the %s refunded instantly for %s with no recent claims.",
			f.Amount, money.Of(limit, cur), accounts)}})
	}
	return d.with(OutcomeInstantRefund, []Reason{{Code: CodeWithinInstantLimit, Message: fmt.Sprintf(
		"The amount claimed, %s, is within the %s refunded instantly for %s.", f.Amount, money.Of(limit, cur), accounts)}})
}

func (d Decision) with(o Outcome, rs []Reason) Decision {
	d.Outcome = o
	d.Reasons = rs
	return d
}

// reasons collects reasons, one per code.
type reasons []Reason

func (rs *reasons) add(code, message string) { rs.addStaff(code, message, "") }

// addStaff adds a reason whose staff read more than its message says.
func (rs *reasons) addStaff(code, message, staff string) {
	for _, r := range *rs {
		if r.Code == code {
			return
		}
	}
	*rs = append(*rs, Reason{Code: code, Message: message, Staff: staff})
}

// outsideWindow applies rule 1. The dates must have passed checkDates.
func outsideWindow(p Policy, f Facts, now time.Time) (Reason, bool) {
	window := int64(p.ClaimWindowDays[f.ClaimReason])
	from, event, past := f.PaidAt, "payment", "paid"
	if f.DeliveredAt != nil {
		from, event, past = *f.DeliveredAt, "delivery", "delivered"
	}
	elapsed := daysBetween(from, now)
	if elapsed <= window {
		return Reason{}, false
	}
	return Reason{Code: CodeOutsideClaimWindow, Message: fmt.Sprintf(
		"Claims for %s must be filed within %s of %s; this order was %s %s.",
		describe(f.ClaimReason), days(window), event, past, ago(elapsed))}, true
}

// checkDates reports dates that are missing or contradict each other; a
// date up to clockSkew ahead of now counts as now.
func checkDates(f Facts, now time.Time) []Reason {
	var rs reasons
	future := func(t time.Time) bool { return t.After(now.Add(clockSkew)) }
	if f.PaidAt.IsZero() {
		rs.add(CodeMissingPaymentDate, "The order has no payment date on record."+reviewSuffix)
	} else if future(f.PaidAt) {
		rs.add(CodeInconsistentDates, "The order's payment date is in the future."+reviewSuffix)
	}
	if f.DeliveredAt != nil {
		switch {
		case f.DeliveredAt.IsZero() || future(*f.DeliveredAt):
			rs.add(CodeInconsistentDates, "The order's delivery date is missing or in the future."+reviewSuffix)
		case !f.PaidAt.IsZero() && f.DeliveredAt.Before(f.PaidAt):
			rs.add(CodeInconsistentDates, "The order's delivery date is before its payment date."+reviewSuffix)
		}
	}
	if !f.ShopperFirstOrderAt.IsZero() && future(f.ShopperFirstOrderAt) {
		rs.add(CodeInconsistentDates, "Your account's first order date is in the future."+reviewSuffix)
	}
	return rs
}

// checkFacts reports the other facts Decide cannot rely on.
func checkFacts(f Facts) []Reason {
	var rs reasons
	if f.ClaimReason == (claim.Reason{}) {
		rs.add(CodeUnknownClaimReason, "The reason for this claim is missing."+reviewSuffix)
	}
	if f.ShopperFirstOrderAt.IsZero() {
		rs.add(CodeUnknownAccountAge, "Your account's first order could not be found."+reviewSuffix)
	}
	cur := f.Amount.Currency()
	switch {
	case cur.IsZero():
		rs.add(CodeInvalidAmount, "The amount claimed has no currency."+reviewSuffix)
	case !f.Amount.IsPositive():
		rs.add(CodeInvalidAmount, fmt.Sprintf("The amount claimed, %s, must be more than zero.%s", f.Amount, reviewSuffix))
	case f.OrderAmount.Currency() != cur:
		rs.add(CodeCurrencyMismatch, fmt.Sprintf("The amount claimed is in %s but the order was paid in %s.%s",
			cur, orNone(f.OrderAmount.Currency()), reviewSuffix))
	case f.Amount.Amount() > f.OrderAmount.Amount():
		rs.add(CodeAmountExceedsOrder, fmt.Sprintf("The amount claimed, %s, is more than the %s paid for the order.%s",
			f.Amount, f.OrderAmount, reviewSuffix))
	}
	if !cur.IsZero() && f.ShopperRefunded90d.Currency() != cur {
		rs.add(CodeCurrencyMismatch, fmt.Sprintf("Your recent claims are recorded in %s but this claim is in %s.%s",
			orNone(f.ShopperRefunded90d.Currency()), cur, reviewSuffix))
	}
	if _, err := standing.ParseLevel(string(f.SellerStanding)); err != nil && f.SellerStanding != "" {
		rs.add(CodeInvalidHistory, "The claim history on record is incomplete."+reviewSuffix)
	}
	if f.SellerRiskScore < 0 || f.SellerRiskScore > 100 || f.SellerCounterfeitClaims90d < 0 ||
		f.SellerStandingScore < 0 || f.SellerStandingScore > 100 ||
		f.ShopperClaims90d < 0 || f.ShopperRefunded90d.Amount() < 0 ||
		f.LinkedShoppers < 0 || f.LinkedClaims90d < 0 || f.LinkedRefunded90d.Amount() < 0 {
		rs.add(CodeInvalidHistory, "The claim history on record is incomplete."+reviewSuffix)
	}
	return rs
}

// daysBetween counts whole days from from to to, rounding toward zero.
// time.Time.Sub saturates, so extreme dates cannot overflow.
func daysBetween(from, to time.Time) int64 { return int64(to.Sub(from) / day) }

func describe(r claim.Reason) string {
	switch r {
	case claim.ReasonCounterfeit:
		return "counterfeit goods"
	case claim.ReasonNotAsDescribed:
		return "items not as described"
	case claim.ReasonDamaged:
		return "damaged items"
	case claim.ReasonNotReceived:
		return "items not received"
	}
	return "this problem"
}

func days(n int64) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

func ago(n int64) string {
	if n <= 0 {
		return "today"
	}
	return days(n) + " ago"
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// signalWords names the kinds of signal that linked shoppers, for staff:
// "device and shipping address".
func signalWords(kinds []string) string {
	words := make([]string, len(kinds))
	for i, k := range kinds {
		words[i] = strings.ReplaceAll(k, "_", " ")
	}
	switch len(words) {
	case 0:
		return "a shared identity signal"
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

func orNone(c money.Currency) string {
	if c.IsZero() {
		return "no currency"
	}
	return c.String()
}
