package console_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/adapters/auth"

	"github.com/stretchr/testify/require"
)

// TestClaimLimitSharedWithTheAPI: the console's claim form and the API
// spend one allowance per shopper. With a burst of two, a claim through
// the form, the same form sent again (a replay, which spends nothing) and
// a claim through the API pass; a third claim through the form is refused
// with 429, Retry-After and the shopper's input kept, and files nothing;
// after three seconds (one claim's worth at 20 a minute) it passes.
func TestClaimLimitSharedWithTheAPI(t *testing.T) {
	t.Parallel()
	b := setupWithBurst(t, 2)
	shopper := b.name("shp_paced")
	s := b.signIn(t, "shopper", shopper)
	var orders []string
	for range 4 {
		orders = append(orders, b.shopperOrder(t, "sel_paced", shopper, sneakers(2000), 3*day, day))
	}

	firstKey, _ := b.newClaimForm(t, s)
	first := b.post(t, s, "/app/claims/new", claimForm(orders[0], firstKey))
	require.Equal(t, http.StatusSeeOther, first.Code, first.Body)
	again := b.post(t, s, "/app/claims/new", claimForm(orders[0], firstKey))
	require.Equal(t, http.StatusSeeOther, again.Code, again.Body)
	require.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"), "the same claim, not another")

	tok, err := auth.MintToken(secret, "shopper", shopper, time.Hour, b.clock.Now())
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/v1/claims", strings.NewReader(
		`{"order_id":"`+orders[1]+`","reason":"counterfeit","description":"Fake."}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())

	key, _ := b.newClaimForm(t, s)
	refused := b.post(t, s, "/app/claims/new", claimForm(orders[2], key))
	require.Equal(t, http.StatusTooManyRequests, refused.Code, refused.Body)
	require.Equal(t, "3", refused.Header.Get("Retry-After"))
	require.Contains(t, refused.Body, "You have sent several claims in a short time. Wait 3 seconds")
	require.Contains(t, refused.Body, "The logo is misprinted and the box has no serial number.", "what the shopper typed is kept")
	require.Len(t, b.shopperClaims(t, shopper), 2, "nothing was filed")

	b.clock.Add(3 * time.Second)
	ok := b.post(t, s, "/app/claims/new", claimForm(orders[2], key))
	require.Equal(t, http.StatusSeeOther, ok.Code, ok.Body)
	require.Len(t, b.shopperClaims(t, shopper), 3)
}
