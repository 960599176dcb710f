package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// maxShownExceptions caps the exceptions a run's page lists; the items
// route pages through all of them.
const maxShownExceptions = 500

type sideDTO struct {
	Status   string `json:"status,omitempty"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type exceptionResolutionDTO struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Note string    `json:"note"`
}

type reconciliationItemDTO struct {
	Seq        int                     `json:"seq"`
	Kind       string                  `json:"kind"`
	ClaimID    string                  `json:"claim_id,omitempty"`
	Provider   string                  `json:"provider,omitempty"`
	RefundID   string                  `json:"refund_id,omitempty"`
	Claim      *sideDTO                `json:"claim"`
	AtProvider *sideDTO                `json:"at_provider"`
	Ledger     *sideDTO                `json:"ledger"`
	Detail     string                  `json:"detail,omitempty"`
	Resolution *exceptionResolutionDTO `json:"resolution"`
}

func side(status string, m money.Money) *sideDTO {
	if m.Currency().IsZero() && status == "" {
		return nil
	}
	d := &sideDTO{Status: status, Amount: m.Amount()}
	if !m.Currency().IsZero() {
		d.Currency = m.Currency().String()
	}
	return d
}

func newItemDTO(it financeflow.RunItem) reconciliationItemDTO {
	d := reconciliationItemDTO{Seq: it.Seq, Kind: string(it.Kind), ClaimID: it.ClaimID, Provider: it.Provider,
		RefundID: it.RefundID, Claim: side(it.ClaimStatus, it.ClaimAmount), AtProvider: side(it.ProviderStatus, it.ProviderAmount),
		Ledger: side("", it.LedgerAmount), Detail: it.Detail}
	if !it.ResolvedAt.IsZero() {
		d.Resolution = &exceptionResolutionDTO{At: it.ResolvedAt, By: it.ResolvedBy, Note: it.ResolutionNote}
	}
	return d
}

type reconciliationResponse struct {
	reconciliationDTO
	Exceptions          []reconciliationItemDTO `json:"exceptions"`
	ExceptionsTruncated bool                    `json:"exceptions_truncated"`
}

var errEnough = errors.New("enough rows")

// getReconciliation shows a run and its exceptions.
func (a *api) getReconciliation(c echo.Context) error {
	ctx := c.Request().Context()
	run, err := a.Finance.Run(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	out := reconciliationResponse{reconciliationDTO: newReconciliationDTO(run), Exceptions: []reconciliationItemDTO{}}
	if run.Status != financeflow.RunCompleted {
		return c.JSON(http.StatusOK, out) // no items yet
	}
	err = a.Finance.RunItems(ctx, financeflow.ItemFilter{RunID: run.ID, Exceptions: true, Limit: maxShownExceptions + 1},
		func(it financeflow.RunItem) error {
			if len(out.Exceptions) == maxShownExceptions {
				out.ExceptionsTruncated = true
				return errEnough
			}
			out.Exceptions = append(out.Exceptions, newItemDTO(it))
			return nil
		})
	if err != nil && !errors.Is(err, errEnough) {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
