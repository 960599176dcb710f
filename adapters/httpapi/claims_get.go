package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/claimflow"
)

type reasonDTO struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// factsDTO is the snapshot a decision used; only staff see it, since it
// holds the seller's risk profile.
type factsDTO struct {
	ClaimReason                string     `json:"claim_reason"`
	Amount                     int64      `json:"amount"`
	OrderAmount                int64      `json:"order_amount"`
	Currency                   string     `json:"currency"`
	PaidAt                     time.Time  `json:"paid_at"`
	DeliveredAt                *time.Time `json:"delivered_at"`
	ItemsAlreadyClaimed        bool       `json:"items_already_claimed"`
	SellerRiskScore            int        `json:"seller_risk_score"`
	SellerVerified             bool       `json:"seller_verified"`
	SellerCounterfeitClaims90d int        `json:"seller_counterfeit_claims_90d"`
	ShopperFirstOrderAt        time.Time  `json:"shopper_first_order_at"`
	ShopperClaims90d           int        `json:"shopper_claims_90d"`
	ShopperRefunded90d         int64      `json:"shopper_refunded_90d"`
}

type decisionDTO struct {
	Outcome       string      `json:"outcome"`
	Reasons       []reasonDTO `json:"reasons"`
	PolicyVersion string      `json:"policy_version"`
	Tier          string      `json:"tier"`
	DecidedAt     time.Time   `json:"decided_at"`
	Facts         *factsDTO   `json:"facts,omitempty"`
}

// refundDTO is the provider's refund of a claim, once made.
type refundDTO struct {
	Provider   string    `json:"provider"`
	ID         string    `json:"id"`
	RefundedAt time.Time `json:"refunded_at"`
}

// failureDTO says why a claim's money could not move.
type failureDTO struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

type claimResponse struct {
	ID          string         `json:"id"`
	OrderID     string         `json:"order_id"`
	ShopperID   string         `json:"shopper_id"`
	SellerID    string         `json:"seller_id"`
	Reason      string         `json:"reason"`
	Status      string         `json:"status"`
	Amount      int64          `json:"amount"`
	Currency    string         `json:"currency"`
	Items       []claimItemDTO `json:"items"`
	Description string         `json:"description"`
	Evidence    []evidenceDTO  `json:"evidence"`
	Decision    decisionDTO    `json:"decision"`
	Refund      *refundDTO     `json:"refund"`
	Failure     *failureDTO    `json:"failure"`
	Version     int64          `json:"version"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

func newClaimResponse(r claimflow.Record, v claimflow.Viewer) claimResponse {
	c := r.Claim
	resp := claimResponse{
		ID: c.ID(), OrderID: c.OrderID(), ShopperID: c.ShopperID(), SellerID: c.SellerID(),
		Reason: c.Reason().String(), Status: c.Status().String(),
		Amount: c.Amount().Amount(), Currency: c.Amount().Currency().String(),
		Items: []claimItemDTO{}, Description: c.Description(), Evidence: []evidenceDTO{},
		Decision: decisionDTO{
			Outcome: r.Decision.Outcome.String(), Reasons: []reasonDTO{},
			PolicyVersion: r.Decision.PolicyVersion, Tier: r.Decision.Tier, DecidedAt: r.DecidedAt,
		},
		Version: c.Version(), CreatedAt: c.CreatedAt(), UpdatedAt: c.UpdatedAt(),
	}
	if ref := c.Refund(); ref.ID != "" {
		resp.Refund = &refundDTO{Provider: ref.Provider, ID: ref.ID, RefundedAt: ref.At}
	}
	if f := c.Failure(); f.Code != "" {
		resp.Failure = &failureDTO{Code: f.Code, Reason: f.Reason}
	}
	for _, it := range c.Items() {
		resp.Items = append(resp.Items, claimItemDTO{SKU: it.SKU, Quantity: it.Quantity})
	}
	for _, ev := range c.Evidence() {
		resp.Evidence = append(resp.Evidence, evidenceDTO{Kind: ev.Kind, URL: ev.URL})
	}
	for _, rs := range r.Decision.Reasons {
		resp.Decision.Reasons = append(resp.Decision.Reasons, reasonDTO{Code: rs.Code, Message: rs.Message})
	}
	if !v.IsShopper() {
		f := r.Facts
		resp.Decision.Facts = &factsDTO{
			ClaimReason: f.ClaimReason.String(), Amount: f.Amount.Amount(), OrderAmount: f.OrderAmount.Amount(),
			Currency: f.Amount.Currency().String(), PaidAt: f.PaidAt, DeliveredAt: f.DeliveredAt,
			ItemsAlreadyClaimed: f.ItemsAlreadyClaimed, SellerRiskScore: f.SellerRiskScore,
			SellerVerified: f.SellerVerified, SellerCounterfeitClaims90d: f.SellerCounterfeitClaims90d,
			ShopperFirstOrderAt: f.ShopperFirstOrderAt, ShopperClaims90d: f.ShopperClaims90d,
			ShopperRefunded90d: f.ShopperRefunded90d.Amount(),
		}
	}
	return resp
}

func (a *api) getClaim(c echo.Context) error {
	v := viewer(c)
	rec, err := a.Claims.Get(c.Request().Context(), v, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newClaimResponse(rec, v))
}
