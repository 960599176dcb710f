package intel_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/intel"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	cl := func(sellers ...string) intel.Cluster { return intel.Cluster{Sellers: sellers} }
	for _, tt := range []struct {
		name       string
		give       []intel.Cluster
		giveStored []intel.StoredCase // oldest first
		want       []string
	}{
		{
			name: "nothing stored: every cluster is new",
			give: []intel.Cluster{cl("a", "b"), cl("c")},
			want: []string{"", ""},
		},
		{
			name:       "a ring that grew continues its case",
			give:       []intel.Cluster{cl("a", "b", "c")},
			giveStored: []intel.StoredCase{{ID: "case_1", Sellers: []string{"a", "b"}}},
			want:       []string{"case_1"},
		},
		{
			name: "two rings merged continue the oldest case",
			give: []intel.Cluster{cl("a", "b", "c", "d")},
			giveStored: []intel.StoredCase{
				{ID: "case_old", Sellers: []string{"c", "d"}},
				{ID: "case_new", Sellers: []string{"a", "b"}},
			},
			want: []string{"case_old"},
		},
		{
			name: "two clusters sharing one stored case: only the first gets it",
			give: []intel.Cluster{cl("b"), cl("a")},
			giveStored: []intel.StoredCase{
				{ID: "case_1", Sellers: []string{"a", "b"}},
			},
			want: []string{"case_1", ""},
		},
		{
			name: "the second cluster takes the next oldest case it shares a seller with",
			give: []intel.Cluster{cl("a", "b"), cl("b", "c")},
			giveStored: []intel.StoredCase{
				{ID: "case_1", Sellers: []string{"b"}},
				{ID: "case_2", Sellers: []string{"x"}},
				{ID: "case_3", Sellers: []string{"b", "c"}},
			},
			want: []string{"case_1", "case_3"},
		},
		{
			name:       "a cluster sharing no seller is new",
			give:       []intel.Cluster{cl("a"), cl("z")},
			giveStored: []intel.StoredCase{{ID: "case_1", Sellers: []string{"a"}}},
			want:       []string{"case_1", ""},
		},
		{
			name: "a seller listed twice in a stored case",
			give: []intel.Cluster{cl("a"), cl("a", "q")},
			giveStored: []intel.StoredCase{
				{ID: "case_1", Sellers: []string{"a", "a"}},
				{ID: "case_2", Sellers: []string{"a"}},
			},
			want: []string{"case_1", "case_2"},
		},
		{
			name:       "no clusters",
			giveStored: []intel.StoredCase{{ID: "case_1", Sellers: []string{"a"}}},
			want:       []string{},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, intel.Match(tt.give, tt.giveStored))
		})
	}
}
