// Package policyfile reads the decision policy from a versioned JSON file,
// so the rules can change without a new build. Default returns the policy
// built into the binary (default.json); Load reads an operator's file.
//
//	policy := policyfile.Default()
//	policy, err := policyfile.Load("/etc/claimsd/policy.json")
//
// The format (every field is required but review and contest_window_hours;
// limits are in minor units, so 5000
// is 50.00 EUR but 5000 JPY; currency keys are ISO 4217 codes):
//
//	{
//	  "version": "2026-11-27.1",                    // recorded on every decision
//	  "claim_window_days": {                        // per claim reason, counted from delivery,
//	    "counterfeit": 180, "damaged": 30,          // or from payment when not delivered
//	    "not_as_described": 30, "not_received": 60
//	  },
//	  "not_received_min_wait_days": 7,              // "not received" is rejected before this
//	  "frequent_claims_90d": 3,                     // this many other claims in 90 days: review
//	  "recent_refund_limits": {"EUR": 200000},      // 90 days of claims plus this one, above: review
//	  "high_risk_seller_score": 70,                 // seller risk score from which the raised limit applies
//	  "counterfeit_pattern_claims_90d": 3,          // counterfeit claims on a seller from which it applies
//	  "tiers": [                                    // youngest first; the first starts at 0
//	    {"name": "new", "min_account_age_days": 0,
//	     "instant_limits": {"EUR": 5000}, "raised_limits": {"EUR": 15000}}
//	  ],
//	  "review": {                                   // optional, per claim reason: how long a claim
//	    "not_received": {"sla_hours": 72,           // may wait for a person (default 24 h), then
//	                     "on_expiry": "approve"}    // "escalate" (default) or "approve"
//	  },
//	  "contest_window_hours": 72,                   // optional: how long a charged seller may contest
//	  "protect_levels": ["creditable"],             // optional: standings charged only once confirmed
//	  "linked_claims_90d": 3                        // optional: linked shoppers' claims from which a
//	}                                               // claim goes to a person (0 or missing: never)
//
// (JSON has no comments; they are here for the reader.) Unknown fields are
// refused (names match exactly), and every error names the field it is
// about, such as "tiers[1].instant_limits.EUR: must not be negative" or
// "tiers[0].limit: is not a setting of the policy".
package policyfile

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/domain/validation"
)

// MaxSize is the largest policy file Parse reads.
const MaxSize = 1 << 20

//go:embed default.json
var defaultJSON []byte

// Default returns the built-in policy. It panics if default.json is invalid,
// which the package's tests rule out. Each call returns a fresh copy.
func Default() decision.Policy {
	p, err := Parse(bytes.NewReader(defaultJSON))
	if err != nil {
		panic(fmt.Sprintf("policyfile: built-in default.json: %v", err))
	}
	return p
}

// Load reads and validates the policy file at path.
func Load(path string) (decision.Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return decision.Policy{}, fmt.Errorf("policy file: %w", err)
	}
	defer func() { _ = f.Close() }()
	p, err := Parse(f)
	if err != nil {
		return decision.Policy{}, fmt.Errorf("policy file %s: %w", path, err)
	}
	return p, nil
}

// file is the JSON shape. Pointers tell a missing number from a zero.
type file struct {
	Version                     *string          `json:"version"`
	ClaimWindowDays             map[string]int   `json:"claim_window_days"`
	NotReceivedMinWaitDays      *int             `json:"not_received_min_wait_days"`
	FrequentClaims90d           *int             `json:"frequent_claims_90d"`
	RecentRefundLimits          map[string]int64 `json:"recent_refund_limits"`
	HighRiskSellerScore         *int             `json:"high_risk_seller_score"`
	CounterfeitPatternClaims90d *int             `json:"counterfeit_pattern_claims_90d"`
	Tiers                       []tier           `json:"tiers"`
	// Optional time-boxes; missing ones take the defaults.
	Review             map[string]reviewRule `json:"review,omitempty"`
	ContestWindowHours *int                  `json:"contest_window_hours,omitempty"`
	// Optional: seller standings charged only once a charge is confirmed,
	// and the linked-account rule; missing ones protect no one and link
	// no one.
	ProtectLevels   []string `json:"protect_levels,omitempty"`
	LinkedClaims90d *int     `json:"linked_claims_90d,omitempty"`
}

type reviewRule struct {
	SLAHours *int    `json:"sla_hours"`
	OnExpiry *string `json:"on_expiry"`
}

type tier struct {
	Name              *string          `json:"name"`
	MinAccountAgeDays *int             `json:"min_account_age_days"`
	InstantLimits     map[string]int64 `json:"instant_limits"`
	RaisedLimits      map[string]int64 `json:"raised_limits"`
}

