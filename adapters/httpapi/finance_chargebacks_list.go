package httpapi

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

type periodDTO struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

type chargebackRowDTO struct {
	ClaimID    string     `json:"claim_id"`
	OrderID    string     `json:"order_id"`
	SellerID   string     `json:"seller_id"`
	SellerName string     `json:"seller_name"`
	Reason     string     `json:"reason"`
	Amount     int64      `json:"amount"`
	Currency   string     `json:"currency"`
	ChargedAt  time.Time  `json:"charged_at"`
	Status     string     `json:"status"`
	ContestBy  *time.Time `json:"contest_by"`
	Recovery   string     `json:"recovery,omitempty"`
}

type chargebackTotalsDTO struct {
	Currency string `json:"currency"`
	Count    int    `json:"count"`
	Charged  int64  `json:"charged"`
	Released int64  `json:"released"`
	Standing int64  `json:"standing"`
}

// listChargebacks streams the claims charged to sellers in a period, with
// totals per currency, as JSON or CSV.
func (a *api) listChargebacks(c echo.Context) error {
	asCSV, p, err := exportQuery(c)
	if err != nil {
		return err
	}
	f := financeflow.ChargebackFilter{Period: p, SellerID: c.QueryParam("seller_id"), Status: c.QueryParam("status")}
	head := struct {
		Period   periodDTO `json:"period"`
		SellerID string    `json:"seller_id,omitempty"`
	}{periodDTO{p.From, p.To}, f.SellerID}
	s, err := a.newStream(c, asCSV, "chargebacks-"+export.FileDate(p)+".csv", export.ChargebackHeader, head, "chargebacks")
	if err != nil {
		return err
	}
	totals, err := a.Finance.Chargebacks(c.Request().Context(), f, func(cb financeflow.Chargeback) error {
		d := chargebackRowDTO{ClaimID: cb.ClaimID, OrderID: cb.OrderID, SellerID: cb.SellerID, SellerName: cb.SellerName,
			Reason: cb.Reason, Amount: cb.Amount.Amount(), Currency: cb.Amount.Currency().String(), ChargedAt: cb.ChargedAt,
			Status: cb.Status, ContestBy: timeOrNil(cb.ContestBy), Recovery: cb.Recovery}
		return s.ChargebackRow(d, cb)
	})
	if err != nil {
		return s.Fail(queryError(err))
	}
	out := make([]chargebackTotalsDTO, 0, len(totals))
	for _, t := range totals {
		out = append(out, chargebackTotalsDTO{Currency: t.Currency.String(), Count: t.Count, Charged: t.Charged, Released: t.Released, Standing: t.Standing})
		if err := s.CSVOnly(export.ChargebackTotalRecords(t)...); err != nil {
			return s.Fail(err)
		}
	}
	if err := s.Close(struct {
		Totals []chargebackTotalsDTO `json:"totals"`
	}{out}); err != nil {
		return s.Fail(err)
	}
	return nil
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
