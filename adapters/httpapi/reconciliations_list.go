package httpapi

import (
	"encoding/base64"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/financeflow"
)

type reconciliationListResponse struct {
	Data       []reconciliationDTO `json:"data"`
	NextCursor *string             `json:"next_cursor"`
}

// listReconciliations lists reconciliation runs, newest first.
func (a *api) listReconciliations(c echo.Context) error {
	limit, after, err := page(c)
	if err != nil {
		return err
	}
	runs, err := a.Finance.Runs(c.Request().Context(), financeflow.RunFilter{After: after, Limit: limit + 1})
	if err != nil {
		return err
	}
	out := reconciliationListResponse{Data: []reconciliationDTO{}}
	if len(runs) > limit {
		runs = runs[:limit]
		cur := base64.RawURLEncoding.EncodeToString([]byte(runs[limit-1].ID))
		out.NextCursor = &cur
	}
	for _, r := range runs {
		out.Data = append(out.Data, newReconciliationDTO(r))
	}
	return c.JSON(http.StatusOK, out)
}
