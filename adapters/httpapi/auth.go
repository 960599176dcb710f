package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// authenticate verifies the bearer token and stores the caller's Viewer.
// A missing, malformed, expired, not yet valid, wrongly signed or wrongly
// addressed token is 401.
func authenticate(k auth.Keys, now func() time.Time) echo.MiddlewareFunc {
	verify := k.Verifier(now)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			raw, msg := bearerToken(c.Request().Header.Values(echo.HeaderAuthorization))
			if msg != "" {
				return newError(http.StatusUnauthorized, "unauthenticated", msg, "")
			}
			tok, err := verify(raw)
			if err != nil {
				msg := auth.ErrTokenInvalid.Error()
				if errors.Is(err, auth.ErrTokenExpired) || errors.Is(err, auth.ErrTokenInvalid) {
					msg = err.Error() // each refusal says what was wrong
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
func allow(roles ...claimflow.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !slices.Contains(roles, viewer(c).Role) {
				return newError(http.StatusForbidden, "forbidden",
					fmt.Sprintf("this route is for the roles %s", claimflow.JoinRoles(roles, ", ")), "")
			}
			return next(c)
		}
	}
}
