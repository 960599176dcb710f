package httpapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

type postingDTO struct {
	Account  string `json:"account"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type ledgerTransactionDTO struct {
	ID          int64        `json:"id"`
	Key         string       `json:"key"`
	Kind        string       `json:"kind"`
	ClaimID     string       `json:"claim_id,omitempty"`
	Description string       `json:"description,omitempty"`
	At          time.Time    `json:"at"`
	Postings    []postingDTO `json:"postings"`
}

type ledgerListResponse struct {
	Data       []ledgerTransactionDTO `json:"data"`
	NextCursor *string                `json:"next_cursor"`
}

// listLedgerTransactions lists ledger transactions with their postings,
// oldest first, filtered by period, kind, account (or seller_id, for a
// seller's receivable) and claim: pages of JSON, or every posting as CSV.
func (a *api) listLedgerTransactions(c echo.Context) error {
	asCSV, err := csvFormat(c)
	if err != nil {
		return queryError(err)
	}
	from, to, err := periodOf(c.QueryParam("from"), c.QueryParam("to"), false)
	if err != nil {
		return queryError(err)
	}
	f := financeflow.LedgerFilter{From: from, To: to, Kind: ledger.Kind(c.QueryParam("kind")),
		Account: ledger.Account(c.QueryParam("account")), ClaimID: c.QueryParam("claim_id")}
	if sid := c.QueryParam("seller_id"); sid != "" {
		if f.Account != "" {
			return newError(http.StatusBadRequest, "conflicting_filters", "give account or seller_id, not both", "seller_id")
		}
		if err := validation.CheckID("seller_id", sid); err != nil {
			return queryError(err)
		}
		f.Account = ledger.SellerReceivable(sid)
	}
	ctx := c.Request().Context()
	if asCSV {
		return a.streamCSV(c, "ledger.csv", export.LedgerHeader, func(s *export.Stream) error {
			return a.Finance.LedgerTransactions(ctx, f, s.LedgerRows)
		})
	}
	limit, after, err := page(c)
	if err != nil {
		return err
	}
	if after != "" {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil || n < 0 {
			return newError(http.StatusBadRequest, "invalid_cursor", "is not a cursor this API returned", "cursor")
		}
		f.AfterID = n
	}
	f.Limit = limit + 1
	out := ledgerListResponse{Data: []ledgerTransactionDTO{}}
	err = a.Finance.LedgerTransactions(ctx, f, func(t financeflow.LedgerTransaction) error {
		if len(out.Data) == limit {
			cur := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(out.Data[limit-1].ID, 10)))
			out.NextCursor = &cur
			return errEnough
		}
		d := ledgerTransactionDTO{ID: t.ID, Key: t.Key, Kind: string(t.Kind), ClaimID: t.ClaimID, Description: t.Description, At: t.At}
		for _, p := range t.Postings {
			d.Postings = append(d.Postings, postingDTO{Account: string(p.Account), Amount: p.Amount.Amount(), Currency: p.Amount.Currency().String()})
		}
		out.Data = append(out.Data, d)
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return queryError(err)
	}
	return c.JSON(http.StatusOK, out)
}