// Parse reads one JSON policy from r and validates it. The error joins
// every problem found, each naming its field (a *validation.Error, except
// for malformed JSON).
func Parse(r io.Reader) (decision.Policy, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return decision.Policy{}, fmt.Errorf("read policy: %w", err)
	}
	if len(data) > MaxSize {
		return decision.Policy{}, fmt.Errorf("policy is larger than %d bytes", MaxSize)
	}
	// Every field the format does not know is named by its path and
	// reported with the document's other problems (a misspelt setting
	// also shows as the required one missing), so the decoder need not
	// refuse them itself.
	var c collector
	c.errs = unknownFields(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	var f file
	if err := dec.Decode(&f); err != nil {
		return decision.Policy{}, errors.Join(append(c.errs, decodeError(err))...)
	}
	if _, err := dec.Token(); err != io.EOF {
		return decision.Policy{}, errors.New("policy: unexpected data after the policy object")
	}

	p := decision.Policy{
		Version:                     c.str("version", f.Version),
		ClaimWindowDays:             make(map[claim.Reason]int, len(f.ClaimWindowDays)),
		NotReceivedMinWaitDays:      c.num("not_received_min_wait_days", f.NotReceivedMinWaitDays),
		FrequentClaims90d:           c.num("frequent_claims_90d", f.FrequentClaims90d),
		RecentRefundLimits:          c.limits("recent_refund_limits", f.RecentRefundLimits),
		HighRiskSellerScore:         c.num("high_risk_seller_score", f.HighRiskSellerScore),
		CounterfeitPatternClaims90d: c.num("counterfeit_pattern_claims_90d", f.CounterfeitPatternClaims90d),
	}
	for _, k := range sortedKeys(f.ClaimWindowDays) {
		reason, err := claim.ParseReason(k)
		if err != nil {
			c.add("claim_window_days."+k, "unknown_reason", "is not a claim reason; use counterfeit, not_as_described, damaged or not_received")
			continue
		}
		p.ClaimWindowDays[reason] = f.ClaimWindowDays[k]
	}
	for i, t := range f.Tiers {
		field := validation.Indexed("tiers", i)
		p.Tiers = append(p.Tiers, decision.Tier{
			Name:              c.str(field+".name", t.Name),
			MinAccountAgeDays: c.num(field+".min_account_age_days", t.MinAccountAgeDays),
			InstantLimits:     c.limits(field+".instant_limits", t.InstantLimits),
			RaisedLimits:      c.limits(field+".raised_limits", t.RaisedLimits),
		})
	}

	if len(f.Review) > 0 {
		p.Review = make(map[claim.Reason]decision.ReviewRule, len(f.Review))
	}
	for _, k := range sortedKeys(f.Review) {
		field := "review." + k
		reason, err := claim.ParseReason(k)
		if err != nil {
			c.add(field, "unknown_reason", "is not a claim reason; use counterfeit, not_as_described, damaged or not_received")
			continue
		}
		r := f.Review[k]
		rule := decision.ReviewRule{SLA: time.Duration(c.num(field+".sla_hours", r.SLAHours)) * time.Hour}
		if s := c.str(field+".on_expiry", r.OnExpiry); s != "" {
			if rule.OnExpiry, err = decision.ParseExpiry(s); err != nil {
				c.add(field+".on_expiry", "unknown_expiry", "must be escalate or approve")
			}
		}
		p.Review[reason] = rule
	}
	if f.ContestWindowHours != nil {
		if *f.ContestWindowHours <= 0 {
			c.add("contest_window_hours", "out_of_range", "must be at least 1 hour")
		} else {
			p.ContestWindow = time.Duration(*f.ContestWindowHours) * time.Hour
		}
	}

	for i, l := range f.ProtectLevels {
		lv, err := standing.ParseLevel(l)
		if err != nil {
			c.add(validation.Indexed("protect_levels", i), "unknown_level", "is not a standing level; use creditable, standard, watch or high_risk")
			continue
		}
		p.ProtectLevels = append(p.ProtectLevels, lv)
	}
	if f.LinkedClaims90d != nil {
		p.LinkedClaims90d = *f.LinkedClaims90d
	}

	// Validate sees what could be read; a problem the file's own checks
	// already reported for a field is not reported twice.
	if err := p.Validate(); err != nil {
		for _, e := range unjoin(err) {
			var ve *validation.Error
			if errors.As(e, &ve) && c.covers(ve.Field) {
				continue
			}
			c.errs = append(c.errs, e)
		}
	}
	if len(c.errs) > 0 {
		return decision.Policy{}, errors.Join(c.errs...)
	}
	return p, nil
}

