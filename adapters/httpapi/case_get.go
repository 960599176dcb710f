package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

func (a *api) getCase(c echo.Context) error {
	ctx := intelflow.WithRequestID(c.Request().Context(), c.Response().Header().Get(echo.HeaderXRequestID))
	cs, err := a.Intel.Case(ctx, viewer(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, export.NewCaseDetail(cs))
}
