package httpapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// MaxPageSize is the largest page a list returns.
const MaxPageSize = claimflow.MaxPageSize

type listResponse[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func (a *api) listClaims(c echo.Context) error {
	v := viewer(c)
	f := claimflow.ClaimFilter{SellerID: c.QueryParam("seller_id")}
	if s := c.QueryParam("status"); s != "" {
		st, err := claim.ParseStatus(s)
		if err != nil {
			return newError(http.StatusBadRequest, "invalid_status", "is not a claim status", "status")
		}
		f.Status = &st
	}
	if f.SellerID != "" {
		if err := validation.CheckID("seller_id", f.SellerID); err != nil {
			return newError(http.StatusBadRequest, err.Code, err.Message, err.Field)
		}
	}
	var err error
	if f.CreatedFrom, err = queryTime(c, "created_from"); err != nil {
		return err
	}
	if f.CreatedTo, err = queryTime(c, "created_to"); err != nil {
		return err
	}
	if f.Limit, f.After, err = page(c); err != nil {
		return err
	}
	recs, next, err := a.Claims.List(c.Request().Context(), v, f)
	if err != nil {
		return err
	}
	out := listResponse[claimResponse]{Data: make([]claimResponse, 0, len(recs))}
	for _, r := range recs {
		out.Data = append(out.Data, newClaimResponse(r, v, a.Claims.Now()))
	}
	if next != "" {
		cur := base64.RawURLEncoding.EncodeToString([]byte(next))
		out.NextCursor = &cur
	}
	return c.JSON(http.StatusOK, out)
}

func queryTime(c echo.Context, name string) (*time.Time, error) {
	s := c.QueryParam(name)
	if s == "" {
		return nil, nil
	}
	t, err := parseTime(name, &s)
	if err != nil {
		ae := toAPIError(err)
		ae.Status = http.StatusBadRequest
		return nil, ae
	}
	return t, nil
}

// pageLimit reads ?limit=: 50 when absent, at most MaxPageSize.
func pageLimit(c echo.Context) (int, error) {
	s := c.QueryParam("limit")
	if s == "" {
		return claimflow.DefaultPageSize, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, newError(http.StatusBadRequest, "invalid_limit", "must be a whole number from 1 to 200", "limit")
	}
	return n, nil
}

// page reads ?limit= and ?cursor=; the cursor is opaque to clients.
func page(c echo.Context) (int, string, error) {
	limit, err := pageLimit(c)
	if err != nil {
		return 0, "", err
	}
	var after string
	if s := c.QueryParam("cursor"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || validation.CheckID("cursor", string(b)) != nil {
			return 0, "", newError(http.StatusBadRequest, "invalid_cursor", "is not a cursor this API returned", "cursor")
		}
		after = string(b)
	}
	return limit, after, nil
}
