package httpapi

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/finance"
)

// csvFormat reports whether the caller asked for CSV: ?format=csv or an
// Accept header naming text/csv. Errors: 422 for another format.
func csvFormat(c echo.Context) (bool, error) {
	switch f := c.QueryParam("format"); f {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
		return acceptsCSV(c.Request().Header.Values(echo.HeaderAccept)), nil
	default:
		return false, newError(http.StatusUnprocessableEntity, "invalid_format", "must be json or csv", "format")
	}
}

// acceptsCSV reports whether Accept headers name text/csv, in any case
// (media types are case-insensitive), with a weight above zero (q=0 means
// "not this").
func acceptsCSV(accept []string) bool {
	for _, h := range accept {
		for _, r := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(r))
			if err != nil || mt != "text/csv" {
				continue
			}
			if q, ok := params["q"]; ok {
				if w, err := strconv.ParseFloat(q, 64); err != nil || w <= 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

// exportQuery reads what a period's export is asked with: the format
// and the period, both required. Errors: 400 naming the parameter.
func exportQuery(c echo.Context) (bool, finance.Period, error) {
	asCSV, err := csvFormat(c)
	if err != nil {
		return false, finance.Period{}, queryError(err)
	}
	from, to, err := periodOf(c.QueryParam("from"), c.QueryParam("to"), true)
	if err != nil {
		return false, finance.Period{}, queryError(err)
	}
	p, err := finance.NewPeriod(from, to)
	if err != nil {
		return false, finance.Period{}, queryError(err)
	}
	return asCSV, p, nil
}

// streamCSV sends a CSV download whose rows rows writes to s.
func (a *api) streamCSV(c echo.Context, filename string, header []string, rows func(s *export.Stream) error) error {
	s, err := a.newStream(c, true, filename, header, nil, "")
	if err != nil {
		return err
	}
	if err := rows(s); err != nil {
		return s.Fail(queryError(err))
	}
	if err := s.Close(nil); err != nil {
		return s.Fail(err)
	}
	return nil
}

// exportLimit lets at most MaxExports exports run at once (each holds a
// database connection while it streams); the next is told to come back.
func (a *api) exportLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		release, ok := a.exportSlots.Take()
		if !ok {
			c.Response().Header().Set("Retry-After", "5")
			return newError(http.StatusTooManyRequests, "too_many_exports",
				fmt.Sprintf("%d exports are running, the most at once; retry shortly", a.exportSlots.Size()), "")
		}
		defer release()
		return next(c)
	}
}

// newStream starts an export (see package export): as CSV, filename names
// the download and header is its header record; as JSON, head holds the
// object's leading fields, up to the array named list.
func (a *api) newStream(c echo.Context, asCSV bool, filename string, header []string, head any, list string) (*export.Stream, error) {
	aborted := func(err error, rows int) {
		a.Logger.ErrorContext(c.Request().Context(), "export aborted", "route", c.Path(), "rows", rows, "err", err,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	if asCSV {
		return export.NewCSV(c.Response(), filename, header, aborted), nil
	}
	return export.NewJSON(c.Response(), head, list, aborted)
}
