package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/eventflow"
)

// The feed's page sizes.
const (
	defaultEventsLimit = 100
	maxEventsLimit     = 500
)

// listEvents is the feed: the numbered events after a position, in
// order, so a consumer that keeps the last position it took catches up
// from there.
func (a *api) listEvents(c echo.Context) error {
	var after int64
	if s := c.QueryParam("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || strings.HasPrefix(s, "+") {
			return newError(http.StatusBadRequest, "invalid_after", "must be a whole number from 0: the position of the last event taken", "after")
		}
		after = n
	}
	var types []string
	if c.QueryParams().Has("types") {
		for t := range strings.SplitSeq(c.QueryParam("types"), ",") {
			if !slices.Contains(eventflow.Types, t) {
				return newError(http.StatusBadRequest, "invalid_types",
					fmt.Sprintf("%q is not an event type; give types from the catalogue, separated by commas: %s", t, strings.Join(eventflow.Types, ", ")), "types")
			}
			if !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
	}
	limit := defaultEventsLimit
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxEventsLimit || strings.HasPrefix(s, "+") {
			return newError(http.StatusBadRequest, "invalid_limit", fmt.Sprintf("must be a whole number from 1 to %d", maxEventsLimit), "limit")
		}
		limit = n
	}
	evs, err := a.Events.EventsAfter(c.Request().Context(), after, types, limit)
	if err != nil {
		return err
	}
	// Each event as every channel sends it (the stream, webhooks).
	out := make([]json.RawMessage, len(evs))
	for i, e := range evs {
		b, err := eventflow.Envelope(e)
		if err != nil {
			return err
		}
		out[i] = b
	}
	next := after
	if n := len(evs); n > 0 {
		next = evs[n-1].Position
	}
	return c.JSON(http.StatusOK, map[string]any{"events": out, "next_after": next})
}
