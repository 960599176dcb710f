package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

type claimItemDTO struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

type evidenceDTO struct {
	Kind string `json:"kind"`
	URL  string `json:"url,omitempty"` // empty in a seller's view
}

type claimRequest struct {
	OrderID     string         `json:"order_id"`
	Reason      string         `json:"reason"`
	Items       []claimItemDTO `json:"items,omitempty"`
	Amount      *int64         `json:"amount,omitempty"`
	Description string         `json:"description"`
	Evidence    []evidenceDTO  `json:"evidence,omitempty"`
}

// postClaim files the shopper's claim through the application edge
// (claimflow.Service.File: the shopper's rate limit, the Idempotency-Key,
// the decision) and answers it, or the claim the key first filed.
func (a *api) postClaim(c echo.Context) error {
	var req claimRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	fc := claimflow.FileClaim{OrderID: req.OrderID, Reason: req.Reason, Amount: req.Amount, Description: req.Description}
	for _, it := range req.Items {
		fc.Items = append(fc.Items, claim.Item{SKU: it.SKU, Quantity: it.Quantity})
	}
	for _, ev := range req.Evidence {
		fc.Evidence = append(fc.Evidence, claim.Evidence{Kind: ev.Kind, URL: ev.URL})
	}
	v := viewer(c)
	filed, err := a.Claims.File(c.Request().Context(), v, fc, key)
	if err != nil {
		return err
	}
	replayed(c, filed.Replayed)
	return c.JSON(http.StatusCreated, newClaimResponse(filed.Record, v, a.Claims.Now()))
}
