// Package seller holds a marketplace seller's risk profile: the facts the
// decision policy weighs when a shopper says the goods were fake.
package seller

import (
	"strings"

	"github.com/claimsd/claimsd/domain/validation"
)

// HighRiskScore is where the default policy starts to treat a seller as
// high risk; the policy file may choose another threshold.
const HighRiskScore = 70

// Params are the fields New validates.
type Params struct {
	ID            string
	Name          string
	RiskScore     int // 0–100, higher is riskier
	Verified      bool
	StripeAccount string // optional Connect account, acct_…
}

// Seller is a validated seller profile.
type Seller struct{ p Params }

// New validates p and returns the Seller; errors are *validation.Error.
func New(p Params) (*Seller, error) {
	if err := validation.CheckID("id", p.ID); err != nil {
		return nil, err
	}
	if err := validation.CheckText("name", p.Name, 1, 200); err != nil {
		return nil, err
	}
	if p.RiskScore < 0 || p.RiskScore > 100 {
		return nil, validation.New("risk_score", "out_of_range", "must be between 0 and 100")
	}
	if p.StripeAccount != "" && (!strings.HasPrefix(p.StripeAccount, "acct_") || len(p.StripeAccount) > 255) {
		return nil, validation.New("stripe_account", "invalid_stripe_account", "must be a Stripe account id such as acct_1A2b3C")
	}
	return &Seller{p: p}, nil
}

// Rehydrate rebuilds a Seller read from the store.
func Rehydrate(p Params) *Seller { return &Seller{p: p} }

// ID returns the platform's seller id.
func (s *Seller) ID() string { return s.p.ID }

// Name returns the seller's display name.
func (s *Seller) Name() string { return s.p.Name }

// RiskScore returns 0–100, higher is riskier.
func (s *Seller) RiskScore() int { return s.p.RiskScore }

// Verified reports whether the platform verified the seller's identity.
func (s *Seller) Verified() bool { return s.p.Verified }

// StripeAccount returns the seller's Connect account id, or "".
func (s *Seller) StripeAccount() string { return s.p.StripeAccount }