// Marshal returns p as an indented policy file that Parse reads back.
func Marshal(p decision.Policy) ([]byte, error) {
	f := file{
		Version:                     &p.Version,
		ClaimWindowDays:             make(map[string]int, len(p.ClaimWindowDays)),
		NotReceivedMinWaitDays:      &p.NotReceivedMinWaitDays,
		FrequentClaims90d:           &p.FrequentClaims90d,
		RecentRefundLimits:          limitsJSON(p.RecentRefundLimits),
		HighRiskSellerScore:         &p.HighRiskSellerScore,
		CounterfeitPatternClaims90d: &p.CounterfeitPatternClaims90d,
		Tiers:                       make([]tier, len(p.Tiers)),
	}
	for r, days := range p.ClaimWindowDays {
		f.ClaimWindowDays[r.String()] = days
	}
	if len(p.Review) > 0 {
		f.Review = make(map[string]reviewRule, len(p.Review))
		for r, rule := range p.Review {
			hours, onExpiry := int(rule.SLA/time.Hour), rule.OnExpiry.String()
			f.Review[r.String()] = reviewRule{SLAHours: &hours, OnExpiry: &onExpiry}
		}
	}
	if p.ContestWindow > 0 {
		hours := int(p.ContestWindow / time.Hour)
		f.ContestWindowHours = &hours
	}
	for _, l := range p.ProtectLevels {
		f.ProtectLevels = append(f.ProtectLevels, l.String())
	}
	if p.LinkedClaims90d != 0 {
		n := p.LinkedClaims90d
		f.LinkedClaims90d = &n
	}
	for i := range p.Tiers {
		t := &p.Tiers[i]
		f.Tiers[i] = tier{
			Name: &t.Name, MinAccountAgeDays: &t.MinAccountAgeDays,
			InstantLimits: limitsJSON(t.InstantLimits), RaisedLimits: limitsJSON(t.RaisedLimits),
		}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal policy: %w", err)
	}
	return append(b, '\n'), nil
}

func limitsJSON(m map[money.Currency]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for c, v := range m {
		out[c.String()] = v
	}
	return out
}

// collector gathers the file's own problems and the fields they name.
type collector struct {
	errs     []error
	reported map[string]bool
}

func (c *collector) add(field, code, message string) {
	c.errs = append(c.errs, validation.New(field, code, message))
	if c.reported == nil {
		c.reported = map[string]bool{}
	}
	c.reported[field] = true
}

// covers reports whether a problem with field, with a field it is in or
// with one inside it was already reported: a missing or unreadable setting
// is reported once, not again as out of range.
func (c *collector) covers(field string) bool {
	related := func(outer, inner string) bool {
		return outer == inner || strings.HasPrefix(inner, outer+".") || strings.HasPrefix(inner, outer+"[")
	}
	for f := range c.reported {
		if related(f, field) || related(field, f) {
			return true
		}
	}
	return false
}

func (c *collector) str(field string, s *string) string {
	if s == nil {
		c.add(field, "required", "is required")
		return ""
	}
	return *s
}

func (c *collector) num(field string, n *int) int {
	if n == nil {
		c.add(field, "required", "is required")
		return 0
	}
	return *n
}

func (c *collector) limits(field string, m map[string]int64) map[money.Currency]int64 {
	if m == nil {
		c.add(field, "required", "is required")
		return nil
	}
	out := make(map[money.Currency]int64, len(m))
	for _, code := range sortedKeys(m) {
		cur, err := money.ParseCurrency(code)
		if err != nil {
			c.add(field+"."+code, "unknown_currency", "is not an ISO 4217 currency this engine handles")
			continue
		}
		out[cur] = m[code]
	}
	return out
}

// unknownFields returns a problem (code unknown_field) for every key of
// doc, at any depth, that the format does not have, named by its path
// ("tiers[1].limit"). Names match exactly, as the format spells them.
// A doc that is not JSON has none: the decoder reports it.
func unknownFields(doc []byte) []error {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil
	}
	var errs []error
	var walk func(v any, t reflect.Type, path string)
	walk = func(v any, t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			m, _ := v.(map[string]any)
			fields := jsonFields(t)
			for _, k := range sortedKeys(m) {
				ft, ok := fields[k]
				if !ok {
					errs = append(errs, validation.New(joinPath(path, k), "unknown_field", "is not a setting of the policy (names are case-sensitive)"))
					continue
				}
				walk(m[k], ft, joinPath(path, k))
			}
		case reflect.Map:
			m, _ := v.(map[string]any)
			for _, k := range sortedKeys(m) {
				walk(m[k], t.Elem(), joinPath(path, k))
			}
		case reflect.Slice:
			a, _ := v.([]any)
			for i, e := range a {
				walk(e, t.Elem(), validation.Indexed(path, i))
			}
		}
	}
	walk(v, reflect.TypeFor[file](), "")
	return errs
}

// jsonFields maps a struct's JSON names to their fields' types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		if name, _, _ := strings.Cut(sf.Tag.Get("json"), ","); name != "" && name != "-" {
			out[name] = sf.Type
		}
	}
	return out
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decodeError names the field of a JSON type error.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return validation.Newf(te.Field, "invalid_type", "has the wrong type: a JSON %s", te.Value)
	}
	return fmt.Errorf("policy: %w", err)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Codec reads and writes policy documents for the policy lab
// (policyflow.Codec): Parse with every problem named, Marshal as a file.
type Codec struct{}

// Parse implements policyflow.Codec.
func (Codec) Parse(doc []byte) (decision.Policy, error) { return Parse(bytes.NewReader(doc)) }

// Marshal implements policyflow.Codec.
func (Codec) Marshal(p decision.Policy) ([]byte, error) { return Marshal(p) }
