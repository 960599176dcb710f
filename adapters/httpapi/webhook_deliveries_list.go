package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/webhookflow"
)

const defaultDeliveriesLimit = 50

// listWebhookDeliveries lists an endpoint's deliveries, newest first,
// each with its attempts (status codes, latency, the answer's first
// part) and, while pending, its next attempt.
func (a *api) listWebhookDeliveries(c echo.Context) error {
	var before int64
	if s := c.QueryParam("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 || strings.HasPrefix(s, "+") {
			return newError(http.StatusBadRequest, "invalid_before", "must be a delivery id from 1: the last id of the page before", "before")
		}
		before = n
	}
	limit := defaultDeliveriesLimit
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > webhookflow.MaxDeliveries || strings.HasPrefix(s, "+") {
			return newError(http.StatusBadRequest, "invalid_limit", fmt.Sprintf("must be a whole number from 1 to %d", webhookflow.MaxDeliveries), "limit")
		}
		limit = n
	}
	ds, err := a.Webhooks.Deliveries(c.Request().Context(), c.Param("id"), before, c.QueryParam("state"), limit)
	if err != nil {
		return queryError(err)
	}
	out := make([]webhookDeliveryDTO, len(ds))
	for i, d := range ds {
		out[i] = newWebhookDeliveryDTO(d)
	}
	var next *int64
	if len(ds) == limit {
		n := ds[len(ds)-1].ID
		next = &n
	}
	return c.JSON(http.StatusOK, map[string]any{"deliveries": out, "next_before": next})
}
