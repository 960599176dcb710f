package policyflow_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/workflows/policyflow"
)

func TestDiffDocuments(t *testing.T) {
	a := []byte(`{"version":"1","frequent_claims_90d":3,"tiers":[{"name":"new","instant_limits":{"EUR":5000}}],"protect_levels":["creditable"],"x":{"k":1}}`)
	b := []byte(`{"version":"2","frequent_claims_90d":4,"tiers":[{"name":"new","instant_limits":{"EUR":5000,"USD":100}}],"protect_levels":[],"y":true}`)
	d, err := policyflow.DiffDocuments(a, b)
	require.NoError(t, err)
	var paths []string
	for _, e := range d {
		paths = append(paths, e.Path)
	}
	require.Equal(t, []string{"frequent_claims_90d", "protect_levels", "protect_levels[0]", "tiers[0].instant_limits.USD", "x.k", "y"}, paths)
	require.JSONEq(t, "3", string(d[0].From))
	require.JSONEq(t, "4", string(d[0].To))
	require.Nil(t, d[3].From, "a setting only the second has")
	require.Nil(t, d[4].To, "a setting only the first has")

	same, err := policyflow.DiffDocuments(a, a)
	require.NoError(t, err)
	require.Empty(t, same)
	_, err = policyflow.DiffDocuments([]byte("{"), a)
	require.Error(t, err)
}
