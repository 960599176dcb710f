package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/policyflow"
)

// shadowReportView is a version's shadow decisions tallied against what
// the claims got, the report's figures beside the version's.
type shadowReportView struct {
	Version string     `json:"version"`
	Status  string     `json:"status"`
	Since   *time.Time `json:"since"` // when it last went into shadow; null when never
	*policyflow.ReportDoc
}

// getShadowReport tallies what a version decided in shadow, over every
// claim filed while it was, as a backtest's report does.
func (a *api) getShadowReport(c echo.Context) error {
	r, err := a.Policies.ShadowReport(c.Request().Context(), c.Param("version"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, shadowReportView{Version: r.Version.Version, Status: r.Version.Status.String(),
		Since: timeOrNil(r.Since), ReportDoc: r.Report})
}
