package auth

import (
	"context"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// Token is what a verified token says about its bearer.
type Token struct {
	Role    claimflow.Role
	Subject string
	ID      string // jti; "" when the token has none
	Expires time.Time
}

// ErrTokenExpired and ErrTokenInvalid are what Verify refuses a token
// with: past its exp, or anything else (signature, algorithm, issuer,
// audience, not yet valid, no valid role or subject).
var (
	ErrTokenExpired = errors.New("the token has expired")
	ErrTokenInvalid = errors.New("the token is invalid")
)

// MintWithID is Mint with a token id (jti), for tokens that may be used
// once: the one who checks them records the id.
//
//	tok, err := keys.MintWithID("agent", "ana", id, 15*time.Minute, time.Now())
func (k Keys) MintWithID(role claimflow.Role, subject, id string, ttl time.Duration, now time.Time) (string, error) {
	return k.mint(role, subject, id, ttl, now)
}

// Verify checks raw as the API checks a bearer token and returns what it
// says. Errors: ErrTokenExpired, ErrTokenInvalid.
//
//	tok, err := keys.Verify(raw, time.Now())
func (k Keys) Verify(raw string, now time.Time) (Token, error) {
	return k.Verifier(func() time.Time { return now })(raw)
}

// Verifier returns a function that checks tokens on the clock now: HS256
// with the secrets, or RS256 with the identity provider's key named by
// kid when a JWKS is configured (each algorithm only with its own keys,
// so an RSA public key can never pass as an HMAC secret); exp required,
// nbf honoured, the issuer and (when set) the audience, a known role and
// a valid subject.
func (k Keys) Verifier(now func() time.Time) func(raw string) (Token, error) {
	methods := []string{"HS256"}
	if k.JWKS != nil {
		methods = append(methods, "RS256")
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithTimeFunc(now), jwt.WithExpirationRequired(),
		jwt.WithIssuer(k.issuer())}
	if k.Audience != "" {
		opts = append(opts, jwt.WithAudience(k.Audience))
	}
	parser := jwt.NewParser(opts...)
	secrets := jwt.VerificationKeySet{Keys: []jwt.VerificationKey{k.Secret}}
	for _, p := range k.Previous {
		secrets.Keys = append(secrets.Keys, p)
	}
	keyFor := func(t *jwt.Token) (any, error) {
		switch t.Method.Alg() {
		case "HS256":
			return secrets, nil
		case "RS256":
			kid, _ := t.Header["kid"].(string)
			if pub, ok := k.JWKS.key(context.Background(), kid); ok {
				return pub, nil
			}
			return nil, errUnknownKey
		}
		return nil, ErrTokenInvalid
	}
	return func(raw string) (Token, error) {
		var tc tokenClaims
		if _, err := parser.ParseWithClaims(raw, &tc, keyFor); err != nil {
			if errors.Is(err, jwt.ErrTokenExpired) {
				return Token{}, ErrTokenExpired
			}
			if errors.Is(err, jwt.ErrTokenNotValidYet) {
				return Token{}, errNotValidYet
			}
			if errors.Is(err, errUnknownKey) {
				return Token{}, errUnknownKey
			}
			return Token{}, ErrTokenInvalid
		}
		if !claimflow.Role(tc.Role).Valid() || validation.CheckID("sub", tc.Subject) != nil {
			return Token{}, errNoRoleOrSubject
		}
		t := Token{Role: claimflow.Role(tc.Role), Subject: tc.Subject, ID: tc.ID}
		if tc.ExpiresAt != nil {
			t.Expires = tc.ExpiresAt.Time
		}
		return t, nil
	}
}

// The refusals worded apart, each ErrTokenInvalid; their Error is the
// sentence a caller can be told.
var (
	errNotValidYet     = &tokenError{msg: "the token is not valid yet"}
	errNoRoleOrSubject = &tokenError{msg: "the token has no valid role or subject"}
	errUnknownKey      = &tokenError{msg: "the token's key (kid) is not in the identity provider's key set"}
)

type tokenError struct{ msg string }

func (e *tokenError) Error() string        { return e.msg }
func (e *tokenError) Is(target error) bool { return target == ErrTokenInvalid }
