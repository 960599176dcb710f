package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
)

// HeaderIdempotencyKey is the request header a client sets to make a
// creating POST safe to retry.
const HeaderIdempotencyKey = "Idempotency-Key"

// headerReplayed marks an answer given again for a repeated key.
const headerReplayed = "Idempotency-Replayed"

// respondCreated runs create at most once per Idempotency-Key and writes its
// result. req is the decoded request: its canonical JSON is hashed, so a
// retry that only reorders fields still replays. Without a key, create just
// runs.
func (a *api) respondCreated(c echo.Context, req any, create func(ctx context.Context) (int, any, error)) error {
	if len(c.Request().Header.Values(HeaderIdempotencyKey)) > 1 {
		return newError(http.StatusBadRequest, "invalid_idempotency_key", "send one Idempotency-Key header", HeaderIdempotencyKey)
	}
	key := c.Request().Header.Get(HeaderIdempotencyKey)
	if key == "" {
		status, resp, err := create(c.Request().Context())
		if err != nil {
			return err
		}
		return c.JSON(status, resp)
	}
	if len(key) > 255 {
		return newError(http.StatusBadRequest, "invalid_idempotency_key", "must be at most 255 characters", HeaderIdempotencyKey)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return newError(http.StatusBadRequest, "invalid_idempotency_key", "must be printable ASCII without spaces", HeaderIdempotencyKey)
		}
	}
	canon, err := json.Marshal(req)
	if err != nil {
		return err
	}
	h := sha256.New()
	h.Write([]byte(c.Request().Method + " " + c.Request().URL.Path + "\n"))
	h.Write(canon)
	v := viewer(c)
	status, body, replayed, err := a.Idempotency.Idempotent(c.Request().Context(), v.String(), key, h.Sum(nil),
		func(ctx context.Context) (int, []byte, error) {
			status, resp, err := create(ctx)
			if err != nil {
				return 0, nil, err
			}
			b, err := json.Marshal(resp)
			return status, b, err
		})
	if err != nil {
		return err
	}
	if replayed {
		c.Response().Header().Set(headerReplayed, "true")
	}
	return c.JSONBlob(status, body)
}
