package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// listWebhookEndpoints lists every endpoint, without secrets.
func (a *api) listWebhookEndpoints(c echo.Context) error {
	es, err := a.Webhooks.List(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]webhookEndpointDTO, len(es))
	for i, e := range es {
		out[i] = newWebhookEndpointDTO(e, a.Now())
	}
	return c.JSON(http.StatusOK, map[string]any{"endpoints": out})
}
