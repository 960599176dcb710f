// Package brandflow runs the use cases of brands and their rights
// holders: the platform registers a brand with who speaks for it, and a
// rights holder reads the brands that list them.
//
//	svc := brandflow.NewService(store, time.Now)
//	b, created, err := svc.Put(ctx, brand.Params{ID: "acme", Name: "Acme", RightsHolders: []string{"rh_acme"}})
package brandflow

import (
	"context"
	"time"

	"github.com/claimsd/claimsd/domain/brand"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// Store keeps brands; pgstore.Store implements it.
type Store interface {
	// UpsertBrand creates b or replaces it and its rights holders.
	// Errors: claimflow.ErrUnavailable (wrapped).
	UpsertBrand(ctx context.Context, b *brand.Brand, now time.Time) (created bool, err error)
	// GetBrand returns one brand. Errors: *claimflow.NotFoundError,
	// claimflow.ErrUnavailable (wrapped).
	GetBrand(ctx context.Context, id string) (*brand.Brand, error)
}

// Service runs the brand use cases.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service on store; now is the clock (time.Now in
// production).
func NewService(store Store, now func() time.Time) *Service {
	return &Service{store: store, now: now}
}

// Put validates p and creates or replaces the brand. Errors:
// *validation.Error naming the field (rights_holders[1]), the store's.
func (s *Service) Put(ctx context.Context, p brand.Params) (*brand.Brand, bool, error) {
	b, err := brand.New(p)
	if err != nil {
		return nil, false, err
	}
	created, err := s.store.UpsertBrand(ctx, b, s.now().UTC())
	if err != nil {
		return nil, false, err
	}
	return b, created, nil
}

// View is a brand as one viewer may read it.
type View struct {
	ID, Name string
	// RightsHolders is nil for a viewer who may not read them: a rights
	// holder reads that the brand lists them, not who else speaks for
	// it (another firm's agents are not theirs to know).
	RightsHolders []string
}

// Get returns the brand id as v may read it. A rights holder reads only a
// brand that lists their subject; any other brand, existing or not, is
// the same *claimflow.NotFoundError, so its existence is not revealed. An
// id that could not name a brand is not found either.
func (s *Service) Get(ctx context.Context, v claimflow.Viewer, id string) (View, error) {
	notFound := &claimflow.NotFoundError{Resource: "brand", ID: id}
	if validation.CheckID("id", id) != nil {
		return View{}, notFound
	}
	b, err := s.store.GetBrand(ctx, id)
	if err != nil {
		return View{}, err
	}
	switch v.Role {
	case claimflow.RoleAdmin:
		return View{ID: b.ID(), Name: b.Name(), RightsHolders: b.RightsHolders()}, nil
	case claimflow.RoleRightsHolder:
		if b.HeldBy(v.Subject) {
			return View{ID: b.ID(), Name: b.Name()}, nil
		}
	}
	return View{}, notFound
}
