package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

type reasonDTO struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Staff is what agents read beyond the message (claimflow's
	// Viewer.Reasons); never in a shopper's or finance's view.
	Staff string `json:"staff,omitempty"`
}

func newReasonDTOs(rs []decision.Reason) []reasonDTO {
	out := make([]reasonDTO, 0, len(rs))
	for _, r := range rs {
		out = append(out, reasonDTO{Code: r.Code, Message: r.Message, Staff: r.Staff})
	}
	return out
}

// linkedDTO is the accounts linked to the shopper's when the claim was
// decided; agents and admins only (Viewer.SeesStaffNotes).
type linkedDTO struct {
	Shoppers    int      `json:"shoppers"`
	Claims90d   int      `json:"claims_90d"`
	Refunded90d int64    `json:"refunded_90d"`
	Signals     []string `json:"signals"`
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
	Linked                     *linkedDTO `json:"linked,omitempty"`
}

type decisionDTO struct {
	Outcome string `json:"outcome"`
	// Reasons and Tier are written to the shopper and left out of a
	// seller's view.
	Reasons       []reasonDTO `json:"reasons,omitempty"`
	PolicyVersion string      `json:"policy_version"`
	Tier          *string     `json:"tier,omitempty"`
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

// explanationDTO is what the shopper reads about their claim.
type explanationDTO struct {
	Summary   string  `json:"summary"`
	WhatHelps *string `json:"what_helps"`
}

// reviewDTO is the deadline of a claim waiting for a person.
type reviewDTO struct {
	Deadline    time.Time  `json:"deadline"`
	Overdue     bool       `json:"overdue"`
	EscalatedAt *time.Time `json:"escalated_at"`
}

// rejectionDTO is why an agent rejected the claim.
type rejectionDTO struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	WhatHelps string `json:"what_helps"`
}

type contestDTO struct {
	Statement   string        `json:"statement"`
	Evidence    []evidenceDTO `json:"evidence"`
	ContestedAt time.Time     `json:"contested_at"`
}

type resolutionDTO struct {
	By   actorDTO  `json:"by"`
	At   time.Time `json:"at"`
	Note string    `json:"note"`
}

// chargebackDTO is the charge of the claim to its seller.
type chargebackDTO struct {
	Status     string         `json:"status"`
	Amount     int64          `json:"amount"`
	Currency   string         `json:"currency"`
	ChargedAt  time.Time      `json:"charged_at"`
	ContestBy  time.Time      `json:"contest_by"`
	Recovery   *string        `json:"recovery"`
	Contest    *contestDTO    `json:"contest"`
	Resolution *resolutionDTO `json:"resolution"`
	// Protected: the seller's standing was protected when charged, so the
	// platform carries the cost until the charge is confirmed; OnSeller:
	// the seller bears it now.
	Protected bool `json:"protected"`
	OnSeller  bool `json:"on_seller"`
}

