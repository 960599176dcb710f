package httpapi_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"github.com/claimsd/claimsd/adapters/auth"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// identityProvider serves a JWK Set of the RSA keys it holds and signs
// tokens with them; it counts how often its set is fetched.
type identityProvider struct {
	srv     *httptest.Server
	fetches atomic.Int64
	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey
	extra   []map[string]string // other entries of the set, served as they are
}

func newIdentityProvider(t *testing.T) *identityProvider {
	t.Helper()
	p := &identityProvider{keys: map[string]*rsa.PrivateKey{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		var set struct {
			Keys []map[string]string `json:"keys"`
		}
		for kid, k := range p.keys {
			set.Keys = append(set.Keys, map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
		}
		set.Keys = append(set.Keys, p.extra...)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *identityProvider) addKey(t *testing.T, kid string) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	p.mu.Lock()
	p.keys[kid] = k
	p.mu.Unlock()
	return k
}

func rs256(t *testing.T, key *rsa.PrivateKey, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// TestRS256FromAnIdentityProvider: with a JWKS configured, RS256 tokens
// signed by the provider's keys pass (a new key is fetched when a token
// names it), HS256 tokens with the engine's secret still pass, and
// nothing else does: no kid, an unknown kid, a key not in the set, the
// provider's public key used as an HMAC secret, another issuer.
func TestRS256FromAnIdentityProvider(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	idp := newIdentityProvider(t)
	first := idp.addKey(t, "k1")
	clock := now
	var clockMu sync.Mutex
	jwks := auth.NewJWKS(idp.srv.URL, auth.JWKSOptions{MinRefresh: time.Minute, Now: func() time.Time {
		clockMu.Lock()
		defer clockMu.Unlock()
		return clock
	}})
	require.NoError(t, jwks.Refresh(t.Context()))
	e := httpapi.New(httpapi.Deps{Claims: claimflow.NewService(store, policyfile.Default(), time.Now),
		Secret: secret, Issuer: "market-idp", JWKS: jwks})
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		return claimsFor(now, func(c jwt.MapClaims) {
			c["iss"] = "market-idp"
			if edit != nil {
				edit(c)
			}
		})
	}

	require.Equal(t, http.StatusOK, reviewQueueAs(e, rs256(t, first, "k1", claims(nil))).Code)
	require.Equal(t, http.StatusOK, reviewQueueAs(e, hs256(t, secret, claims(nil))).Code, "the engine's own tokens still pass")

	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(&first.PublicKey)
	require.NoError(t, err)
	for name, tok := range map[string]string{
		"no kid":                            rs256(t, first, "", claims(nil)),
		"a key not in the set":              rs256(t, stranger, "k1", claims(nil)),
		"public key as HMAC secret":         hs256(t, pubDER, claims(nil)),
		"another issuer":                    rs256(t, first, "k1", claimsFor(now, nil)),
		"expired":                           rs256(t, first, "k1", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() })),
		"RS512 with the provider's own key": mustSign(t, jwt.SigningMethodRS512, first, "k1", claims(nil)),
	} {
		rec := reviewQueueAs(e, tok)
		require.Equal(t, http.StatusUnauthorized, rec.Code, "%s: %s", name, rec.Body)
	}

	// The provider rotates in a key: the first token naming it makes the
	// engine fetch the set again (the last fetch is a minute old).
	fetched := idp.fetches.Load()
	second := idp.addKey(t, "k2")
	rec := reviewQueueAs(e, rs256(t, second, "k2", claims(nil)))
	require.Equal(t, http.StatusUnauthorized, rec.Code, "within a minute of the last fetch, an unknown kid does not fetch again")
	require.Contains(t, rec.Body.String(), "not in the identity provider's key set")
	require.Equal(t, fetched, idp.fetches.Load())
	clockMu.Lock()
	clock = clock.Add(time.Minute)
	clockMu.Unlock()
	require.Equal(t, http.StatusOK, reviewQueueAs(e, rs256(t, second, "k2", claims(nil))).Code)
	require.Equal(t, fetched+1, idp.fetches.Load())

	// The provider goes away: the keys already fetched keep working.
	idp.srv.Close()
	clockMu.Lock()
	clock = clock.Add(time.Hour)
	clockMu.Unlock()
	require.Equal(t, http.StatusOK, reviewQueueAs(e, rs256(t, first, "k1", claims(nil))).Code)
}

func mustSign(t *testing.T, m jwt.SigningMethod, key *rsa.PrivateKey, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// TestJWKSRefusesBadSets: a set that is not JSON, holds no RSA signing
// key, or a key too short to trust, is refused, and the keys fetched
// before stay.
func TestJWKSRefusesBadSets(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	for name, body := range map[string]string{
		"not JSON": "<html>",
		"no keys":  `{"keys":[]}`,
		"only EC":  `{"keys":[{"kty":"EC","kid":"e1","crv":"P-256","x":"AA","y":"AA"}]}`,
		"short key": `{"keys":[{"kty":"RSA","kid":"s1","n":"` + base64.RawURLEncoding.EncodeToString(small.N.Bytes()) +
			`","e":"AQAB"}]}`,
		"bad base64": `{"keys":[{"kty":"RSA","kid":"b1","n":"***","e":"AQAB"}]}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) }))
		err := auth.NewJWKS(srv.URL, auth.JWKSOptions{}).Refresh(t.Context())
		srv.Close()
		require.Error(t, err, name)
	}
	down := httptest.NewServer(http.NotFoundHandler())
	defer down.Close()
	require.ErrorContains(t, auth.NewJWKS(down.URL, auth.JWKSOptions{}).Refresh(t.Context()), "answered 404")
}
