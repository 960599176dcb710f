package httpapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

type itemListResponse struct {
	Data       []reconciliationItemDTO `json:"data"`
	NextCursor *string                 `json:"next_cursor"`
}

// listReconciliationItems pages through a run's items as JSON (?kind=
// one kind, or "exception" for all of them; ?open=true for unresolved
// exceptions), or streams them all as CSV.
func (a *api) listReconciliationItems(c echo.Context) error {
	asCSV, err := csvFormat(c)
	if err != nil {
		return queryError(err)
	}
	f := financeflow.ItemFilter{RunID: c.Param("id")}
	switch k := c.QueryParam("kind"); k {
	case "":
	case "exception":
		f.Exceptions = true
	default:
		kind, ok := finance.ParseItemKind(k)
		if !ok {
			return newError(http.StatusBadRequest, "invalid_kind", "must be exception or one of the item kinds, such as missing_at_provider", "kind")
		}
		f.Kinds = []finance.ItemKind{kind}
	}
	switch c.QueryParam("open") {
	case "", "false":
	case "true":
		f.Open = true
	default:
		return newError(http.StatusBadRequest, "invalid_open", "must be true or false", "open")
	}
	ctx := c.Request().Context()
	if asCSV {
		return a.streamCSV(c, "reconciliation-"+f.RunID+".csv", export.ItemHeader, func(s *export.Stream) error {
			return a.Finance.RunItems(ctx, f, func(it financeflow.RunItem) error { return s.ItemRow(nil, it) })
		})
	}
	limit, after, err := page(c)
	if err != nil {
		return err
	}
	if after != "" {
		// An item's seq is a PostgreSQL integer: 32 bits.
		n, err := strconv.ParseInt(after, 10, 32)
		if err != nil || n < 0 {
			return newError(http.StatusBadRequest, "invalid_cursor", "is not a cursor this API returned", "cursor")
		}
		f.AfterSeq = int(n)
	}
	f.Limit = limit + 1
	out := itemListResponse{Data: []reconciliationItemDTO{}}
	var last int
	err = a.Finance.RunItems(ctx, f, func(it financeflow.RunItem) error {
		if len(out.Data) == limit {
			cur := base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(last)))
			out.NextCursor = &cur
			return errEnough
		}
		out.Data = append(out.Data, newItemDTO(it))
		last = it.Seq
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
