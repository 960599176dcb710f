package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func (a *api) listBrands(c echo.Context) error {
	brands, err := a.Intel.Brands(c.Request().Context(), viewer(c))
	if err != nil {
		return err
	}
	out := make([]brandResponse, len(brands))
	for i, b := range brands {
		out[i] = brandResponse{ID: b.ID, Name: b.Name}
	}
	return c.JSON(http.StatusOK, map[string]any{"brands": out})
}
