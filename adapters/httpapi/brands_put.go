package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/brand"
	"github.com/claimsd/claimsd/workflows/brandflow"
)

type brandRequest struct {
	Name          string   `json:"name"`
	RightsHolders []string `json:"rights_holders"`
}

// brandResponse is a brand as the caller may read it: rights_holders is
// left out for a rights holder (see brandflow.View).
type brandResponse struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	RightsHolders *[]string `json:"rights_holders,omitempty"`
}

func (a *api) putBrand(c echo.Context) error {
	var req brandRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	b, created, err := a.Brands.Put(c.Request().Context(), brand.Params{ID: c.Param("id"), Name: req.Name, RightsHolders: req.RightsHolders})
	if err != nil {
		return err
	}
	return c.JSON(createdOrOK(created), newBrandResponse(brandflow.View{ID: b.ID(), Name: b.Name(), RightsHolders: b.RightsHolders()}))
}

func newBrandResponse(v brandflow.View) brandResponse {
	resp := brandResponse{ID: v.ID, Name: v.Name}
	if v.RightsHolders != nil {
		// Staff read an empty list as [], not as a field left out.
		resp.RightsHolders = &v.RightsHolders
	}
	return resp
}
