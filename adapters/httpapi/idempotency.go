package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/claimflow"
)

// HeaderIdempotencyKey is the request header a client sets to make a
// creating POST safe to retry.
const HeaderIdempotencyKey = "Idempotency-Key"

// headerReplayed marks an answer given again for a repeated key.
const headerReplayed = "Idempotency-Replayed"

// idempotencyKey reads the request's Idempotency-Key for the application
// edge, which checks it and runs the request at most once per key; no
// header is the zero key. A key sent twice is refused: a proxy might keep
// either.
func idempotencyKey(c echo.Context) (claimflow.Key, error) {
	values := c.Request().Header.Values(HeaderIdempotencyKey)
	if len(values) > 1 {
		return claimflow.Key{}, newError(http.StatusBadRequest, "invalid_idempotency_key", "send one Idempotency-Key header", HeaderIdempotencyKey)
	}
	k := claimflow.Key{Door: claimflow.DoorAPI}
	if len(values) == 1 {
		k.Value = values[0]
	}
	return k, nil
}

// replayed marks the answer as a replay of an earlier request with the
// same key, when it is one.
func replayed(c echo.Context, again bool) {
	if again {
		c.Response().Header().Set(headerReplayed, "true")
	}
}
