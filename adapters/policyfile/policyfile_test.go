package policyfile_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
)

func TestDefault(t *testing.T) {
	t.Parallel()
	p := policyfile.Default()
	require.NoError(t, p.Validate())
	require.Equal(t, "2026-12-06.1", p.Version)
	require.Equal(t, 180, p.ClaimWindowDays[claim.ReasonCounterfeit])
	require.Equal(t, 60, p.ClaimWindowDays[claim.ReasonNotReceived])

	names := []string{}
	for _, tier := range p.Tiers {
		names = append(names, tier.Name)
		for _, code := range []string{"EUR", "USD", "GBP", "JPY"} {
			cur := money.MustCurrency(code)
			require.Contains(t, tier.InstantLimits, cur, "%s %s", tier.Name, code)
			require.Contains(t, tier.RaisedLimits, cur, "%s %s", tier.Name, code)
		}
	}
	require.Equal(t, []string{"new", "established", "trusted"}, names)
	require.Equal(t, int64(5000), p.Tiers[0].InstantLimits[money.MustCurrency("EUR")]) // 50.00 EUR
	require.Equal(t, int64(5000), p.Tiers[0].InstantLimits[money.MustCurrency("JPY")]) // 5000 yen

	// Each call is a fresh copy: changing one does not change the next.
	p.Tiers[0].InstantLimits[money.MustCurrency("EUR")] = 1
	require.Equal(t, int64(5000), policyfile.Default().Tiers[0].InstantLimits[money.MustCurrency("EUR")])
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	embedded, err := os.ReadFile("default.json")
	require.NoError(t, err)

	b, err := policyfile.Marshal(policyfile.Default())
	require.NoError(t, err)
	require.JSONEq(t, string(embedded), string(b))

	again, err := policyfile.Parse(bytes.NewReader(b))
	require.NoError(t, err)
	require.Equal(t, policyfile.Default(), again)
}

