package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/intelflow"
)

type accessDTO struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	Role      string         `json:"role"`
	Subject   string         `json:"subject"`
	Action    string         `json:"action"`
	Resource  string         `json:"resource"`
	Detail    map[string]any `json:"detail"`
	RequestID string         `json:"request_id"`
}

func (a *api) listAccessLog(c echo.Context) error {
	var before int64
	if s := c.QueryParam("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return newError(http.StatusBadRequest, "invalid_before", "must be an entry id from this log", "before")
		}
		before = n
	}
	limit := 0
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > intelflow.MaxLimit {
			return newError(http.StatusBadRequest, "invalid_limit", fmt.Sprintf("must be a whole number from 1 to %d", intelflow.MaxLimit), "limit")
		}
		limit = n
	}
	entries, err := a.Intel.AccessLog(c.Request().Context(), before, limit)
	if err != nil {
		return queryError(err)
	}
	out := make([]accessDTO, len(entries))
	for i, e := range entries {
		out[i] = accessDTO{ID: e.ID, At: e.At, Role: e.Role, Subject: e.Subject, Action: e.Action, Resource: e.Resource,
			Detail: e.Detail, RequestID: e.RequestID}
	}
	if limit == 0 {
		limit = intelflow.DefaultLimit
	}
	resp := map[string]any{"entries": out, "next_before": nil}
	if n := len(out); n > 0 && n == limit {
		resp["next_before"] = out[n-1].ID
	}
	return c.JSON(http.StatusOK, resp)
}
