package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
)

// TestServeAcceptsTheIdentityProvidersTokens: `serve` with
// CLAIMSD_JWT_JWKS_URL admits an RS256 token the provider signed, and
// still refuses one signed by a key outside its set.
func TestServeAcceptsTheIdentityProvidersTokens(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"idp-1","n":%q,"e":"AQAB"}]}`,
			base64.RawURLEncoding.EncodeToString(key.N.Bytes()))
	}))
	t.Cleanup(idp.Close)
	url, cleanup, err := pgtest.Database(t.Context(), "cmd_jwks")
	require.NoError(t, err)
	t.Cleanup(cleanup)
	addr := freeAddr(t)
	child := startChild(t, "claimsd-jwks", map[string]string{
		"DATABASE_URL": url, "CLAIMSD_HTTP_ADDR": addr, "CLAIMSD_JWT_SECRET": procSecret,
		"CLAIMSD_DATA_DIR": t.TempDir(), "CLAIMSD_JWT_ISSUER": "https://idp.example", "CLAIMSD_JWT_JWKS_URL": idp.URL,
	})
	child.waitReady(t, addr)

	call := func(signer *rsa.PrivateKey) int {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"role": "agent", "sub": "ana",
			"iss": "https://idp.example", "exp": time.Now().Add(time.Hour).Unix()})
		tok.Header["kid"] = "idp-1"
		raw, err := tok.SignedString(signer)
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/review-queue", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+raw)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, call(key))
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, call(other))
	child.stop(t)
}
