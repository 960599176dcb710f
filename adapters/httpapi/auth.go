package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// Roles a token may carry.
const (
	RoleShopper = "shopper"
	RoleAgent   = "agent"
	RoleFinance = "finance"
	RoleAdmin   = "admin"
	RoleService = "service"
	// RoleSeller's subject is the seller's id.
	RoleSeller = "seller"
)

// Roles lists every role.
var Roles = []string{RoleShopper, RoleSeller, RoleAgent, RoleFinance, RoleAdmin, RoleService}

type tokenClaims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

// MintToken signs an HS256 token for role and subject, valid for ttl,
// issued by "claimsd" for no particular audience.
//
//	tok, err := httpapi.MintToken(secret, "shopper", "shp_alice", 24*time.Hour, time.Now())
func MintToken(secret []byte, role, subject string, ttl time.Duration, now time.Time) (string, error) {
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
func (k Keys) Mint(role, subject string, ttl time.Duration, now time.Time) (string, error) {
	return k.mint(role, subject, "", ttl, now)
}

func (k Keys) mint(role, subject, id string, ttl time.Duration, now time.Time) (string, error) {
	if !slices.Contains(Roles, role) {
		return "", fmt.Errorf("unknown role %q: use one of %s", role, strings.Join(Roles, ", "))
	}
	if err := validation.CheckID("sub", subject); err != nil {
		return "", err
	}
	claims := tokenClaims{Role: role, RegisteredClaims: jwt.RegisteredClaims{
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

// authenticate verifies the bearer token and stores the caller's Viewer.
// A missing, malformed, expired, not yet valid, wrongly signed or wrongly
// addressed token is 401.
func authenticate(k Keys, now func() time.Time) echo.MiddlewareFunc {
	verify := k.verifier(now)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			raw, msg := bearerToken(c.Request().Header.Values(echo.HeaderAuthorization))
			if msg != "" {
				return newError(http.StatusUnauthorized, "unauthenticated", msg, "")
			}
			tok, err := verify(raw)
			if err != nil {
				msg := ErrTokenInvalid.Error()
				var te *tokenError
				switch {
				case errors.Is(err, ErrTokenExpired):
					msg = ErrTokenExpired.Error()
				case errors.As(err, &te):
					msg = te.msg
				}
				return newError(http.StatusUnauthorized, "invalid_token", msg, "")
			}
			c.Set(viewerKeyName, claimflow.Viewer{Role: tok.Role, Subject: tok.Subject})
			return next(c)
		}
	}
}

// bearerToken reads the token from the Authorization header values as
// RFC 9110 (11.1, 11.4) and RFC 6750 write it: the scheme "Bearer" in any
// case, then one or more spaces, then the token. When there is none, msg
// says what to send.
func bearerToken(values []string) (raw, msg string) {
	const want = "send Authorization: Bearer <token>"
	switch len(values) {
	case 0:
		return "", want
	case 1:
	default:
		return "", "send one Authorization header: Bearer <token>"
	}
	scheme, rest, _ := strings.Cut(strings.TrimLeft(values[0], " \t"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", want
	}
	if raw = strings.Trim(rest, " \t"); raw == "" {
		return "", want
	}
	return raw, ""
}

const viewerKeyName = "claimsd.viewer"

func viewer(c echo.Context) claimflow.Viewer {
	v, _ := c.Get(viewerKeyName).(claimflow.Viewer)
	return v
}

// allow lets only the given roles through; others get 403.
func allow(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !slices.Contains(roles, viewer(c).Role) {
				return newError(http.StatusForbidden, "forbidden",
					fmt.Sprintf("this route is for the roles %s", strings.Join(roles, ", ")), "")
			}
			return next(c)
		}
	}
}
