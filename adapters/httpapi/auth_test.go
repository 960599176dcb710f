package httpapi_test

import (
	"crypto/rand"
	"crypto/rsa"
	"github.com/claimsd/claimsd/adapters/auth"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// claimsFor are an agent's token claims at now, for crafting tokens by
// hand.
func claimsFor(now time.Time, edit func(c jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"role": "agent", "sub": "ana", "iss": "claimsd",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if edit != nil {
		edit(c)
	}
	return c
}

func hs256(t *testing.T, key []byte, c jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
	require.NoError(t, err)
	return tok
}

// reviewQueueAs asks a route any agent may read, with tok, of router e.
func reviewQueueAs(e http.Handler, tok string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/v1/review-queue?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// TestTokensRefused: only an HS256 token signed with the engine's key,
// issued by claimsd, within its validity, passes.
func TestTokensRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := b.clock.Now()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claimsFor(now, nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	rs256, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claimsFor(now, nil)).SignedString(rsaKey)
	require.NoError(t, err)
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, claimsFor(now, nil)).SignedString(secret)
	require.NoError(t, err)
	tests := []struct {
		name    string
		give    string
		wantMsg string
	}{
		{name: "alg none", give: none},
		{name: "RS256 (algorithm confusion)", give: rs256},
		{name: "HS512", give: hs512},
		{name: "another key", give: hs256(t, []byte("another-secret-another-secret-123"), claimsFor(now, nil))},
		{name: "expired", give: hs256(t, secret, claimsFor(now, func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Second).Unix() })), wantMsg: "the token has expired"},
		{name: "no expiry", give: hs256(t, secret, claimsFor(now, func(c jwt.MapClaims) { delete(c, "exp") }))},
		{name: "not valid yet", give: hs256(t, secret, claimsFor(now, func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() })), wantMsg: "the token is not valid yet"},
		{name: "another issuer", give: hs256(t, secret, claimsFor(now, func(c jwt.MapClaims) { c["iss"] = "someone-else" }))},
		{name: "no issuer", give: hs256(t, secret, claimsFor(now, func(c jwt.MapClaims) { delete(c, "iss") }))},
		{name: "unknown role", give: hs256(t, secret, claimsFor(now, func(c jwt.MapClaims) { c["role"] = "root" }))},
		{name: "bad subject", give: hs256(t, secret, claimsFor(now, func(c jwt.MapClaims) { c["sub"] = "a b" }))},
		{name: "garbage", give: "not.a.token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := reviewQueueAs(b.e, tt.give)
			require.Equal(t, http.StatusUnauthorized, rec.Code, rec.Body.String())
			require.Contains(t, rec.Body.String(), `"code":"invalid_token"`)
			require.Equal(t, `Bearer realm="claimsd"`, rec.Header().Get("WWW-Authenticate"))
			if tt.wantMsg != "" {
				require.Contains(t, rec.Body.String(), tt.wantMsg)
			}
		})
	}
	ok := reviewQueueAs(b.e, hs256(t, secret, claimsFor(now, func(c jwt.MapClaims) { c["nbf"] = now.Add(-time.Minute).Unix() })))
	require.Equal(t, http.StatusOK, ok.Code, "a token past its nbf passes: %s", ok.Body)
}