type claimResponse struct {
	ID          string          `json:"id"`
	OrderID     string          `json:"order_id"`
	ShopperID   string          `json:"shopper_id,omitempty"`
	SellerID    string          `json:"seller_id"`
	Reason      string          `json:"reason"`
	Status      string          `json:"status"`
	Amount      int64           `json:"amount"`
	Currency    string          `json:"currency"`
	Items       []claimItemDTO  `json:"items"`
	Description string          `json:"description"`
	Evidence    []evidenceDTO   `json:"evidence"`
	Decision    decisionDTO     `json:"decision"`
	Refund      *refundDTO      `json:"refund"`
	Failure     *failureDTO     `json:"failure"`
	Explanation *explanationDTO `json:"explanation,omitempty"`
	Review      *reviewDTO      `json:"review"`
	Rejection   *rejectionDTO   `json:"rejection"`
	Chargeback  *chargebackDTO  `json:"chargeback,omitempty"`
	Version     int64           `json:"version"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// newClaimResponse renders a claim for its viewer through claimflow's one
// rule of who sees what (visibility.go), which the console follows too: a
// shopper sees neither the decision's facts nor the seller's chargeback; a
// seller sees the outcome and an explanation written for sellers, never
// the shopper's identity, evidence links, tier, history or the reasons
// written to the shopper.
func newClaimResponse(r claimflow.Record, v claimflow.Viewer, now time.Time) claimResponse {
	c := r.Claim
	resp := claimResponse{
		ID: c.ID(), OrderID: c.OrderID(), SellerID: c.SellerID(),
		Reason: c.Reason().String(), Status: c.Status().String(),
		Amount: c.Amount().Amount(), Currency: c.Amount().Currency().String(),
		Items: []claimItemDTO{}, Description: c.Description(), Evidence: []evidenceDTO{},
		Decision: decisionDTO{
			Outcome: r.Decision.Outcome.String(), PolicyVersion: r.Decision.PolicyVersion, DecidedAt: r.DecidedAt,
		},
		Version: c.Version(), CreatedAt: c.CreatedAt(), UpdatedAt: c.UpdatedAt(),
	}
	if v.SeesShopper() {
		resp.ShopperID = c.ShopperID()
	}
	if ref := c.Refund(); ref.ID != "" {
		resp.Refund = &refundDTO{Provider: ref.Provider, ID: ref.ID, RefundedAt: ref.At}
	}
	if f := c.Failure(); f.Code != "" && v.SeesRefundFailure() {
		resp.Failure = &failureDTO{Code: f.Code.String(), Reason: f.Reason}
	}
	for _, it := range c.Items() {
		resp.Items = append(resp.Items, claimItemDTO{SKU: it.SKU, Quantity: it.Quantity})
	}
	for _, ev := range c.Evidence() {
		e := evidenceDTO{Kind: ev.Kind}
		if v.SeesShopper() {
			e.URL = ev.URL
		}
		resp.Evidence = append(resp.Evidence, e)
	}
	if d := c.ReviewDeadline(); !d.IsZero() {
		resp.Review = &reviewDTO{Deadline: d, Overdue: c.ReviewDue(now), EscalatedAt: timePtr(c.EscalatedAt())}
	}
	if rr := c.Rejection(); rr.String() != "" {
		resp.Rejection = &rejectionDTO{Code: rr.String(), Message: rr.Text(), WhatHelps: rr.Helps()}
		if v.IsSeller() {
			resp.Rejection.Message, resp.Rejection.WhatHelps = rr.SellerText(), ""
		}
	}
	ex := claimflow.Explain(r)
	if v.IsSeller() {
		ex = claimflow.ExplainToSeller(r, now)
	}
	resp.Explanation = &explanationDTO{Summary: ex.Summary}
	if ex.WhatHelps != "" {
		resp.Explanation.WhatHelps = &ex.WhatHelps
	}
	if cb := c.Chargeback(); cb.Status != claim.ChargebackNone && v.SeesChargeback() {
		resp.Chargeback = newChargebackDTO(c, cb, v)
	}
	if v.SeesDecisionReasons() {
		resp.Decision.Tier = &r.Decision.Tier
		resp.Decision.Reasons = newReasonDTOs(v.Reasons(r.Decision.Reasons))
	}
	if v.SeesFacts() {
		f := r.Facts
		resp.Decision.Facts = &factsDTO{
			ClaimReason: f.ClaimReason.String(), Amount: f.Amount.Amount(), OrderAmount: f.OrderAmount.Amount(),
			Currency: f.Amount.Currency().String(), PaidAt: f.PaidAt, DeliveredAt: f.DeliveredAt,
			ItemsAlreadyClaimed: f.ItemsAlreadyClaimed, SellerRiskScore: f.SellerRiskScore,
			SellerVerified: f.SellerVerified, SellerCounterfeitClaims90d: f.SellerCounterfeitClaims90d,
			ShopperFirstOrderAt: f.ShopperFirstOrderAt, ShopperClaims90d: f.ShopperClaims90d,
			ShopperRefunded90d: f.ShopperRefunded90d.Amount(),
		}
		if v.SeesStaffNotes() {
			resp.Decision.Facts.Linked = &linkedDTO{Shoppers: f.LinkedShoppers, Claims90d: f.LinkedClaims90d,
				Refunded90d: f.LinkedRefunded90d.Amount(), Signals: append([]string{}, f.LinkedSignals...)}
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
	return c.JSON(http.StatusOK, newClaimResponse(rec, v, a.Claims.Now()))
}

func newChargebackDTO(c *claim.Claim, cb claim.Chargeback, v claimflow.Viewer) *chargebackDTO {
	d := &chargebackDTO{
		Status: cb.Status.String(), Amount: c.Amount().Amount(), Currency: c.Amount().Currency().String(),
		ChargedAt: cb.ChargedAt, ContestBy: cb.ContestBy, Protected: cb.Protected, OnSeller: cb.OnSeller(),
	}
	if cb.Recovery != "" {
		d.Recovery = &cb.Recovery
	}
	if ct := cb.Contest; ct != nil {
		d.Contest = &contestDTO{Statement: ct.Statement, ContestedAt: ct.At, Evidence: []evidenceDTO{}}
		for _, ev := range ct.Evidence {
			d.Contest.Evidence = append(d.Contest.Evidence, evidenceDTO{Kind: ev.Kind, URL: ev.URL})
		}
	}
	if !cb.ResolvedAt.IsZero() {
		by := actorDTO{Kind: cb.ResolvedBy.Kind, ID: cb.ResolvedBy.ID}
		if !v.SeesResolver() {
			by.ID = "" // sellers see that an agent decided, not who
		}
		d.Resolution = &resolutionDTO{By: by, At: cb.ResolvedAt, Note: cb.Note}
	}
	return d
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
