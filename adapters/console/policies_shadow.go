package console

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

type policyShadowData struct {
	V policyflow.Version
	// InShadow: the version decides beside the active one now.
	InShadow bool
	Since    time.Time
	Report   *reportView
	Claims   changedList
	// At is when the figures were read.
	At time.Time
}

// policyShadowPage is the live report of what a version decided in
// shadow against what the claims got: the same matrix and consequences
// as a backtest's, read as the page opens.
func (c *console) policyShadowPage(ec echo.Context) error {
	ctx := ec.Request().Context()
	r, err := c.Policies.ShadowReport(ctx, ec.Param("version"))
	if err != nil {
		return err
	}
	self := policyPath(r.Version.Version) + "/shadow"
	d := policyShadowData{V: r.Version, InShadow: r.Version.Status == policylab.StatusShadow, Since: r.Since,
		Report: newReportView(r.Report, self), At: c.Now().UTC()}
	d.Claims, err = c.changedClaims(ec, self, func(q policyflow.ClaimQuery) ([]policyflow.ChangedClaim, error) {
		return c.Policies.ShadowClaims(ctx, r.Version.Version, q)
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if d.Claims.Err != "" {
		status = http.StatusBadRequest
	}
	return c.render(ec, status, "policy_shadow", pageData{Title: "Shadow report " + r.Version.Version, Data: d})
}
