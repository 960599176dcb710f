package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// getWebhookEndpoint shows one endpoint, without its secret.
func (a *api) getWebhookEndpoint(c echo.Context) error {
	e, err := a.Webhooks.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newWebhookEndpointDTO(e, a.Now()))
}
