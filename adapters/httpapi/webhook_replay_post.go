package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

type webhookReplayRequest struct {
	From *string `json:"from"`
}

// postWebhookReplay queues again every kept event of the endpoint's types
// written since from: 202, the deliveries go out by the usual rules.
func (a *api) postWebhookReplay(c echo.Context) error {
	var req webhookReplayRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.From == nil {
		return newError(http.StatusUnprocessableEntity, "required", "is required: an RFC 3339 timestamp such as 2026-12-07T10:00:00Z", "from")
	}
	from, err := parseTime("from", req.From)
	if err != nil {
		return err
	}
	res, err := a.Webhooks.Replay(c.Request().Context(), c.Param("id"), *from)
	if err != nil {
		return err
	}
	body := map[string]any{"endpoint_id": c.Param("id"), "from": *from, "to": a.Now().UTC().Truncate(time.Microsecond),
		"queued": res.Queued, "oldest_kept": res.OldestKept}
	return c.JSON(http.StatusAccepted, body)
}
