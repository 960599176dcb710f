package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// Bounds of ?limit= on a version's runs.
const (
	defaultBacktestsListed = 20
	maxBacktestsListed     = 100
)

type backtestsResponse struct {
	Backtests []backtestView `json:"backtests"`
}

// listBacktests lists a version's latest runs, newest first (?limit=, 20
// by default, at most 100), each as GET /v1/policy-backtests/{id} shows it
// but without its report.
func (a *api) listBacktests(c echo.Context) error {
	limit := defaultBacktestsListed
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxBacktestsListed {
			return newError(http.StatusBadRequest, "invalid_limit", fmt.Sprintf("must be a whole number from 1 to %d", maxBacktestsListed), "limit")
		}
		limit = n
	}
	runs, err := a.Policies.Backtests(c.Request().Context(), c.Param("version"), limit)
	if err != nil {
		return err
	}
	out := backtestsResponse{Backtests: make([]backtestView, len(runs))}
	for i, b := range runs {
		v := newBacktestView(b)
		v.ReportDoc = nil
		out.Backtests[i] = v
	}
	return c.JSON(http.StatusOK, out)
}
