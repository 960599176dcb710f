package brand_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/brand"
	"github.com/claimsd/claimsd/domain/validation"
)

func TestNew(t *testing.T) {
	t.Parallel()
	b, err := brand.New(brand.Params{ID: "acme", Name: "Acme", RightsHolders: []string{"rh_a", "rh_b"}})
	require.NoError(t, err)
	require.Equal(t, "acme", b.ID())
	require.Equal(t, "Acme", b.Name())
	require.Equal(t, []string{"rh_a", "rh_b"}, b.RightsHolders())
	require.True(t, b.HeldBy("rh_b"))
	require.False(t, b.HeldBy("rh_c"))

	none, err := brand.New(brand.Params{ID: "acme", Name: "Acme"})
	require.NoError(t, err)
	require.Empty(t, none.RightsHolders())

	fifty := make([]string, brand.MaxRightsHolders)
	for i := range fifty {
		fifty[i] = fmt.Sprintf("rh_%d", i)
	}
	_, err = brand.New(brand.Params{ID: "acme", Name: "Acme", RightsHolders: fifty})
	require.NoError(t, err)
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	many := make([]string, brand.MaxRightsHolders+1)
	for i := range many {
		many[i] = fmt.Sprintf("rh_%d", i)
	}
	for _, tt := range []struct {
		name      string
		give      brand.Params
		wantField string
		wantCode  string
	}{
		{"no id", brand.Params{Name: "Acme"}, "id", "required"},
		{"id with a space", brand.Params{ID: "ac me", Name: "Acme"}, "id", "invalid_id"},
		{"id too long", brand.Params{ID: strings.Repeat("a", 65), Name: "Acme"}, "id", "invalid_id"},
		{"no name", brand.Params{ID: "acme"}, "name", "required"},
		{"blank name", brand.Params{ID: "acme", Name: "  "}, "name", "required"},
		{"name too long", brand.Params{ID: "acme", Name: strings.Repeat("n", 201)}, "name", "too_long"},
		{"name with NUL", brand.Params{ID: "acme", Name: "Ac\x00me"}, "name", "invalid_text"},
		{"empty rights holder", brand.Params{ID: "acme", Name: "Acme", RightsHolders: []string{"rh_a", ""}}, "rights_holders[1]", "required"},
		{"bad rights holder", brand.Params{ID: "acme", Name: "Acme", RightsHolders: []string{"rh a"}}, "rights_holders[0]", "invalid_id"},
		{"duplicate rights holder", brand.Params{ID: "acme", Name: "Acme", RightsHolders: []string{"rh_a", "rh_b", "rh_a"}}, "rights_holders[2]", "duplicate"},
		{"too many rights holders", brand.Params{ID: "acme", Name: "Acme", RightsHolders: many}, "rights_holders", "too_many"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := brand.New(tt.give)
			var ve *validation.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tt.wantField, ve.Field)
			require.Equal(t, tt.wantCode, ve.Code)
		})
	}
}

func TestRightsHoldersAreCopied(t *testing.T) {
	t.Parallel()
	subs := []string{"rh_a"}
	b, err := brand.New(brand.Params{ID: "acme", Name: "Acme", RightsHolders: subs})
	require.NoError(t, err)
	subs[0] = "rh_z"
	got := b.RightsHolders()
	got[0] = "rh_y"
	require.Equal(t, []string{"rh_a"}, b.RightsHolders())
}
