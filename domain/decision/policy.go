package decision

import (
	"cmp"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/domain/validation"
)

// Bounds Validate holds a policy to; beyond them a setting is a typo.
const (
	MaxWindowDays     = 3650  // ten years
	MaxAccountAgeDays = 36500 // a hundred years
	MaxVersionLength  = 64
	MaxTierNameLength = 32
)

// Policy is one version of the rules Decide applies. Every limit is in minor
// units of its currency (5000 EUR is 50.00 EUR, 5000 JPY is 5000 yen); a
// currency missing from a limit map sends its claims to a person. Build one
// from a policy file (adapters/policyfile) and check it with Validate.
type Policy struct {
	// Version names this policy; every Decision records it, e.g. "2026-11-27.1".
	Version string
	// ClaimWindowDays is, per claim reason, how many days after delivery
	// (after payment when the order was not delivered) a claim may be filed.
	// Day N itself is inside the window; day N+1 is not.
	ClaimWindowDays map[claim.Reason]int
	// NotReceivedMinWaitDays is how long after payment a shopper must wait
	// before claiming that an undelivered order never arrived.
	NotReceivedMinWaitDays int
	// FrequentClaims90d sends a shopper with at least this many other
	// claims in the last 90 days to a person.
	FrequentClaims90d int
	// RecentRefundLimits caps, per currency, what a shopper's live claims of
	// the last 90 days plus this one may add up to before a person looks.
	RecentRefundLimits map[money.Currency]int64
	// HighRiskSellerScore makes a seller whose risk score is at least this
	// high risk: claims against them are refunded up to the raised limit.
	HighRiskSellerScore int
	// CounterfeitPatternClaims90d is how many live counterfeit claims
	// against a seller in 90 days make a pattern: further counterfeit
	// claims against them are refunded up to the raised limit.
	CounterfeitPatternClaims90d int
	// Review is, per claim reason, how long a claim may wait for a person
	// and what happens then; a reason missing here waits 24 hours and is
	// escalated.
	Review map[claim.Reason]ReviewRule
	// ContestWindow is how long a seller may contest a chargeback after
	// being charged; zero means 72 hours.
	ContestWindow time.Duration
	// Tiers are the shopper trust tiers, youngest first. The first starts at
	// 0 days; a shopper belongs to the last tier whose MinAccountAgeDays
	// their account age (days since their first order) has reached.
	Tiers []Tier
	// ProtectLevels are the seller standings whose claims, refunded to the
	// shopper as the rules say, are charged to the seller only once the
	// charge is confirmed (the contest window passes, or an agent upholds
	// it); meanwhile the platform carries the cost.
	ProtectLevels []standing.Level
	// LinkedClaims90d sends a claim to a person when the shoppers linked
	// to its shopper filed at least this many claims in the last 90 days;
	// zero never does.
	LinkedClaims90d int
}

// Protects reports whether a seller of standing l is charged only once a
// charge is confirmed.
func (p Policy) Protects(l standing.Level) bool { return slices.Contains(p.ProtectLevels, l) }

// Tier is a shopper trust tier and what it may be refunded instantly.
type Tier struct {
	// Name is a short snake_case name such as "new", "established".
	Name string
	// MinAccountAgeDays is the account age, in days since the shopper's
	// first order, from which the tier applies.
	MinAccountAgeDays int
	// InstantLimits is, per currency, the largest claim refunded instantly.
	InstantLimits map[money.Currency]int64
	// RaisedLimits is, per currency, the largest claim refunded instantly
	// when the seller is high risk or shows a counterfeit pattern. It lists
	// the same currencies as InstantLimits, each at least as high.
	RaisedLimits map[money.Currency]int64
}

