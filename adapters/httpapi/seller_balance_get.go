package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/money"
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
	bals, err := a.Claims.SellerBalance(c.Request().Context(), viewer(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sellerBalanceResponse{SellerID: id, Owed: balances(bals)})
}

func balances(ms []money.Money) []balanceDTO {
	out := make([]balanceDTO, 0, len(ms))
	for _, m := range ms {
		out = append(out, balanceDTO{Currency: m.Currency().String(), Amount: m.Amount()})
	}
	return out
}