func TestLoad(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "policy.json")
	b, err := policyfile.Marshal(policyfile.Default())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, bytes.Replace(b, []byte(`"2026-12-06.1"`), []byte(`"ops-7"`), 1), 0o600))

	p, err := policyfile.Load(path)
	require.NoError(t, err)
	require.Equal(t, "ops-7", p.Version)

	_, err = policyfile.Load(filepath.Join(t.TempDir(), "missing.json"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// edit returns the default policy file with old replaced by new once.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	b, err := os.ReadFile("default.json")
	require.NoError(t, err)
	require.Contains(t, string(b), old)
	return strings.Replace(string(b), old, new, 1)
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give string
		want []string // each must appear in the error
	}{
		{"unknown top-level field", edit(t, `"version"`, `"colour": "red", "version"`),
			[]string{`colour: is not a setting of the policy`}},
		{"unknown tier field", edit(t, `"name": "new"`, `"name": "new", "limit": 3`),
			[]string{`tiers[0].limit: is not a setting of the policy`}},
		{"unknown review field", edit(t, `"sla_hours": 24,`, `"sla_hours": 24, "SLA_hours": 2,`),
			[]string{`review.counterfeit.SLA_hours: is not a setting of the policy`}},
		{"unknown currency", edit(t, `"JPY": 300000`, `"JPY": 300000, "XXX": 1`),
			[]string{"recent_refund_limits.XXX: is not an ISO 4217 currency"}},
		{"lower-case currency", edit(t, `"EUR": 5000,`, `"eur": 5000,`),
			[]string{"tiers[0].instant_limits.eur: is not an ISO 4217 currency"}},
		{"unknown claim reason", edit(t, `"damaged": 30`, `"damaged": 30, "broken": 9`),
			[]string{"claim_window_days.broken: is not a claim reason"}},
		{"negative limit", edit(t, `"EUR": 15000,
        "GBP": 15000,
        "JPY": 15000,
        "USD": 15000
      },
      "raised_limits"`, `"EUR": -1,
        "GBP": 15000,
        "JPY": 15000,
        "USD": 15000
      },
      "raised_limits"`),
			[]string{"tiers[1].instant_limits.EUR: must not be negative"}},
		{"missing version", edit(t, `"version": "2026-12-06.1",`, ``),
			[]string{"version: is required"}},
		{"empty version", edit(t, `"2026-12-06.1"`, `""`),
			[]string{"version: is required"}},
		{"missing wait may not default to zero", edit(t, `"not_received_min_wait_days": 7,`, ``),
			[]string{"not_received_min_wait_days: is required"}},
		{"wrong type in a tier", edit(t, `"min_account_age_days": 30`, `"min_account_age_days": 30.5`),
			[]string{"tiers.min_account_age_days: has the wrong type"}},
		{"wrong type", edit(t, `"frequent_claims_90d": 3`, `"frequent_claims_90d": "3"`),
			[]string{"frequent_claims_90d: has the wrong type"}},
		{"trailing data", edit(t, "3\n}", "3\n}\n{}"),
			[]string{"unexpected data after the policy object"}},
		{"unknown protect level", edit(t, `"creditable"
  ]`, `"creditable", "gold"
  ]`),
			[]string{"protect_levels[1]: is not a standing level"}},
		{"a high-risk seller cannot be protected", edit(t, `"creditable"
  ]`, `"creditable", "high_risk"
  ]`),
			[]string{"protect_levels[1]: high_risk sellers cannot be protected"}},
		{"negative linked-claims threshold", edit(t, `"linked_claims_90d": 3`, `"linked_claims_90d": -1`),
			[]string{"linked_claims_90d: must be between 0 (off) and 10000"}},
		{"trailing data after the last field", edit(t, "3\n}", "3\n}\n[]"),
			[]string{"unexpected data after the policy object"}},
		{"review rule for an unknown reason", edit(t, `"review": {`, `"review": {"broken": {"sla_hours": 5, "on_expiry": "approve"},`),
			[]string{"review.broken: is not a claim reason"}},
		{"review SLA out of range", edit(t, `"sla_hours": 24,`, `"sla_hours": 0,`),
			[]string{"review.counterfeit.sla_hours: must be between 1 and 720 hours"}},
		{"unknown expiry action", edit(t, `"on_expiry": "escalate"`, `"on_expiry": "ignore"`),
			[]string{"review.counterfeit.on_expiry: must be escalate or approve"}},
		{"review rule without an action", edit(t, `"sla_hours": 24,
      "on_expiry": "escalate"`, `"sla_hours": 24`),
			[]string{"review.counterfeit.on_expiry: is required"}},
		{"contest window too long", edit(t, `"contest_window_hours": 72`, `"contest_window_hours": 99999`),
			[]string{"contest_window_hours: must be between 1 and 2160 hours"}},
		{"contest window zero", edit(t, `"contest_window_hours": 72`, `"contest_window_hours": 0`),
			[]string{"contest_window_hours: must be at least 1 hour"}},
		{"not JSON", "version: 1", []string{"policy: invalid character"}},
		{"several problems at once", edit(t, `"high_risk_seller_score": 70`, `"high_risk_seller_score": 0, "frequent_claims_90d": 0`),
			[]string{"high_risk_seller_score: must be between 1 and 100", "frequent_claims_90d: must be at least 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := policyfile.Parse(strings.NewReader(tt.give))
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseReportsEachProblemOnce(t *testing.T) {
	t.Parallel()
	give := `{"version": "v", "claim_window_days": {}, "recent_refund_limits": {"EUR": 1},
		"tiers": [{"name": "new", "min_account_age_days": 0, "instant_limits": {"EUR": 1}}]}`
	_, err := policyfile.Parse(strings.NewReader(give))
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.ElementsMatch(t, []string{
		"claim_window_days.counterfeit: is required",
		"claim_window_days.not_as_described: is required",
		"claim_window_days.damaged: is required",
		"claim_window_days.not_received: is required",
		"not_received_min_wait_days: is required",
		"frequent_claims_90d: is required",
		"high_risk_seller_score: is required",
		"counterfeit_pattern_claims_90d: is required",
		"tiers[0].raised_limits: is required",
	}, lines)

	var ve *validation.Error
	require.True(t, errors.As(err, &ve))
	require.NotEmpty(t, ve.Field)
}

func TestParseTooLarge(t *testing.T) {
	t.Parallel()
	_, err := policyfile.Parse(strings.NewReader(`{"version":"` + strings.Repeat("a", policyfile.MaxSize) + `"}`))
	require.ErrorContains(t, err, "larger than")
}

// TestParseNamesUnknownFieldsWithTheOtherProblems: a misspelt setting is
// one problem among the others, each a *validation.Error naming its path,
// so a front door can list them all at once.
func TestParseNamesUnknownFieldsWithTheOtherProblems(t *testing.T) {
	t.Parallel()
	give := edit(t, `"frequent_claims_90d": 3`, `"frequent_claim_90d": 3, "high_risk_seller_score": 0`)
	give = strings.Replace(give, `"high_risk_seller_score": 70,`, ``, 1)
	give = strings.Replace(give, `"name": "new"`, `"name": "new", "Limit": 1`, 1)
	_, err := policyfile.Parse(strings.NewReader(give))
	require.Error(t, err)
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ve *validation.Error
		require.True(t, errors.As(e, &ve), "%v is not a *validation.Error", e)
		got = append(got, ve.Field+" "+ve.Code)
	}
	require.ElementsMatch(t, []string{
		"frequent_claim_90d unknown_field",
		"tiers[0].Limit unknown_field",
		"frequent_claims_90d required",
		"high_risk_seller_score out_of_range",
	}, got)
}
