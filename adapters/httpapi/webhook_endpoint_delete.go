package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// deleteWebhookEndpoint removes an endpoint and its deliveries: nothing
// more is sent to it.
func (a *api) deleteWebhookEndpoint(c echo.Context) error {
	if err := a.Webhooks.Delete(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