// TestBearerScheme reads Authorization as RFC 9110 writes it: the scheme
// in any case, one or more spaces before the token.
func TestBearerScheme(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.token(t, "agent", "ana")
	tests := []struct {
		name     string
		give     []string // Authorization values
		wantCode int
		wantErr  string
	}{
		{name: "as written", give: []string{"Bearer " + tok}, wantCode: 200},
		{name: "lower case", give: []string{"bearer " + tok}, wantCode: 200},
		{name: "upper case", give: []string{"BEARER " + tok}, wantCode: 200},
		{name: "spaces between", give: []string{"Bearer    " + tok}, wantCode: 200},
		{name: "spaces around", give: []string{"  Bearer " + tok + "  "}, wantCode: 200},
		{name: "none", wantCode: 401, wantErr: "unauthenticated"},
		{name: "another scheme", give: []string{"Basic " + tok}, wantCode: 401, wantErr: "unauthenticated"},
		{name: "scheme only", give: []string{"Bearer"}, wantCode: 401, wantErr: "unauthenticated"},
		{name: "scheme and spaces", give: []string{"Bearer   "}, wantCode: 401, wantErr: "unauthenticated"},
		{name: "no space", give: []string{"Bearer" + tok}, wantCode: 401, wantErr: "unauthenticated"},
		{name: "a prefix of the scheme", give: []string{"Bear " + tok}, wantCode: 401, wantErr: "unauthenticated"},
		{name: "more after the token", give: []string{"Bearer " + tok + " " + tok}, wantCode: 401, wantErr: "invalid_token"},
		{name: "two headers", give: []string{"Bearer " + tok, "Bearer " + tok}, wantCode: 401, wantErr: "unauthenticated"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/v1/review-queue?limit=1", nil)
		for _, v := range tt.give {
			req.Header.Add("Authorization", v)
		}
		rec := httptest.NewRecorder()
		b.e.ServeHTTP(rec, req)
		require.Equal(t, tt.wantCode, rec.Code, "%s: %s", tt.name, rec.Body)
		if tt.wantErr != "" {
			e := response{Body: rec.Body.Bytes()}.errorOf(t)
			require.Equal(t, tt.wantErr, e["code"], tt.name)
			require.NotEmpty(t, e["message"], tt.name)
		}
	}
}

// TestKeyRotationAndAudience: after a rotation the previous secret still
// verifies while the new one signs; with an audience configured, tokens
// must name it.
func TestKeyRotationAndAudience(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	oldKey, newKey := []byte("old-secret-old-secret-old-secret!"), []byte("new-secret-new-secret-new-secret!")
	router := func(k auth.Keys) http.Handler {
		return httpapi.New(httpapi.Deps{Claims: claimflow.NewService(store, policyfile.Default(), time.Now),
			Secret: k.Secret, PreviousSecrets: k.Previous, Issuer: k.Issuer, Audience: k.Audience})
	}
	rotated := router(auth.Keys{Secret: newKey, Previous: [][]byte{oldKey}})
	mint := func(k auth.Keys) string {
		tok, err := k.Mint("agent", "ana", time.Hour, now)
		require.NoError(t, err)
		return tok
	}
	require.Equal(t, http.StatusOK, reviewQueueAs(rotated, mint(auth.Keys{Secret: newKey})).Code)
	require.Equal(t, http.StatusOK, reviewQueueAs(rotated, mint(auth.Keys{Secret: oldKey})).Code, "the previous key still verifies")
	require.Equal(t, http.StatusUnauthorized, reviewQueueAs(router(auth.Keys{Secret: newKey}), mint(auth.Keys{Secret: oldKey})).Code,
		"once retired it does not")

	aud := router(auth.Keys{Secret: newKey, Issuer: "market-idp", Audience: "claimsd-eu"})
	require.Equal(t, http.StatusOK, reviewQueueAs(aud, mint(auth.Keys{Secret: newKey, Issuer: "market-idp", Audience: "claimsd-eu"})).Code)
	for name, k := range map[string]auth.Keys{
		"no audience":    {Secret: newKey, Issuer: "market-idp"},
		"other audience": {Secret: newKey, Issuer: "market-idp", Audience: "claimsd-us"},
		"default issuer": {Secret: newKey, Audience: "claimsd-eu"},
	} {
		require.Equal(t, http.StatusUnauthorized, reviewQueueAs(aud, mint(k)).Code, name)
	}
}

// TestClaimRateLimit: a shopper who files claims faster than the limit
// gets 429 with Retry-After, and nothing is filed; others are unaffected,
// and the shopper may file again once the bucket refills.
func TestClaimRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	clk := &clock{t: b.now}
	e := httpapi.New(httpapi.Deps{Claims: claimflow.NewService(store, policyfile.Default(), clk.Now,
		claimflow.WithLimiter(claimflow.NewClaimLimiter(6, 2, clk.Now))), Secret: secret, Now: clk.Now})
	post := func(shopper, orderID string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/claims", strings.NewReader(
			`{"order_id":"`+orderID+`","reason":"damaged","description":"Arrived broken."}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+b.token(t, "shopper", shopper))
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	alice, bob := b.name("shp_fast"), b.name("shp_calm")
	sellerID := b.newSeller(t, "sel_rl")
	var orders []string
	for range 4 {
		cl := b.fileClaim(t, sellerID, b.name("shp_seed"), 1000, "") // an order per claim, for its id only
		orders = append(orders, cl["order_id"].(string))
	}
	// Two requests pass (the burst; these orders are not Alice's, so 404),
	// the third is refused before it reaches anything.
	for range 2 {
		require.Equal(t, http.StatusNotFound, post(alice, orders[0]).Code)
	}
	rec := post(alice, orders[0])
	require.Equal(t, http.StatusTooManyRequests, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), `"code":"rate_limited"`)
	require.Equal(t, "10", rec.Header().Get("Retry-After"))
	require.Equal(t, http.StatusNotFound, post(bob, orders[1]).Code, "another shopper is not limited")
	clk.Set(b.now.Add(10 * time.Second))
	require.Equal(t, http.StatusNotFound, post(alice, orders[2]).Code, "one more after ten seconds")
	require.Equal(t, http.StatusTooManyRequests, post(alice, orders[2]).Code)
}
