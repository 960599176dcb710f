package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// getBacktest shows a run: queued, running, completed (with its report)
// or failed (with why).
func (a *api) getBacktest(c echo.Context) error {
	b, err := a.Policies.Backtest(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newBacktestView(b))
}
