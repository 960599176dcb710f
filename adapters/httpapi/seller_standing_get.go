package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/workflows/standingflow"
)

type standingComponentDTO struct {
	Name       string `json:"name"`
	WindowDays int    `json:"window_days"`
	Count      int64  `json:"count"`
	Of         int64  `json:"of"`
	Low        int    `json:"low_per_mille"`
	High       int    `json:"high_per_mille"`
	Points     int    `json:"points"`
	Sentence   string `json:"sentence"`
}

type standingCountsDTO struct {
	Orders                int64 `json:"orders"`
	Claims                int64 `json:"claims"`
	Counterfeit           int64 `json:"counterfeit_claims"`
	ConfirmedCounterfeits int64 `json:"confirmed_counterfeits"`
	ContestsWon           int64 `json:"contests_won"`
	ContestsLost          int64 `json:"contests_lost"`
	Released              int64 `json:"charges_released"`
}

type standingWindowDTO struct {
	Days   int               `json:"days"`
	Counts standingCountsDTO `json:"counts"`
}

type standingChangeDTO struct {
	From  string    `json:"from"`
	To    string    `json:"to"`
	Score int       `json:"score"`
	Why   string    `json:"why"`
	At    time.Time `json:"at"`
}

// sellerStandingResponse is a seller's standing, explained.
type sellerStandingResponse struct {
	SellerID          string                 `json:"seller_id"`
	Level             string                 `json:"level"`
	Score             int                    `json:"score"`
	ComputedAt        time.Time              `json:"computed_at"`
	Current           bool                   `json:"current"`
	PlatformRiskScore int                    `json:"platform_risk_score"`
	Windows           []standingWindowDTO    `json:"windows"`
	Components        []standingComponentDTO `json:"components"`
	Next              []string               `json:"next"`
	History           []standingChangeDTO    `json:"history"`
}

func (a *api) getSellerStanding(c echo.Context) error {
	view, err := a.Standing.Get(c.Request().Context(), viewer(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newSellerStandingResponse(view))
}

func newSellerStandingResponse(v standingflow.View) sellerStandingResponse {
	st := v.Standing
	resp := sellerStandingResponse{
		SellerID: v.SellerID, Level: st.Level.String(), Score: st.Score, ComputedAt: st.ComputedAt,
		Current: v.Computed, PlatformRiskScore: v.Inputs.PlatformRiskScore,
		Windows: []standingWindowDTO{
			{Days: standing.RecentDays, Counts: countsDTO(v.Inputs.Recent)},
			{Days: standing.YearDays, Counts: countsDTO(v.Inputs.Year)},
		},
		Components: make([]standingComponentDTO, 0, len(st.Components)),
		Next:       append([]string{}, st.Next...),
		History:    make([]standingChangeDTO, 0, len(v.History)),
	}
	for _, cp := range st.Components {
		resp.Components = append(resp.Components, standingComponentDTO{
			Name: cp.Name, WindowDays: cp.WindowDays, Count: cp.Count, Of: cp.Of,
			Low: cp.Low, High: cp.High, Points: cp.Points, Sentence: cp.Sentence,
		})
	}
	for _, h := range v.History {
		resp.History = append(resp.History, standingChangeDTO{From: h.From.String(), To: h.To.String(), Score: h.Score, Why: h.Why, At: h.At})
	}
	return resp
}

func countsDTO(c standing.Counts) standingCountsDTO {
	return standingCountsDTO{Orders: c.Orders, Claims: c.Claims, Counterfeit: c.Counterfeit,
		ConfirmedCounterfeits: c.ConfirmedCounterfeits, ContestsWon: c.ContestsWon, ContestsLost: c.ContestsLost, Released: c.Released}
}
