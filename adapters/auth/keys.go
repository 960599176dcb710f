// Package auth is how claimsd's bearer tokens are minted and checked: HS256
// with the engine's secrets (several, for rotation) and, when an identity
// provider's key set is configured, RS256 with its keys. The API checks
// bearer tokens with it and the console its sign-in links, so both read a
// token the same way.
//
//	keys := auth.Keys{Secret: secret}
//	raw, err := keys.Mint(claimflow.RoleAgent, "ana", time.Hour, time.Now())
//	tok, err := keys.Verify(raw, time.Now())
package auth

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

type tokenClaims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

// MintToken signs an HS256 token for role and subject, valid for ttl,
// issued by "claimsd" for no particular audience.
//
//	tok, err := auth.MintToken(secret, "shopper", "shp_alice", 24*time.Hour, time.Now())
func MintToken(secret []byte, role claimflow.Role, subject string, ttl time.Duration, now time.Time) (string, error) {
	return Keys{Secret: secret}.Mint(role, subject, ttl, now)
}

// DefaultIssuer is the iss tokens carry when Keys.Issuer is empty.
const DefaultIssuer = "claimsd"

// Keys are how tokens are signed and checked: HS256 with Secret; tokens
// signed with a Previous secret still verify (key rotation); iss must be
// Issuer (default "claimsd") and, when Audience is set, aud must name it.
// exp is required and nbf honoured; any algorithm but HS256 (none, RS256
// with the secret as a "public key") is refused, but RS256 with a JWKS.
type Keys struct {
	Secret   []byte
	Previous [][]byte
	Issuer   string
	Audience string
	// JWKS, when set, also admits RS256 tokens signed by one of its keys
	// (an identity provider's); claimsd itself mints only HS256.
	JWKS *JWKS
}

func (k Keys) issuer() string {
	if k.Issuer == "" {
		return DefaultIssuer
	}
	return k.Issuer
}

// Mint signs a token for role and subject, valid for ttl from now.
func (k Keys) Mint(role claimflow.Role, subject string, ttl time.Duration, now time.Time) (string, error) {
	return k.mint(role, subject, "", ttl, now)
}

func (k Keys) mint(role claimflow.Role, subject, id string, ttl time.Duration, now time.Time) (string, error) {
	if !role.Valid() {
		return "", fmt.Errorf("unknown role %q: use one of %s", role, claimflow.JoinRoles(claimflow.Roles, ", "))
	}
	if err := validation.CheckID("sub", subject); err != nil {
		return "", err
	}
	claims := tokenClaims{Role: string(role), RegisteredClaims: jwt.RegisteredClaims{
		ID:        id,
		Subject:   subject,
		Issuer:    k.issuer(),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}
	if k.Audience != "" {
		claims.Audience = jwt.ClaimStrings{k.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(k.Secret)
}
