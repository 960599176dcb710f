package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/webhookflow"
)

type webhookEndpointRequest struct {
	URL         string   `json:"url"`
	EventTypes  []string `json:"event_types"`
	Description string   `json:"description"`
}

// postWebhookEndpoint registers an endpoint: 201 with its secret, shown
// this once.
func (a *api) postWebhookEndpoint(c echo.Context) error {
	var req webhookEndpointRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	e, err := a.Webhooks.Create(c.Request().Context(), viewer(c), webhookflow.Input{URL: req.URL, Description: req.Description, EventTypes: req.EventTypes})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/webhook-endpoints/"+e.ID)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, newWebhookEndpointDTO(e, a.Now()))
}
