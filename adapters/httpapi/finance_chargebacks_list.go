package httpapi

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
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

var chargebackCSVHeader = []string{"record", "charged_at", "claim_id", "order_id", "seller_id", "seller_name", "reason",
	"status", "contest_by", "recovery", "currency", "amount_minor", "amount"}

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
	s, err := a.newStream(c, asCSV, "chargebacks-"+fileDate(p)+".csv", chargebackCSVHeader, head, "chargebacks")
	if err != nil {
		return err
	}
	totals, err := a.Finance.Chargebacks(c.Request().Context(), f, func(cb financeflow.Chargeback) error {
		d := chargebackRowDTO{ClaimID: cb.ClaimID, OrderID: cb.OrderID, SellerID: cb.SellerID, SellerName: cb.SellerName,
			Reason: cb.Reason, Amount: cb.Amount.Amount(), Currency: cb.Amount.Currency().String(), ChargedAt: cb.ChargedAt,
			Status: cb.Status, ContestBy: timeOrNil(cb.ContestBy), Recovery: cb.Recovery}
		return s.row(d, []string{"chargeback", csvTime(cb.ChargedAt), cell(cb.ClaimID), cell(cb.OrderID), cell(cb.SellerID), cell(cb.SellerName),
			cb.Reason, cb.Status, csvTime(cb.ContestBy), cell(cb.Recovery), d.Currency, strconv.FormatInt(d.Amount, 10), decimal(cb.Amount)})
	})
	if err != nil {
		return s.fail(queryError(err))
	}
	out := make([]chargebackTotalsDTO, 0, len(totals))
	for _, t := range totals {
		out = append(out, chargebackTotalsDTO{Currency: t.Currency.String(), Count: t.Count, Charged: t.Charged, Released: t.Released, Standing: t.Standing})
		for _, line := range []struct {
			name   string
			amount int64
		}{{"charged", t.Charged}, {"released", t.Released}, {"standing", t.Standing}} {
			if err := s.csvOnly(totalRecord(len(chargebackCSVHeader), 10, "total_"+line.name, money.Of(line.amount, t.Currency))); err != nil {
				return s.fail(err)
			}
		}
	}
	if err := s.close(struct {
		Totals []chargebackTotalsDTO `json:"totals"`
	}{out}); err != nil {
		return s.fail(err)
	}
	return nil
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// fileDate names a download after its period: 2026-11-01_2026-11-30 for
// whole days (the last day included).
func fileDate(p finance.Period) string {
	day := func(t time.Time) bool { return t.Equal(t.Truncate(24 * time.Hour)) }
	if day(p.From) && day(p.To) {
		return p.From.Format(dateLayout) + "_" + p.To.AddDate(0, 0, -1).Format(dateLayout)
	}
	return p.From.Format("20060102T150405Z") + "_" + p.To.Format("20060102T150405Z")
}

// totalRecord is a CSV line of totals: its label in the record column,
// the currency and the amount (minor units, then decimal) from column at.
func totalRecord(width, at int, label string, m money.Money) []string {
	r := make([]string, width)
	r[0] = label
	r[at], r[at+1], r[at+2] = m.Currency().String(), strconv.FormatInt(m.Amount(), 10), decimal(m)
	return r
}
