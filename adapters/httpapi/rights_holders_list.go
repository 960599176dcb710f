package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

func (a *api) listRightsHolderRatings(c echo.Context) error {
	ctx := intelflow.WithRequestID(c.Request().Context(), c.Response().Header().Get(echo.HeaderXRequestID))
	rs, err := a.Intel.Ratings(ctx, viewer(c))
	if err != nil {
		return err
	}
	type row struct {
		Subject string `json:"subject"`
		ratingDTO
	}
	out := make([]row, len(rs))
	for i, r := range rs {
		out[i] = row{Subject: r.Subject, ratingDTO: newRatingDTO(r.Rating)}
	}
	return c.JSON(http.StatusOK, map[string]any{"rights_holders": out,
		"good_faith_per_mille": intel.GoodFaithPerMille, "good_faith_min_decided": intel.GoodFaithMinDecided})
}
