package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

type verdictRequest struct {
	Verdict     string  `json:"verdict"`
	Note        string  `json:"note"`
	DocumentURL *string `json:"document_url"`
}

type verdictResponse struct {
	ClaimID string `json:"claim_id"`
	Brand   string `json:"brand"`
	export.LineVerdict
	Settled string `json:"settled"`
}

func (a *api) putVerdict(c echo.Context) error {
	var req verdictRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p := intel.VerdictParams{Verdict: req.Verdict, Note: req.Note}
	if req.DocumentURL != nil {
		p.DocumentURL = *req.DocumentURL
	}
	ctx := intelflow.WithRequestID(c.Request().Context(), c.Response().Header().Get(echo.HeaderXRequestID))
	v, created, err := a.Intel.PutVerdict(ctx, viewer(c), c.Param("id"), c.Param("claim_id"), p)
	if err != nil {
		return err
	}
	resp := verdictResponse{ClaimID: v.ClaimID, Brand: v.BrandID, Settled: settledNames[v.Settled],
		LineVerdict: export.LineVerdict{Verdict: v.Verdict.String(), Note: v.Note, Revisions: v.Revisions, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}}
	if v.DocumentURL != "" {
		resp.DocumentURL = &v.DocumentURL
	}
	return c.JSON(createdOrOK(created), resp)
}
