package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func (a *api) getBrand(c echo.Context) error {
	v, err := a.Brands.Get(c.Request().Context(), viewer(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newBrandResponse(v))
}
