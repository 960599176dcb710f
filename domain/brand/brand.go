// Package brand holds a brand the platform protects and the rights
// holders who speak for it: the owners of the mark, or their agents, who
// will read what the engine learns about counterfeits of it.
//
//	b, err := brand.New(brand.Params{ID: "acme", Name: "Acme", RightsHolders: []string{"rh_acme_legal"}})
package brand

import (
	"fmt"

	"github.com/claimsd/claimsd/domain/validation"
)

// MaxRightsHolders is how many rights holders one brand may list.
const MaxRightsHolders = 50

// Params are the fields New validates.
type Params struct {
	ID   string
	Name string
	// RightsHolders are the subjects of the rights holders' tokens, in
	// the order given; none is allowed (a brand registered before anyone
	// speaks for it).
	RightsHolders []string
}

// Brand is a validated brand.
type Brand struct{ p Params }

// New validates p and returns the Brand; errors are *validation.Error
// naming the field, e.g. rights_holders[1].
func New(p Params) (*Brand, error) {
	if err := validation.CheckID("id", p.ID); err != nil {
		return nil, err
	}
	if err := validation.CheckText("name", p.Name, 1, 200); err != nil {
		return nil, err
	}
	if len(p.RightsHolders) > MaxRightsHolders {
		return nil, validation.Newf("rights_holders", "too_many", "must list at most %d rights holders", MaxRightsHolders)
	}
	seen := make(map[string]bool, len(p.RightsHolders))
	for i, sub := range p.RightsHolders {
		field := fmt.Sprintf("rights_holders[%d]", i)
		if err := validation.CheckID(field, sub); err != nil {
			return nil, err
		}
		if seen[sub] {
			return nil, validation.New(field, "duplicate", "is listed twice")
		}
		seen[sub] = true
	}
	p.RightsHolders = append([]string{}, p.RightsHolders...)
	return &Brand{p: p}, nil
}

// Rehydrate rebuilds a Brand read from the store.
func Rehydrate(p Params) *Brand {
	p.RightsHolders = append([]string{}, p.RightsHolders...)
	return &Brand{p: p}
}

// ID returns the platform's brand id.
func (b *Brand) ID() string { return b.p.ID }

// Name returns the brand's name.
func (b *Brand) Name() string { return b.p.Name }

// RightsHolders returns the rights holders' subjects, in the order given.
func (b *Brand) RightsHolders() []string { return append([]string{}, b.p.RightsHolders...) }

// HeldBy reports whether subject is one of the brand's rights holders.
func (b *Brand) HeldBy(subject string) bool {
	for _, s := range b.p.RightsHolders {
		if s == subject {
			return true
		}
	}
	return false
}
