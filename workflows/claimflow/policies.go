package claimflow

import "github.com/claimsd/claimsd/domain/decision"

// Policies is where the engine reads its decision policies while it runs,
// so a newly activated version decides the next claim without a restart
// (policyflow.Source is one, kept current from the store).
//
//	svc := claimflow.NewService(store, fallback, time.Now, claimflow.WithPolicies(src))
type Policies interface {
	// Active is the version that decides new claims now.
	Active() decision.Policy
	// Shadow is the version deciding beside it, recorded and never acted
	// on, if there is one.
	Shadow() (decision.Policy, bool)
	// Version returns a version by name, if the engine knows it.
	Version(v string) (decision.Policy, bool)
}

// activePolicy is src's active policy, or fixed without a source.
func activePolicy(fixed decision.Policy, src Policies) decision.Policy {
	if src != nil {
		return src.Active()
	}
	return fixed
}

// decidingPolicy is the policy that decided a claim (version v), which
// keeps what the claim's parties were told when it was decided (a
// seller's contest window, whether their standing protects them); the
// active one when the version is not known (a claim decided before
// policies were kept as records).
func decidingPolicy(fixed decision.Policy, src Policies, v string) decision.Policy {
	if src == nil {
		return fixed
	}
	if p, ok := src.Version(v); ok {
		return p
	}
	return src.Active()
}
