package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/workflows/claimflow"
)

// TestLimitGivesBackWhatFiledNothing: with a burst of two, requests that
// failed on our side (database away, a 500) or replayed a key leave the
// shopper's tokens alone; ones that filed or were refused as bad input
// spend them.
func TestLimitGivesBackWhatFiledNothing(t *testing.T) {
	t.Parallel()
	// The clock moves a millisecond per look, as a real one would: a
	// token given back after its reservation must still count.
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Millisecond)
		return now
	}
	a := &api{claimLimiter: NewClaimLimiter(1, 2, clock)}
	e := echo.New()
	call := func(h echo.HandlerFunc) (int, error) {
		c := e.NewContext(httptest.NewRequest(http.MethodPost, "/v1/claims", nil), httptest.NewRecorder())
		c.Set(viewerKeyName, claimflow.Viewer{Role: claimflow.RoleShopper, Subject: "shp_retry"})
		err := a.limitSubject(h)(c)
		if err != nil {
			return toAPIError(err).Status, err
		}
		return c.Response().Status, nil
	}
	unavailable := func(echo.Context) error { return fmt.Errorf("file claim: %w", claimflow.ErrUnavailable) }
	broken := func(echo.Context) error { return fmt.Errorf("unexpected") }
	replay := func(c echo.Context) error {
		c.Response().Header().Set(headerReplayed, "true")
		return c.NoContent(http.StatusCreated)
	}
	created := func(c echo.Context) error { return c.NoContent(http.StatusCreated) }
	invalid := func(echo.Context) error { return newError(http.StatusUnprocessableEntity, "invalid", "bad", "reason") }

	for range 20 {
		code, _ := call(unavailable)
		require.Equal(t, http.StatusServiceUnavailable, code)
		code, _ = call(broken)
		require.Equal(t, http.StatusInternalServerError, code)
		code, _ = call(replay)
		require.Equal(t, http.StatusCreated, code)
	}
	code, _ := call(created)
	require.Equal(t, http.StatusCreated, code, "the first of the burst")
	code, _ = call(invalid)
	require.Equal(t, http.StatusUnprocessableEntity, code, "the second of the burst, spent on bad input")
	code, err := call(created)
	require.Equal(t, http.StatusTooManyRequests, code, "the burst is spent: %v", err)
}
