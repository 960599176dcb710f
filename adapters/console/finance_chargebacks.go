package console

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

type finChargebackTotals struct {
	Currency                    money.Currency
	Count                       int
	Charged, Released, Standing money.Money
}

type finChargebacksData struct {
	Values   map[string]string
	Errors   map[string]string
	Statuses []string
	Rows     []financeflow.Chargeback
	Total    int
	Totals   []finChargebackTotals
	CSVURL   string
	Searched bool
}

// finChargebackQuery reads the chargebacks filter: the period (default the
// last 30 days), a seller and a status.
func (c *console) finChargebackQuery(ec echo.Context) (finChargebacksData, financeflow.ChargebackFilter) {
	d := finChargebacksData{Values: finValues(ec, "from", "to", "seller_id", "status"), Errors: map[string]string{},
		Statuses: financeflow.ChargebackStatuses}
	today := c.finToday()
	p := finReadPeriod(d.Values, d.Errors, today.AddDate(0, 0, -29), today)
	f := financeflow.ChargebackFilter{Period: p, SellerID: d.Values["seller_id"], Status: d.Values["status"]}
	if f.SellerID != "" {
		if err := validation.CheckID("seller_id", f.SellerID); err != nil {
			d.Errors["seller_id"] = fieldLabel("seller_id") + " " + err.Message
		}
	}
	if f.Status != "" && !slices.Contains(financeflow.ChargebackStatuses, f.Status) {
		d.Errors["status"] = "Status must be one of the listed statuses"
	}
	q := url.Values{}
	for _, k := range []string{"from", "to", "seller_id", "status"} {
		if d.Values[k] != "" {
			q.Set(k, d.Values[k])
		}
	}
	d.CSVURL = "/console/finance/chargebacks.csv?" + q.Encode()
	return d, f
}

func (c *console) finChargebacksPage(ec echo.Context) error {
	d, f := c.finChargebackQuery(ec)
	if len(d.Errors) > 0 {
		return c.render(ec, http.StatusBadRequest, "finance_chargebacks", pageData{Title: "Chargebacks", Data: d})
	}
	totals, err := c.Finance.Chargebacks(ec.Request().Context(), f, func(cb financeflow.Chargeback) error {
		d.Total++
		if len(d.Rows) < finMaxRows {
			d.Rows = append(d.Rows, cb)
		}
		return nil
	})
	if err != nil {
		status, err := finFilterFailed(err, d.Errors)
		if err != nil {
			return err
		}
		return c.render(ec, status, "finance_chargebacks", pageData{Title: "Chargebacks", Data: d})
	}
	for _, t := range totals {
		d.Totals = append(d.Totals, finChargebackTotals{Currency: t.Currency, Count: t.Count, Charged: money.Of(t.Charged, t.Currency),
			Released: money.Of(t.Released, t.Currency), Standing: money.Of(t.Standing, t.Currency)})
	}
	d.Searched = true
	return c.render(ec, http.StatusOK, "finance_chargebacks", pageData{Title: "Chargebacks", Data: d})
}

// finChargebacksCSV sends the filtered chargebacks as CSV, all of them,
// with each currency's totals.
func (c *console) finChargebacksCSV(ec echo.Context) error {
	d, f := c.finChargebackQuery(ec)
	if len(d.Errors) > 0 {
		return c.render(ec, http.StatusBadRequest, "finance_chargebacks", pageData{Title: "Chargebacks", Data: d})
	}
	s := c.finCSV(ec, "chargebacks-"+export.FileDate(f.Period)+".csv", export.ChargebackHeader)
	totals, err := c.Finance.Chargebacks(ec.Request().Context(), f, func(cb financeflow.Chargeback) error {
		return s.ChargebackRow(nil, cb)
	})
	for _, t := range totals {
		if err == nil {
			err = s.CSVOnly(export.ChargebackTotalRecords(t)...)
		}
	}
	if err == nil {
		err = s.Close(nil)
	}
	if err != nil {
		status, err := finFilterFailed(s.Fail(err), d.Errors)
		if err != nil {
			return err
		}
		return c.render(ec, status, "finance_chargebacks", pageData{Title: "Chargebacks", Data: d})
	}
	return nil
}
