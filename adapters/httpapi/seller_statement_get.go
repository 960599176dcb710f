package httpapi

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
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

// getSellerStatement streams a seller's statement for a period: what they
// owed at its start, each charge, reversal and recovery with the balance
// after it, and the totals per currency, as JSON or CSV.
func (a *api) getSellerStatement(c echo.Context) error {
	asCSV, p, err := exportQuery(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	var s *export.Stream
	totals, err := a.Finance.Statement(c.Request().Context(), viewer(c), id, p, func(opening []money.Money) error {
		head := struct {
			SellerID string       `json:"seller_id"`
			Period   periodDTO    `json:"period"`
			Opening  []balanceDTO `json:"opening"`
		}{id, periodDTO{p.From, p.To}, balances(opening)}
		var err error
		if s, err = a.newStream(c, asCSV, "statement-"+id+"-"+export.FileDate(p)+".csv", export.StatementHeader, head, "entries"); err != nil {
			return err
		}
		return s.CSVOnly(export.StatementOpeningRecords(opening, p)...)
	}, func(l financeflow.StatementLine) error {
		d := statementEntryDTO{At: l.At, TransactionID: l.TransactionID, Category: string(l.Category), Kind: string(l.Kind),
			ClaimID: l.ClaimID, Description: l.Description, Currency: l.Amount.Currency().String(),
			Amount: l.Amount.Amount(), Balance: l.Balance.Amount()}
		return s.StatementRow(d, l)
	})
	if err != nil {
		if s == nil {
			return err
		}
		return s.Fail(err)
	}
	out := make([]statementTotalsDTO, 0, len(totals))
	for _, t := range totals {
		out = append(out, statementTotalsDTO{Currency: t.Currency.String(), Opening: t.Opening, Charges: t.Charges,
			Reversals: t.Reversals, Recoveries: t.Recoveries, Adjustments: t.Adjustments, Closing: t.Closing})
		if err := s.CSVOnly(export.StatementTotalRecords(t, p)...); err != nil {
			return s.Fail(err)
		}
	}
	if err := s.Close(struct {
		Totals []statementTotalsDTO `json:"totals"`
	}{out}); err != nil {
		return s.Fail(err)
	}
	return nil
}
