package brandflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/brand"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/brandflow"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// memStore is a brandflow.Store in memory.
type memStore struct{ brands map[string]*brand.Brand }

func (m *memStore) UpsertBrand(_ context.Context, b *brand.Brand, _ time.Time) (bool, error) {
	_, had := m.brands[b.ID()]
	m.brands[b.ID()] = b
	return !had, nil
}

func (m *memStore) GetBrand(_ context.Context, id string) (*brand.Brand, error) {
	b, ok := m.brands[id]
	if !ok {
		return nil, &claimflow.NotFoundError{Resource: "brand", ID: id}
	}
	return b, nil
}

func TestGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := brandflow.NewService(&memStore{brands: map[string]*brand.Brand{}}, time.Now)
	_, created, err := svc.Put(ctx, brand.Params{ID: "acme", Name: "Acme", RightsHolders: []string{"rh_a", "rh_b"}})
	require.NoError(t, err)
	require.True(t, created)

	v, err := svc.Get(ctx, claimflow.Viewer{Role: claimflow.RoleAdmin, Subject: "root"}, "acme")
	require.NoError(t, err)
	require.Equal(t, brandflow.View{ID: "acme", Name: "Acme", RightsHolders: []string{"rh_a", "rh_b"}}, v)

	v, err = svc.Get(ctx, claimflow.Viewer{Role: claimflow.RoleRightsHolder, Subject: "rh_b"}, "acme")
	require.NoError(t, err)
	require.Equal(t, brandflow.View{ID: "acme", Name: "Acme"}, v, "a rights holder does not read the others")

	for _, tt := range []struct {
		name string
		give claimflow.Viewer
		id   string
	}{
		{"another rights holder", claimflow.Viewer{Role: claimflow.RoleRightsHolder, Subject: "rh_c"}, "acme"},
		{"enforcement", claimflow.Viewer{Role: claimflow.RoleEnforcement, Subject: "enf"}, "acme"},
		{"an agent", claimflow.Viewer{Role: claimflow.RoleAgent, Subject: "ana"}, "acme"},
		{"an id that cannot exist", claimflow.Viewer{Role: claimflow.RoleAdmin, Subject: "root"}, "a b"},
	} {
		_, err := svc.Get(ctx, tt.give, tt.id)
		var nf *claimflow.NotFoundError
		require.ErrorAs(t, err, &nf, tt.name)
		require.Equal(t, &claimflow.NotFoundError{Resource: "brand", ID: tt.id}, nf, "%s: answered as a brand that does not exist", tt.name)
	}

	_, _, err = svc.Put(ctx, brand.Params{ID: "acme", Name: "Acme", RightsHolders: []string{"rh_a", "rh_a"}})
	var ve *validation.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "rights_holders[1]", ve.Field)
	v, err = svc.Get(ctx, claimflow.Viewer{Role: claimflow.RoleAdmin, Subject: "root"}, "acme")
	require.NoError(t, err)
	require.Equal(t, []string{"rh_a", "rh_b"}, v.RightsHolders, "a refused Put changes nothing")
}
