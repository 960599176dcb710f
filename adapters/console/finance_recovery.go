package console

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// finFormKey is a form's idempotency key: a double submit sends the same
// one, so the recovery is recorded once.
func finFormKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "console-" + hex.EncodeToString(b)
}

// finRecoveryPost records money a seller paid back, once per form.
func (c *console) finRecoveryPost(ec echo.Context) error {
	form := newFormState()
	for k, v := range finValues(ec, "amount", "currency", "method", "reference", "idempotency_key") {
		form.Values[k] = v
	}
	form.Values["note"] = ec.FormValue("note")
	form.Values["currency"] = strings.ToUpper(form.Values["currency"])
	sellerID := ec.Param("id")
	in := financeflow.RecoveryInput{SellerID: sellerID, Currency: form.Values["currency"], Method: form.Values["method"],
		Reference: form.Values["reference"], Note: form.Values["note"]}
	status := http.StatusUnprocessableEntity
	cur, err := money.ParseCurrency(form.Values["currency"])
	switch {
	case err != nil:
		form.Errors["currency"] = "Currency must be a currency code such as EUR"
	case form.Values["amount"] == "":
		form.Errors["amount"] = "Amount is required"
	default:
		n, ok := money.ParseMajor(form.Values["amount"], cur)
		switch {
		case !ok:
			form.Errors["amount"] = fmt.Sprintf("Amount must be an amount in %s such as %s", cur, money.Example(cur))
		case n == 0:
			form.Errors["amount"] = "Amount must be more than zero"
		default:
			in.Amount = n
		}
	}
	if len(form.Errors) == 0 {
		_, _, err = c.Finance.RecordRecoveryOnce(ec.Request().Context(), viewerOf(ec), in,
			claimflow.Key{Door: claimflow.DoorConsole, Value: form.Values["idempotency_key"]})
		if err == nil {
			return ec.Redirect(http.StatusSeeOther, "/console/finance/sellers/"+url.PathEscape(sellerID)+"/statement?done=recovery")
		}
		var ve *validation.Error
		var re *finance.RefusedError
		var nf *claimflow.NotFoundError
		switch {
		case errors.As(err, &ve):
			form.Errors[ve.Field] = finLabel(ve.Field) + " " + ve.Message
			if ve.Field == "idempotency_key" {
				form.Values["idempotency_key"] = finFormKey()
			}
		case errors.As(err, &re):
			status = http.StatusConflict
			field := "amount"
			if re.Code == "duplicate_recovery" {
				field = "reference"
			}
			form.Errors[field] = "Not recorded: " + re.Message
		case errors.Is(err, claimflow.ErrIdempotencyKeyReused):
			status = http.StatusConflict
			form.Values["idempotency_key"] = finFormKey()
			form.Errors["idempotency_key"] = "This form was sent before with other values, so nothing was recorded. Reload the page and enter the recovery again."
		case errors.As(err, &nf):
			return &claimflow.NotFoundError{Resource: nf.Resource, ID: nf.ID}
		default:
			return err
		}
	}
	if form.Values["idempotency_key"] == "" {
		form.Values["idempotency_key"] = finFormKey()
	}
	d, p := c.finStatementQuery(ec)
	d.Recovery = form
	return c.finRenderStatement(ec, status, d, p)
}
