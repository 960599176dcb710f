package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/validation"
)

type orderItemDTO struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	Quantity   *int64 `json:"quantity"`
	UnitAmount *int64 `json:"unit_amount"`
	// Brand is optional: absent is no brand; "" is refused, as a value
	// given is never read as one missing.
	Brand *string `json:"brand,omitempty"`
}

type paymentDTO struct {
	Provider  string `json:"provider"`
	Reference string `json:"reference"`
}

// buyerSignalsDTO is the buyer's hashed identity signals; a kind not
// listed here is refused by the strict decoder as an unknown field.
type buyerSignalsDTO struct {
	Device             *string `json:"device"`
	PaymentFingerprint *string `json:"payment_fingerprint"`
	ShippingAddress    *string `json:"shipping_address"`
}

type orderRequest struct {
	BuyerID     string         `json:"buyer_id"`
	SellerID    string         `json:"seller_id"`
	Currency    string         `json:"currency"`
	Items       []orderItemDTO `json:"items"`
	Amount      *int64         `json:"amount"`
	Payment     paymentDTO     `json:"payment"`
	PaidAt      *string        `json:"paid_at"`
	DeliveredAt *string        `json:"delivered_at"`
	// BuyerSignals are kept as digests and never sent back.
	BuyerSignals *buyerSignalsDTO `json:"buyer_signals"`
}

type orderResponse struct {
	ID          string         `json:"id"`
	BuyerID     string         `json:"buyer_id"`
	SellerID    string         `json:"seller_id"`
	Currency    string         `json:"currency"`
	Items       []orderItemDTO `json:"items"`
	Amount      int64          `json:"amount"`
	Payment     paymentDTO     `json:"payment"`
	PaidAt      *time.Time     `json:"paid_at"`
	DeliveredAt *time.Time     `json:"delivered_at"`
}

func (a *api) putOrder(c echo.Context) error {
	var req orderRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Amount == nil {
		return newError(http.StatusUnprocessableEntity, "required", "is required", "amount")
	}
	p := order.Params{
		ID: c.Param("id"), BuyerID: req.BuyerID, SellerID: req.SellerID, Currency: req.Currency,
		Amount: *req.Amount, Payment: order.Payment{Provider: req.Payment.Provider, Reference: req.Payment.Reference},
	}
	if bs := req.BuyerSignals; bs != nil {
		p.BuyerSignals = order.BuyerSignals{Device: bs.Device, PaymentFingerprint: bs.PaymentFingerprint, ShippingAddress: bs.ShippingAddress}
	}
	for i, it := range req.Items {
		if it.Quantity == nil {
			return newError(http.StatusUnprocessableEntity, "required", "is required", fmt.Sprintf("items[%d].quantity", i))
		}
		if it.UnitAmount == nil {
			return newError(http.StatusUnprocessableEntity, "required", "is required", fmt.Sprintf("items[%d].unit_amount", i))
		}
		item := order.Item{SKU: it.SKU, Name: it.Name, Quantity: *it.Quantity, UnitAmount: *it.UnitAmount}
		if it.Brand != nil {
			field := fmt.Sprintf("items[%d].brand", i)
			if err := validation.CheckID(field, *it.Brand); err != nil {
				return err
			}
			item.Brand = *it.Brand
		}
		p.Items = append(p.Items, item)
	}
	var err error
	if p.PaidAt, err = parseTime("paid_at", req.PaidAt); err != nil {
		return err
	}
	if p.DeliveredAt, err = parseTime("delivered_at", req.DeliveredAt); err != nil {
		return err
	}
	o, created, err := a.Claims.PutOrder(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return c.JSON(createdOrOK(created), newOrderResponse(o))
}

func newOrderResponse(o *order.Order) orderResponse {
	resp := orderResponse{
		ID: o.ID(), BuyerID: o.BuyerID(), SellerID: o.SellerID(), Currency: o.Currency().String(),
		Amount: o.Amount().Amount(), Payment: paymentDTO{Provider: o.Payment().Provider, Reference: o.Payment().Reference},
		PaidAt: o.PaidAt(), DeliveredAt: o.DeliveredAt(),
	}
	for _, it := range o.Items() {
		q, u := it.Quantity, it.UnitAmount
		dto := orderItemDTO{SKU: it.SKU, Name: it.Name, Quantity: &q, UnitAmount: &u}
		if it.Brand != "" {
			brand := it.Brand
			dto.Brand = &brand
		}
		resp.Items = append(resp.Items, dto)
	}
	return resp
}
