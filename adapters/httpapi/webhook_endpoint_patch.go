package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/webhookflow"
)

type webhookEndpointPatch struct {
	URL         *string  `json:"url"`
	Description *string  `json:"description"`
	EventTypes  []string `json:"event_types"`
	Enabled     *bool    `json:"enabled"`
}

// patchWebhookEndpoint changes an endpoint's url, description, types or
// whether it is enabled.
func (a *api) patchWebhookEndpoint(c echo.Context) error {
	var req webhookEndpointPatch
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.URL == nil && req.Description == nil && req.EventTypes == nil && req.Enabled == nil {
		return newError(http.StatusUnprocessableEntity, "empty_patch", "give at least one of url, description, event_types, enabled", "")
	}
	if req.EventTypes != nil && len(req.EventTypes) == 0 {
		return newError(http.StatusUnprocessableEntity, "required", "name at least one event type, or \"*\" for all", "event_types")
	}
	e, err := a.Webhooks.Update(c.Request().Context(), c.Param("id"), webhookflow.Patch{URL: req.URL, Description: req.Description,
		EventTypes: req.EventTypes, Enabled: req.Enabled})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newWebhookEndpointDTO(e, a.Now()))
}
