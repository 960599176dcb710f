package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// historyClaimDTO is one of someone's other claims.
type historyClaimDTO struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"created_at"`
}

// historyDTO summarises a shopper's or a seller's claims over the
// history window (90 days), this claim left out.
type historyDTO struct {
	Claims90d   int               `json:"claims_90d"`
	ByStatus    map[string]int    `json:"by_status"`
	Refunded90d []balanceDTO      `json:"refunded_90d"`
	Recent      []historyClaimDTO `json:"recent"`
}

type sellerProfileDTO struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	RiskScore int          `json:"risk_score"`
	Verified  bool         `json:"verified"`
	Owed      []balanceDTO `json:"owed"`
	History   historyDTO   `json:"history"`
}

type shopperProfileDTO struct {
	ID      string     `json:"id"`
	History historyDTO `json:"history"`
}

// claimDetailResponse is everything that led to a claim's decision and
// what happened since, for the agent deciding it.
type claimDetailResponse struct {
	Claim    claimResponse     `json:"claim"`
	Timeline []eventDTO        `json:"timeline"`
	Shopper  shopperProfileDTO `json:"shopper"`
	Seller   sellerProfileDTO  `json:"seller"`
	// Verdicts are the brands' rights holders' authentications of the
	// goods, each with how often that rights holder's verdicts held.
	Verdicts []claimVerdictDTO `json:"verdicts"`
}

type claimVerdictDTO struct {
	Brand   string `json:"brand"`
	Subject string `json:"rights_holder"`
	export.LineVerdict
	Rating ratingDTO `json:"rating"`
}

func (a *api) getClaimDetail(c echo.Context) error {
	v := viewer(c)
	d, err := a.Claims.Detail(c.Request().Context(), v, c.Param("id"))
	if err != nil {
		return err
	}
	resp := claimDetailResponse{
		Claim:    newClaimResponse(d.Record, v, a.Claims.Now()),
		Timeline: make([]eventDTO, 0, len(d.Events)),
		Shopper:  shopperProfileDTO{ID: d.Record.Claim.ShopperID(), History: newHistoryDTO(d.Shopper)},
		Seller: sellerProfileDTO{
			ID: d.SellerProfile.ID(), Name: d.SellerProfile.Name(), RiskScore: d.SellerProfile.RiskScore(),
			Verified: d.SellerProfile.Verified(), Owed: balances(d.SellerOwed), History: newHistoryDTO(d.Seller),
		},
	}
	for i, ev := range d.Events {
		if e, ok := newEventDTO(i+1, ev, v); ok {
			resp.Timeline = append(resp.Timeline, e)
		}
	}
	resp.Verdicts = []claimVerdictDTO{}
	if a.Intel != nil {
		vs, err := a.Intel.ClaimVerdicts(c.Request().Context(), d.Record.Claim.ID())
		if err != nil {
			return err
		}
		for _, rv := range vs {
			dto := claimVerdictDTO{Brand: rv.BrandID, Subject: rv.Subject, Rating: newRatingDTO(rv.Rating),
				LineVerdict: export.LineVerdict{Verdict: rv.Verdict.Verdict.String(), Note: rv.Note, Revisions: rv.Revisions,
					CreatedAt: rv.CreatedAt, UpdatedAt: rv.UpdatedAt}}
			if rv.DocumentURL != "" {
				doc := rv.DocumentURL
				dto.DocumentURL = &doc
			}
			resp.Verdicts = append(resp.Verdicts, dto)
		}
	}
	return c.JSON(http.StatusOK, resp)
}

func newHistoryDTO(h claimflow.History) historyDTO {
	out := historyDTO{Claims90d: h.Claims, ByStatus: h.ByStatus, Refunded90d: balances(h.Refunded), Recent: []historyClaimDTO{}}
	if out.ByStatus == nil {
		out.ByStatus = map[string]int{}
	}
	for _, r := range h.Recent {
		cl := r.Claim
		out.Recent = append(out.Recent, historyClaimDTO{
			ID: cl.ID(), Status: cl.Status().String(), Reason: cl.Reason().String(),
			Amount: cl.Amount().Amount(), Currency: cl.Amount().Currency().String(), CreatedAt: cl.CreatedAt(),
		})
	}
	return out
}
