package console

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

type finStatementData struct {
	SellerID   string
	Owed       []money.Money // what the seller owes now
	Values     map[string]string
	Errors     map[string]string
	Opening    []money.Money
	Lines      []financeflow.StatementLine
	Total      int
	Totals     []finStatementTotals
	CSVURL     string
	CanRecord  bool
	Recovery   formState
	Methods    []option
	Currencies []string
	Done       string
}

type finStatementTotals struct {
	Currency                                                      money.Currency
	Opening, Charges, Reversals, Recoveries, Adjustments, Closing money.Money
}

func (c *console) finStatementQuery(ec echo.Context) (*finStatementData, finance.Period) {
	d := &finStatementData{SellerID: ec.Param("id"), Values: finValues(ec, "from", "to"), Errors: map[string]string{},
		CanRecord: ec.Get(sessionKey).(*session).Role == RoleFinance, Recovery: newFormState()}
	for _, m := range finance.RecoveryMethods {
		d.Methods = append(d.Methods, option{Value: m.String(), Label: words(m.String())})
	}
	today := c.finToday()
	p := finReadPeriod(d.Values, d.Errors, today.AddDate(0, 0, -29), today)
	d.CSVURL = "/console/finance/sellers/" + url.PathEscape(d.SellerID) + "/statement.csv?" +
		url.Values{"from": {d.Values["from"]}, "to": {d.Values["to"]}}.Encode()
	return d, p
}

func (c *console) finStatementPage(ec echo.Context) error {
	d, p := c.finStatementQuery(ec)
	d.Recovery.Values["idempotency_key"] = finFormKey()
	if ec.QueryParam("done") == "recovery" {
		d.Done = "The recovery was recorded; the statement below includes it when it falls in the period."
	}
	return c.finRenderStatement(ec, http.StatusOK, d, p)
}

// finRenderStatement loads the statement for d's period (unless the period
// is bad) and renders the page with status.
func (c *console) finRenderStatement(ec echo.Context, status int, d *finStatementData, p finance.Period) error {
	v := viewerOf(ec)
	ctx := ec.Request().Context()
	owed, err := c.Claims.SellerBalance(ctx, v, d.SellerID)
	if err != nil {
		return err
	}
	d.Owed = owed
	if len(d.Errors) > 0 {
		status = http.StatusBadRequest
	} else {
		totals, err := c.Finance.Statement(ctx, v, d.SellerID, p, func(open []money.Money) error {
			d.Opening = open
			return nil
		}, func(l financeflow.StatementLine) error {
			d.Total++
			if len(d.Lines) < finMaxRows {
				d.Lines = append(d.Lines, l)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, t := range totals {
			of := func(n int64) money.Money { return money.Of(n, t.Currency) }
			d.Totals = append(d.Totals, finStatementTotals{Currency: t.Currency, Opening: of(t.Opening), Charges: of(t.Charges),
				Reversals: of(t.Reversals), Recoveries: of(t.Recoveries), Adjustments: of(t.Adjustments), Closing: of(t.Closing)})
		}
	}
	for _, m := range owed {
		d.Currencies = append(d.Currencies, m.Currency().String())
	}
	if len(d.Currencies) == 0 {
		d.Currencies = []string{"EUR"}
	}
	if d.Recovery.Values["currency"] == "" {
		d.Recovery.Values["currency"] = d.Currencies[0]
	}
	return c.render(ec, status, "finance_statement", pageData{Title: "Statement of " + d.SellerID, Data: d})
}

// finStatementCSV sends a seller's statement as CSV: what was owed at
// the period's start, every entry with the balance after it, and what was
// owed at its end.
func (c *console) finStatementCSV(ec echo.Context) error {
	d, p := c.finStatementQuery(ec)
	if len(d.Errors) > 0 {
		return c.finRenderStatement(ec, http.StatusBadRequest, d, p)
	}
	s := c.finCSV(ec, "statement-"+d.SellerID+"-"+export.FileDate(p)+".csv", export.StatementHeader)
	totals, err := c.Finance.Statement(ec.Request().Context(), viewerOf(ec), d.SellerID, p, func(open []money.Money) error {
		return s.CSVOnly(export.StatementOpeningRecords(open, p)...)
	}, func(l financeflow.StatementLine) error {
		return s.StatementRow(nil, l)
	})
	for _, t := range totals {
		if err == nil {
			err = s.CSVOnly(export.StatementClosingRecord(t, p))
		}
	}
	if err == nil {
		err = s.Close(nil)
	}
	if err != nil {
		return s.Fail(err)
	}
	return nil
}
