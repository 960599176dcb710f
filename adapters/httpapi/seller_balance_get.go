package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type balanceDTO struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

type sellerBalanceResponse struct {
	SellerID string `json:"seller_id"`
	// Owed is what the seller owes the platform per currency: refunds
	// charged to them, less what was reversed or recovered.
	Owed []balanceDTO `json:"owed"`
}

func (a *api) getSellerBalance(c echo.Context) error {
	id := c.Param("id")
	bals, err := a.Claims.SellerBalance(c.Request().Context(), id)
	if err != nil {
		return err
	}
	resp := sellerBalanceResponse{SellerID: id, Owed: make([]balanceDTO, 0, len(bals))}
	for _, b := range bals {
		resp.Owed = append(resp.Owed, balanceDTO{Currency: b.Currency().String(), Amount: b.Amount()})
	}
	return c.JSON(http.StatusOK, resp)
}
