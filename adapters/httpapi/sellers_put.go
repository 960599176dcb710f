package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/seller"
)

type sellerRequest struct {
	Name          string  `json:"name"`
	RiskScore     *int    `json:"risk_score"`
	Verified      bool    `json:"verified"`
	StripeAccount *string `json:"stripe_account,omitempty"`
	// SellerSignals, when sent, replace the seller's signals; left out,
	// the engine keeps those it holds.
	SellerSignals *sellerSignalsDTO `json:"seller_signals,omitempty"`
}

type sellerSignalsDTO struct {
	Registration   *string `json:"registration,omitempty"`
	Warehouse      *string `json:"warehouse,omitempty"`
	PaymentAccount *string `json:"payment_account,omitempty"`
}

type sellerResponse struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	RiskScore     int     `json:"risk_score"`
	Verified      bool    `json:"verified"`
	StripeAccount *string `json:"stripe_account"`
}

func (a *api) putSeller(c echo.Context) error {
	var req sellerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.RiskScore == nil {
		return newError(http.StatusUnprocessableEntity, "required", "is required", "risk_score")
	}
	p := seller.Params{ID: c.Param("id"), Name: req.Name, RiskScore: *req.RiskScore, Verified: req.Verified}
	if req.StripeAccount != nil {
		p.StripeAccount = *req.StripeAccount
	}
	if g := req.SellerSignals; g != nil {
		p.Signals = &seller.Signals{Registration: g.Registration, Warehouse: g.Warehouse, PaymentAccount: g.PaymentAccount}
	}
	s, created, err := a.Claims.PutSeller(c.Request().Context(), p)
	if err != nil {
		return err
	}
	resp := sellerResponse{ID: s.ID(), Name: s.Name(), RiskScore: s.RiskScore(), Verified: s.Verified()}
	if acct := s.StripeAccount(); acct != "" {
		resp.StripeAccount = &acct
	}
	return c.JSON(createdOrOK(created), resp)
}

func createdOrOK(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}
