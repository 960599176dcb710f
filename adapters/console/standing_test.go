package console_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/workflows/standingflow"
)

func TestSellerAndAgentSeeTheSellersStanding(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := b.clock.Now()
	id := b.chargedClaim(t, "sel_standing", now)
	sellerID := b.name("sel_standing")

	// Before the job ran for the seller, the page works the standing out.
	s := b.signIn(t, "seller", sellerID)
	r := b.do(t, http.MethodGet, "/console/seller", s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	sec := section(t, r.Body, "standing-h")
	require.Contains(t, sec, "Your standing:")
	require.Contains(t, sec, "worked out for this page")
	require.Contains(t, sec, "What would change it")

	// Kept by the job: the page says when, and no longer that it was
	// worked out for it.
	_, err := standingflow.NewService(store, b.clock.Now).Refresh(context.Background(), sellerID)
	require.NoError(t, err)
	r = b.do(t, http.MethodGet, "/console/seller", s.cookie, nil)
	sec = section(t, r.Body, "standing-h")
	require.NotContains(t, sec, "worked out for this page")

	// The agent reads the standing the decision read and the one now.
	a := b.signIn(t, "agent", "ana")
	r = b.do(t, http.MethodGet, "/console/claims/"+id, a.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	sec = section(t, r.Body, "seller-h")
	require.Contains(t, sec, "Standing when decided")
	require.Contains(t, sec, "Standing now")

	// Another seller's standing is not on anyone else's overview.
	other := b.signIn(t, "seller", b.name("sel_someone_else"))
	r = b.do(t, http.MethodGet, "/console/seller", other.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.NotContains(t, r.Body, sellerID)
}
