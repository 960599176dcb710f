package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

func (a *api) listCases(c echo.Context) error {
	ctx := intelflow.WithRequestID(c.Request().Context(), c.Response().Header().Get(echo.HeaderXRequestID))
	cases, err := a.Intel.Cases(ctx, viewer(c), c.QueryParam("status"))
	if err != nil {
		return queryError(err)
	}
	out := make([]export.CaseSummary, len(cases))
	for i, cs := range cases {
		out[i] = export.NewCaseSummary(cs)
	}
	return c.JSON(http.StatusOK, map[string]any{"cases": out})
}
