package httpapi

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

type exceptionResolutionRequest struct {
	Note string `json:"note"`
}

// postExceptionResolution marks a reconciliation exception resolved with
// the finance user's note.
func (a *api) postExceptionResolution(c echo.Context) error {
	var req exceptionResolutionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	// An item's seq is a PostgreSQL integer: 32 bits.
	seq, err := strconv.ParseInt(c.Param("seq"), 10, 32)
	if err != nil || seq < 1 {
		return newError(http.StatusNotFound, "exception_not_found", "no such exception: seq is a positive number from the run's exceptions", "seq")
	}
	it, err := a.Finance.ResolveException(c.Request().Context(), viewer(c), c.Param("id"), int(seq), req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newItemDTO(it))
}
