package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/policyflow"
)

type policyDiffResponse struct {
	From    string                 `json:"from"`
	To      string                 `json:"to"`
	Changes []policyflow.DiffEntry `json:"changes"`
}

// getPolicyDiff compares a version with ?against= (the active version when
// absent): every setting that differs, by its path in the document.
func (a *api) getPolicyDiff(c echo.Context) error {
	// From the version compared with to this one: what it changes.
	base, v, d, err := a.Policies.Diff(c.Request().Context(), c.Param("version"), c.QueryParam("against"))
	if err != nil {
		return err
	}
	if d == nil {
		d = []policyflow.DiffEntry{}
	}
	return c.JSON(http.StatusOK, policyDiffResponse{From: base.Version, To: v.Version, Changes: d})
}
