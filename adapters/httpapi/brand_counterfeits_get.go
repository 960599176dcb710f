package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

type groupDTO struct {
	Key      string          `json:"key"`
	Name     string          `json:"name,omitempty"`
	Claims   int64           `json:"claims"`
	Units    int64           `json:"units"`
	Shoppers int64           `json:"shoppers"`
	Amounts  []export.Amount `json:"amounts"`
}

func groupsDTO(gs []intelflow.Group) []groupDTO {
	out := make([]groupDTO, len(gs))
	for i, g := range gs {
		out[i] = groupDTO{Key: g.Key, Name: g.Name, Claims: g.Claims, Units: g.Units, Shoppers: g.Shoppers, Amounts: export.Amounts(g.Amounts)}
	}
	return out
}

type totalsDTO struct {
	Claims   int64            `json:"claims"`
	Shoppers int64            `json:"shoppers"`
	Units    int64            `json:"units"`
	Amounts  []export.Amount  `json:"amounts"`
	BySeller []groupDTO       `json:"by_seller"`
	BySKU    []groupDTO       `json:"by_sku"`
	ByMonth  []groupDTO       `json:"by_month"`
	ByStatus map[string]int64 `json:"by_status"`
}

type counterfeitsResponse struct {
	Brand      brandResponse `json:"brand"`
	From       time.Time     `json:"from"`
	To         time.Time     `json:"to"`
	Status     string        `json:"status"`
	Claims     []export.Line `json:"claims"`
	NextCursor *string       `json:"next_cursor"`
	Totals     totalsDTO     `json:"totals"`
}

// counterfeitQuery reads the query of a brand's counterfeits. Errors: 400
// naming the parameter.
func counterfeitQuery(c echo.Context) (intelflow.Query, error) {
	from, to, err := periodOf(c.QueryParam("from"), c.QueryParam("to"), false)
	if err != nil {
		return intelflow.Query{}, queryError(err)
	}
	q := intelflow.Query{From: from, To: to, Status: c.QueryParam("status"), Cursor: c.QueryParam("cursor")}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > intelflow.MaxLimit {
			return q, newError(http.StatusBadRequest, "invalid_limit", fmt.Sprintf("must be a whole number from 1 to %d", intelflow.MaxLimit), "limit")
		}
		q.Limit = n
	}
	return q, nil
}

func (a *api) getBrandCounterfeits(c echo.Context) error {
	asCSV, err := csvFormat(c)
	if err != nil {
		return queryError(err)
	}
	q, err := counterfeitQuery(c)
	if err != nil {
		return err
	}
	ctx := intelflow.WithRequestID(c.Request().Context(), c.Response().Header().Get(echo.HeaderXRequestID))
	v, id := viewer(c), c.Param("id")
	if asCSV {
		each, err := a.Intel.ExportCounterfeits(ctx, v, id, q)
		if err != nil {
			return queryError(err)
		}
		return a.streamCSV(c, "counterfeits-"+id+".csv", export.LineCSVHeader, func(s *export.Stream) error {
			return each(func(l intelflow.Line) error { return s.Row(nil, export.LineRecord(l)) })
		})
	}
	p, err := a.Intel.Counterfeits(ctx, v, id, q)
	if err != nil {
		return queryError(err)
	}
	resp := counterfeitsResponse{Brand: brandResponse{ID: p.BrandID, Name: p.BrandName}, From: p.Query.From, To: p.Query.To, Status: p.Query.Status,
		Claims: make([]export.Line, len(p.Lines)),
		Totals: totalsDTO{Claims: p.Totals.Claims, Shoppers: p.Totals.Shoppers, Units: p.Totals.Units,
			Amounts: export.Amounts(p.Totals.Amounts), BySeller: groupsDTO(p.Totals.BySeller), BySKU: groupsDTO(p.Totals.BySKU),
			ByMonth: groupsDTO(p.Totals.ByMonth), ByStatus: p.Totals.ByStatus}}
	for i, l := range p.Lines {
		resp.Claims[i] = export.NewLine(l)
	}
	if p.Next != "" {
		resp.NextCursor = &p.Next
	}
	return c.JSON(http.StatusOK, resp)
}
