package httpapi

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

type statementEntryDTO struct {
	At            time.Time `json:"at"`
	TransactionID int64     `json:"transaction_id"`
	Category      string    `json:"category"`
	Kind          string    `json:"kind"`
	ClaimID       string    `json:"claim_id,omitempty"`
	Description   string    `json:"description,omitempty"`
	Currency      string    `json:"currency"`
	Amount        int64     `json:"amount"`
	Balance       int64     `json:"balance"`
}

type statementTotalsDTO struct {
	Currency    string `json:"currency"`
	Opening     int64  `json:"opening"`
	Charges     int64  `json:"charges"`
	Reversals   int64  `json:"reversals"`
	Recoveries  int64  `json:"recoveries"`
	Adjustments int64  `json:"adjustments"`
	Closing     int64  `json:"closing"`
}

var statementCSVHeader = []string{"record", "at", "transaction_id", "category", "kind", "claim_id", "description",
	"currency", "amount_minor", "amount", "balance_minor", "balance"}

// getSellerStatement streams a seller's statement for a period: what they
// owed at its start, each charge, reversal and recovery with the balance
// after it, and the totals per currency, as JSON or CSV.
func (a *api) getSellerStatement(c echo.Context) error {
	asCSV, p, err := exportQuery(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	var s *stream
	totals, err := a.Finance.Statement(c.Request().Context(), viewer(c), id, p, func(opening []money.Money) error {
		head := struct {
			SellerID string       `json:"seller_id"`
			Period   periodDTO    `json:"period"`
			Opening  []balanceDTO `json:"opening"`
		}{id, periodDTO{p.From, p.To}, balances(opening)}
		var err error
		if s, err = a.newStream(c, asCSV, "statement-"+id+"-"+fileDate(p)+".csv", statementCSVHeader, head, "entries"); err != nil {
			return err
		}
		for _, m := range opening {
			r := totalRecord(len(statementCSVHeader), 7, "opening", m)
			r[1] = csvTime(p.From)
			if err := s.csvOnly(r); err != nil {
				return err
			}
		}
		return nil
	}, func(l financeflow.StatementLine) error {
		d := statementEntryDTO{At: l.At, TransactionID: l.TransactionID, Category: string(l.Category), Kind: string(l.Kind),
			ClaimID: l.ClaimID, Description: l.Description, Currency: l.Amount.Currency().String(),
			Amount: l.Amount.Amount(), Balance: l.Balance.Amount()}
		return s.row(d, []string{"entry", csvTime(l.At), strconv.FormatInt(l.TransactionID, 10), d.Category, d.Kind, cell(l.ClaimID),
			cell(l.Description), d.Currency, strconv.FormatInt(d.Amount, 10), decimal(l.Amount),
			strconv.FormatInt(d.Balance, 10), decimal(l.Balance)})
	})
	if err != nil {
		if s == nil {
			return err
		}
		return s.fail(err)
	}
	out := make([]statementTotalsDTO, 0, len(totals))
	for _, t := range totals {
		out = append(out, statementTotalsDTO{Currency: t.Currency.String(), Opening: t.Opening, Charges: t.Charges,
			Reversals: t.Reversals, Recoveries: t.Recoveries, Adjustments: t.Adjustments, Closing: t.Closing})
		for _, line := range []struct {
			name   string
			amount int64
		}{{"charges", t.Charges}, {"reversals", t.Reversals}, {"recoveries", t.Recoveries}, {"adjustments", t.Adjustments}, {"closing", t.Closing}} {
			r := totalRecord(len(statementCSVHeader), 7, line.name, money.Of(line.amount, t.Currency))
			if line.name == "closing" {
				r[1] = csvTime(p.To)
			}
			if err := s.csvOnly(r); err != nil {
				return s.fail(err)
			}
		}
	}
	if err := s.close(struct {
		Totals []statementTotalsDTO `json:"totals"`
	}{out}); err != nil {
		return s.fail(err)
	}
	return nil
}
