package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/financeflow"
)

type recoveryRequest struct {
	SellerID  string `json:"seller_id"`
	Amount    *int64 `json:"amount"`
	Currency  string `json:"currency"`
	Method    string `json:"method"`
	Reference string `json:"reference"`
	Note      string `json:"note"`
}

type recoveryResponse struct {
	ID         string       `json:"id"`
	SellerID   string       `json:"seller_id"`
	Amount     int64        `json:"amount"`
	Currency   string       `json:"currency"`
	Method     string       `json:"method"`
	Reference  string       `json:"reference"`
	Note       string       `json:"note"`
	RecordedBy string       `json:"recorded_by"`
	RecordedAt time.Time    `json:"recorded_at"`
	LedgerKey  string       `json:"ledger_key"`
	Owed       []balanceDTO `json:"owed"` // what the seller owes after it
}

// postRecovery records money a seller owed coming back. It needs an
// Idempotency-Key: recording one payment twice would understate the debt.
func (a *api) postRecovery(c echo.Context) error {
	var req recoveryRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	if key.Value == "" {
		return newError(http.StatusBadRequest, "idempotency_key_required",
			"recording a recovery needs an Idempotency-Key header, so a retry cannot record it twice", HeaderIdempotencyKey)
	}
	if req.Amount == nil {
		return newError(http.StatusUnprocessableEntity, "required", "is required", "amount")
	}
	rec, again, err := a.Finance.RecordRecoveryOnce(c.Request().Context(), viewer(c), financeflow.RecoveryInput{SellerID: req.SellerID,
		Amount: *req.Amount, Currency: req.Currency, Method: req.Method, Reference: req.Reference, Note: req.Note}, key)
	if err != nil {
		return err
	}
	replayed(c, again)
	r := rec.Recovery
	return c.JSON(http.StatusCreated, recoveryResponse{ID: r.ID, SellerID: r.SellerID, Amount: r.Amount.Amount(),
		Currency: r.Amount.Currency().String(), Method: r.Method.String(), Reference: r.Reference, Note: r.Note,
		RecordedBy: r.RecordedBy, RecordedAt: r.RecordedAt, LedgerKey: r.LedgerKey(), Owed: balances(rec.Owed)})
}
