// Package seller holds a marketplace seller's risk profile: the facts the
// decision policy weighs when a shopper says the goods were fake.
package seller

import (
	"crypto/sha256"
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
	// Signals, when not nil, replace the seller's signals; nil keeps
	// them.
	Signals *Signals
}

// Seller is a validated seller profile.
type Seller struct {
	p       Params
	signals []Signal
}

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
	signals := p.Signals.list()
	for _, sg := range signals {
		if err := validation.CheckSignal("seller_signals."+sg.Kind, sg.Value); err != nil {
			return nil, err
		}
	}
	return &Seller{p: p, signals: signals}, nil
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

// Signals are what the platform knows about a seller that another seller
// may share (its business registration, the warehouse it ships from, the
// account it is paid into), each an opaque string the platform already
// hashed; nil when not sent. Sellers who share one are linked when
// counterfeit intelligence clusters them.
type Signals struct {
	Registration   *string
	Warehouse      *string
	PaymentAccount *string
}

// Signal is one signal of a seller, as the platform sent it.
type Signal struct {
	Kind  string // registration, warehouse or payment_account
	Value string
}

// SignalKinds lists the kinds of seller signal, in the order the API
// names them.
var SignalKinds = []string{"registration", "warehouse", "payment_account"}

// signalDomain prefixes what Digest hashes, so a seller's signal can never
// share a digest with a shopper's or with another kind's.
const signalDomain = "claimsd/seller-signal/v1\x00"

// Digest is what the engine keeps of the signal: SHA-256 over a fixed
// prefix, the kind and the value, never the value itself.
func (s Signal) Digest() []byte {
	h := sha256.New()
	h.Write([]byte(signalDomain))
	h.Write([]byte(s.Kind))
	h.Write([]byte{0})
	h.Write([]byte(s.Value))
	return h.Sum(nil)
}

func (s *Signals) list() []Signal {
	if s == nil {
		return nil
	}
	out := []Signal{}
	for i, v := range []*string{s.Registration, s.Warehouse, s.PaymentAccount} {
		if v != nil {
			out = append(out, Signal{Kind: SignalKinds[i], Value: *v})
		}
	}
	return out
}

// Signals returns the seller's signals as sent, in SignalKinds order, and
// whether any were sent at all: a seller put without seller_signals keeps
// the ones the engine holds, one put with an empty set clears them.
func (s *Seller) Signals() ([]Signal, bool) {
	return append([]Signal(nil), s.signals...), s.p.Signals != nil
}
