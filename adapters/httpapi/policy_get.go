package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
)

// policyBacktestsShown is how many of a version's latest runs its page
// lists; GET /v1/policies/{version}/backtests lists more.
const policyBacktestsShown = 10

type policyDetail struct {
	policyView
	Policy    json.RawMessage   `json:"policy"`
	Changes   []policyChangeDTO `json:"changes"`
	Backtests []backtestSummary `json:"backtests"`
}

// getPolicy shows a version: its document as stored, its audit trail
// (oldest first, with the changes that replaced it) and its latest runs.
func (a *api) getPolicy(c echo.Context) error {
	ctx := c.Request().Context()
	v, changes, err := a.Policies.Get(ctx, c.Param("version"))
	if err != nil {
		return err
	}
	runs, err := a.Policies.Backtests(ctx, v.Version, policyBacktestsShown)
	if err != nil {
		return err
	}
	out := policyDetail{policyView: newPolicyView(v), Policy: v.Document,
		Changes: make([]policyChangeDTO, len(changes)), Backtests: make([]backtestSummary, len(runs))}
	for i, ch := range changes {
		out.Changes[i] = newPolicyChangeDTO(ch)
	}
	for i, b := range runs {
		out.Backtests[i] = newBacktestSummary(b)
	}
	return c.JSON(http.StatusOK, out)
}
