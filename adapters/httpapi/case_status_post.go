package httpapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

type caseStatusRequest struct {
	Status string `json:"status"`
	Note   string `json:"note"`
}

func (a *api) postCaseStatus(c echo.Context) error {
	var req caseStatusRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := intelflow.WithRequestID(c.Request().Context(), c.Response().Header().Get(echo.HeaderXRequestID))
	cs, err := a.Intel.MoveCase(ctx, viewer(c), c.Param("id"), req.Status, req.Note)
	if errors.Is(err, intelflow.ErrCaseMoved) {
		// Another move won the race: the caller decided on a status
		// that is no longer the case's.
		return newError(http.StatusConflict, "case_moved",
			"the case's status changed while this move was made; read the case again and decide anew", "status")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, export.NewCaseSummary(cs))
}