// Validate reports every problem with p at once, joined with errors.Join;
// each is a *validation.Error whose Field is the setting's path in a policy
// file, such as "tiers[1].instant_limits.EUR".
func (p Policy) Validate() error {
	var errs []error
	bad := func(field, code, format string, args ...any) {
		errs = append(errs, validation.Newf(field, code, format, args...))
	}

	switch {
	case p.Version == "":
		bad("version", "required", "is required")
	case len(p.Version) > MaxVersionLength:
		bad("version", "too_long", "must be at most %d characters", MaxVersionLength)
	case !isVersion(p.Version):
		bad("version", "invalid_version", "may hold only letters, digits and - _ .")
	}

	for _, r := range claim.Reasons {
		days, ok := p.ClaimWindowDays[r]
		field := "claim_window_days." + r.String()
		switch {
		case !ok:
			bad(field, "required", "is required")
		case days < 1 || days > MaxWindowDays:
			bad(field, "out_of_range", "must be between 1 and %d days", MaxWindowDays)
		}
	}
	if _, ok := p.ClaimWindowDays[claim.Reason{}]; ok {
		bad("claim_window_days", "unknown_reason", "has a window for an empty claim reason")
	}

	notReceived := p.ClaimWindowDays[claim.ReasonNotReceived]
	switch {
	case p.NotReceivedMinWaitDays < 0:
		bad("not_received_min_wait_days", "out_of_range", "must not be negative")
	case notReceived > 0 && p.NotReceivedMinWaitDays >= notReceived:
		bad("not_received_min_wait_days", "out_of_range",
			"must be shorter than claim_window_days.not_received (%d days)", notReceived)
	}
	if p.FrequentClaims90d < 1 {
		bad("frequent_claims_90d", "out_of_range", "must be at least 1")
	}
	errs = append(errs, checkLimits("recent_refund_limits", p.RecentRefundLimits)...)
	if p.HighRiskSellerScore < 1 || p.HighRiskSellerScore > 100 {
		bad("high_risk_seller_score", "out_of_range", "must be between 1 and 100")
	}
	if p.CounterfeitPatternClaims90d < 1 {
		bad("counterfeit_pattern_claims_90d", "out_of_range", "must be at least 1")
	}

	if len(p.Tiers) == 0 {
		bad("tiers", "required", "must list at least one tier")
	}
	names := make(map[string]bool, len(p.Tiers))
	for i, t := range p.Tiers {
		field := validation.Indexed("tiers", i)
		switch {
		case t.Name == "":
			bad(field+".name", "required", "is required")
		case len(t.Name) > MaxTierNameLength || !isSnake(t.Name):
			bad(field+".name", "invalid_name", "must be 1 to %d characters of a-z, 0-9 and _", MaxTierNameLength)
		case names[t.Name]:
			bad(field+".name", "duplicate", "%q names another tier too", t.Name)
		}
		names[t.Name] = true
		switch {
		case i == 0 && t.MinAccountAgeDays != 0:
			bad(field+".min_account_age_days", "out_of_range", "must be 0 for the first tier, so every shopper has one")
		case t.MinAccountAgeDays < 0 || t.MinAccountAgeDays > MaxAccountAgeDays:
			bad(field+".min_account_age_days", "out_of_range", "must be between 0 and %d", MaxAccountAgeDays)
		case i > 0 && t.MinAccountAgeDays <= p.Tiers[i-1].MinAccountAgeDays:
			bad(field+".min_account_age_days", "not_ascending", "must be more than the previous tier's (%d)", p.Tiers[i-1].MinAccountAgeDays)
		}
		errs = append(errs, checkLimits(field+".instant_limits", t.InstantLimits)...)
		for _, c := range sortedCurrencies(t.InstantLimits) {
			instant := t.InstantLimits[c]
			raised, ok := t.RaisedLimits[c]
			switch {
			case c.IsZero():
			case !ok:
				bad(field+".raised_limits."+c.String(), "required", "is required, since instant_limits has %s", c)
			case raised < instant:
				bad(field+".raised_limits."+c.String(), "below_instant_limit", "must be at least instant_limits.%s (%d)", c, instant)
			}
		}
		for _, c := range sortedCurrencies(t.RaisedLimits) {
			if _, ok := t.InstantLimits[c]; !ok && !c.IsZero() {
				bad(field+".raised_limits."+c.String(), "unexpected_currency", "has no matching instant_limits.%s", c)
			}
		}
		errs = append(errs, checkLimits(field+".raised_limits", t.RaisedLimits)...)
	}
	errs = append(errs, p.validateTimeBoxes()...)
	seen := map[standing.Level]bool{}
	for i, l := range p.ProtectLevels {
		field := validation.Indexed("protect_levels", i)
		switch {
		case l == standing.LevelWatch || l == standing.LevelHighRisk:
			bad(field, "unprotectable_level", "%s sellers cannot be protected: the platform would carry the cost of the sellers it trusts least", l)
		case seen[l]:
			bad(field, "duplicate", "%s is listed twice", l)
		}
		if _, err := standing.ParseLevel(string(l)); err != nil {
			bad(field, "unknown_level", "is not a standing level")
		}
		seen[l] = true
	}
	if p.LinkedClaims90d < 0 || p.LinkedClaims90d > 10000 {
		bad("linked_claims_90d", "out_of_range", "must be between 0 (off) and 10000")
	}
	return errors.Join(errs...)
}

// checkLimits validates a per-currency limit map: not empty, known
// currencies, no limit below zero or above money.MaxAmount (a limit no
// amount can reach is a typo, and a sum checked against it could not be
// held).
func checkLimits(field string, limits map[money.Currency]int64) []error {
	if len(limits) == 0 {
		return []error{validation.New(field, "required", "must list at least one currency")}
	}
	var errs []error
	for _, c := range sortedCurrencies(limits) {
		if c.IsZero() {
			errs = append(errs, validation.New(field, "unknown_currency", "has a limit for an empty currency"))
			continue
		}
		if limits[c] < 0 {
			errs = append(errs, validation.New(field+"."+c.String(), "out_of_range", "must not be negative"))
		}
		if err := validation.CheckMaxAmount(field+"."+c.String(), limits[c], c); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// sortedCurrencies returns the map's keys by code, so reports are stable.
func sortedCurrencies(m map[money.Currency]int64) []money.Currency {
	cs := make([]money.Currency, 0, len(m))
	for c := range m {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b money.Currency) int { return cmp.Compare(a.String(), b.String()) })
	return cs
}

func isVersion(s string) bool {
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

func isSnake(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// clone returns a copy of p that shares no map or slice with it.
func (p Policy) clone() Policy {
	p.ClaimWindowDays = maps.Clone(p.ClaimWindowDays)
	p.RecentRefundLimits = maps.Clone(p.RecentRefundLimits)
	p.Review = maps.Clone(p.Review)
	p.ProtectLevels = slices.Clone(p.ProtectLevels)
	tiers := make([]Tier, len(p.Tiers))
	for i, t := range p.Tiers {
		t.InstantLimits, t.RaisedLimits = maps.Clone(t.InstantLimits), maps.Clone(t.RaisedLimits)
		tiers[i] = t
	}
	p.Tiers = tiers
	return p
}

// tierFor returns the tier of an account ageDays old. p must be valid.
func (p Policy) tierFor(ageDays int64) Tier {
	t := p.Tiers[0]
	for _, next := range p.Tiers[1:] {
		if ageDays < int64(next.MinAccountAgeDays) {
			break
		}
		t = next
	}
	return t
}
