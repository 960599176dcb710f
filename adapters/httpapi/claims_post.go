package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/claim"
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

func (a *api) postClaim(c echo.Context) error {
	var req claimRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v := viewer(c)
	cr := claim.Request{ShopperID: v.Subject, Reason: req.Reason, Amount: req.Amount, Description: req.Description}
	for _, it := range req.Items {
		cr.Items = append(cr.Items, claim.Item{SKU: it.SKU, Quantity: it.Quantity})
	}
	for _, ev := range req.Evidence {
		cr.Evidence = append(cr.Evidence, claim.Evidence{Kind: ev.Kind, URL: ev.URL})
	}
	return a.respondCreated(c, req, func(ctx context.Context) (int, any, error) {
		rec, err := a.Claims.Submit(ctx, req.OrderID, cr)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, newClaimResponse(rec, v, a.Claims.Now()), nil
	})
}
