package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

type backtestRequest struct {
	From    string                `json:"from"`
	To      string                `json:"to"`
	Filters *backtestFiltersInput `json:"filters,omitempty"`
}

// backtestFiltersInput narrows a backtest; a filter not given keeps every
// claim, and one given is never taken for one not given.
type backtestFiltersInput struct {
	Reasons    []string `json:"reasons,omitempty"`
	Currencies []string `json:"currencies,omitempty"`
	SellerID   *string  `json:"seller_id,omitempty"`
	DecidedBy  *string  `json:"decided_by,omitempty"`
}

// postBacktest queues a backtest of a version over the claims decided in
// [from, to); a job on the policy queue runs it and GET
// /v1/policy-backtests/{id} shows it. With an Idempotency-Key, a retry
// answers the run the first request queued.
func (a *api) postBacktest(c echo.Context) error {
	var body backtestRequest
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	var req policyflow.BacktestRequest
	var err error
	// A bound missing is left to the lab, which says it is required.
	if body.From != "" {
		if req.From, err = parseBound("from", body.From, false); err != nil {
			return err
		}
	}
	if body.To != "" {
		if req.To, err = parseBound("to", body.To, true); err != nil {
			return err
		}
	}
	if f := body.Filters; f != nil {
		var sellerID, decidedBy string
		if f.SellerID != nil {
			if err := validation.CheckID("filters.seller_id", *f.SellerID); err != nil {
				return err
			}
			sellerID = *f.SellerID
		}
		if f.DecidedBy != nil {
			if *f.DecidedBy == "" {
				return validation.New("filters.decided_by", "required", "must name a policy version when given")
			}
			decidedBy = *f.DecidedBy
		}
		if req.Filters, err = policyflow.ParseFilters(f.Reasons, f.Currencies, sellerID, decidedBy); err != nil {
			return err
		}
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	b, again, err := a.Policies.StartBacktestOnce(c.Request().Context(), viewer(c), c.Param("version"), req, key)
	if err != nil {
		return err
	}
	replayed(c, again)
	c.Response().Header().Set(echo.HeaderLocation, "/v1/policy-backtests/"+b.ID)
	return c.JSON(http.StatusAccepted, newBacktestView(b))
}
