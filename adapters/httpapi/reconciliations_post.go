package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

type reconciliationRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type reconciliationTotalsDTO struct {
	Currency string `json:"currency"`
	Claims   int64  `json:"claims"`
	Provider int64  `json:"provider"`
	Ledger   int64  `json:"ledger"`
}

type reconciliationDTO struct {
	ID              string                    `json:"id"`
	Period          periodDTO                 `json:"period"`
	Trigger         string                    `json:"trigger"`
	RequestedBy     string                    `json:"requested_by"`
	Status          string                    `json:"status"`
	Providers       []string                  `json:"providers"`
	CreatedAt       time.Time                 `json:"created_at"`
	StartedAt       *time.Time                `json:"started_at"`
	FinishedAt      *time.Time                `json:"finished_at"`
	Matched         int                       `json:"matched"`
	Counts          map[string]int            `json:"exception_counts"`
	OpenExceptions  int                       `json:"open_exceptions"`
	ProviderRefunds int                       `json:"provider_refunds"`
	ForeignRefunds  int                       `json:"foreign_refunds"`
	Totals          []reconciliationTotalsDTO `json:"totals"`
	Error           string                    `json:"error,omitempty"`
}

func newReconciliationDTO(r financeflow.Run) reconciliationDTO {
	d := reconciliationDTO{ID: r.ID, Period: periodDTO{r.Period.From, r.Period.To}, Trigger: r.Trigger,
		RequestedBy: r.RequestedBy, Status: string(r.Status), Providers: r.Providers, CreatedAt: r.CreatedAt,
		StartedAt: timeOrNil(r.StartedAt), FinishedAt: timeOrNil(r.FinishedAt), Matched: r.Summary.Matched,
		Counts: map[string]int{}, OpenExceptions: r.OpenExceptions, ProviderRefunds: r.ProviderRefunds,
		ForeignRefunds: r.ForeignRefunds, Totals: []reconciliationTotalsDTO{}, Error: r.Error}
	if d.Providers == nil {
		d.Providers = []string{}
	}
	for k, n := range r.Summary.Exceptions {
		d.Counts[string(k)] = n
	}
	for _, t := range r.Summary.Totals {
		d.Totals = append(d.Totals, reconciliationTotalsDTO{Currency: t.Currency.String(), Claims: t.Claims, Provider: t.Provider, Ledger: t.Ledger})
	}
	return d
}

// postReconciliation queues a reconciliation of a period; a job runs it
// and GET /v1/finance/reconciliations/{id} shows it. With an
// Idempotency-Key, a retry answers the run the first request queued.
func (a *api) postReconciliation(c echo.Context) error {
	var req reconciliationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	from, to, err := periodOf(req.From, req.To, true)
	if err != nil {
		return err
	}
	p, err := finance.NewPeriod(from, to)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	run, again, err := a.Finance.RequestReconciliationOnce(c.Request().Context(), viewer(c), p, key)
	if err != nil {
		return err
	}
	replayed(c, again)
	c.Response().Header().Set(echo.HeaderLocation, "/v1/finance/reconciliations/"+run.ID)
	return c.JSON(http.StatusAccepted, newReconciliationDTO(run))
}
