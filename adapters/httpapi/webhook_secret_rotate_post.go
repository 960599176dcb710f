package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// postRotateWebhookSecret gives an endpoint a new secret, shown this
// once; the old one signs beside it for 24 hours.
func (a *api) postRotateWebhookSecret(c echo.Context) error {
	e, err := a.Webhooks.RotateSecret(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, newWebhookEndpointDTO(e, a.Now()))
}
