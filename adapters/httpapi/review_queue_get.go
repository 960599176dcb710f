package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// queueRow is one claim of the review queue and why it waits.
type queueRow struct {
	ID          string      `json:"id"`
	Status      string      `json:"status"`
	Reason      string      `json:"reason"`
	SellerID    string      `json:"seller_id"`
	ShopperID   string      `json:"shopper_id"`
	Amount      int64       `json:"amount"`
	Currency    string      `json:"currency"`
	Deadline    *time.Time  `json:"deadline"`
	Overdue     bool        `json:"overdue"`
	EscalatedAt *time.Time  `json:"escalated_at"`
	Waiting     waitingDTO  `json:"waiting"`
	Version     int64       `json:"version"`
	CreatedAt   time.Time   `json:"created_at"`
	Reasons     []reasonDTO `json:"reasons"`
}

// waitingDTO says why a claim waits for a person: the decision sent it to
// review (the reasons list why), or its refund failed.
type waitingDTO struct {
	Kind    string `json:"kind"` // review, refund_failed
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (a *api) getReviewQueue(c echo.Context) error {
	f := claimflow.QueueFilter{SellerID: c.QueryParam("seller_id")}
	if s := c.QueryParam("reason"); s != "" {
		r, err := claim.ParseReason(s)
		if err != nil {
			return newError(http.StatusBadRequest, "invalid_reason", "must be counterfeit, not_as_described, damaged or not_received", "reason")
		}
		f.Reason = &r
	}
	if f.SellerID != "" {
		if err := validation.CheckID("seller_id", f.SellerID); err != nil {
			return newError(http.StatusBadRequest, err.Code, err.Message, err.Field)
		}
	}
	if s := c.QueryParam("currency"); s != "" {
		cur, err := money.ParseCurrency(s)
		if err != nil {
			return newError(http.StatusBadRequest, "invalid_currency", "must be an ISO 4217 currency code such as EUR", "currency")
		}
		f.Currency = cur
	}
	var err error
	if f.MinAmount, err = queryAmount(c, "min_amount"); err != nil {
		return err
	}
	if f.MaxAmount, err = queryAmount(c, "max_amount"); err != nil {
		return err
	}
	if (f.MinAmount != nil || f.MaxAmount != nil) && f.Currency.IsZero() {
		return newError(http.StatusBadRequest, "currency_required", "amounts are in minor units of a currency: set currency too", "currency")
	}
	for _, b := range []struct {
		name   string
		amount *int64
	}{{"min_amount", f.MinAmount}, {"max_amount", f.MaxAmount}} {
		if b.amount == nil {
			continue
		}
		if err := validation.CheckMaxAmount(b.name, *b.amount, f.Currency); err != nil {
			return queryError(err)
		}
	}
	if f.MinAmount != nil && f.MaxAmount != nil && *f.MinAmount > *f.MaxAmount {
		return newError(http.StatusBadRequest, "invalid_range", "must not be more than max_amount", "min_amount")
	}
	if f.Limit, err = pageLimit(c); err != nil {
		return err
	}
	if s := c.QueryParam("cursor"); s != "" {
		cur, ok := claimflow.ParseQueueCursor(s)
		if !ok {
			return newError(http.StatusBadRequest, "invalid_cursor", "is not a cursor this API returned", "cursor")
		}
		f.After = &cur
	}
	recs, next, err := a.Claims.ReviewQueue(c.Request().Context(), f)
	if err != nil {
		return err
	}
	now := a.Claims.Now()
	out := listResponse[queueRow]{Data: make([]queueRow, 0, len(recs))}
	for _, r := range recs {
		out.Data = append(out.Data, newQueueRow(r, now))
	}
	if next != nil {
		s := next.String()
		out.NextCursor = &s
	}
	return c.JSON(http.StatusOK, out)
}

func newQueueRow(r claimflow.Record, now time.Time) queueRow {
	cl := r.Claim
	row := queueRow{
		ID: cl.ID(), Status: cl.Status().String(), Reason: cl.Reason().String(), SellerID: cl.SellerID(),
		ShopperID: cl.ShopperID(), Amount: cl.Amount().Amount(), Currency: cl.Amount().Currency().String(),
		Deadline: timePtr(cl.ReviewDeadline()), Overdue: cl.ReviewDue(now), EscalatedAt: timePtr(cl.EscalatedAt()),
		Version: cl.Version(), CreatedAt: cl.CreatedAt(), Reasons: []reasonDTO{},
	}
	for _, rs := range r.Decision.Reasons {
		row.Reasons = append(row.Reasons, reasonDTO{Code: rs.Code, Message: rs.Message})
	}
	if f := cl.Failure(); cl.Status() == claim.StatusRefundFailed {
		row.Waiting = waitingDTO{Kind: "refund_failed", Code: f.Code.String(), Message: f.Reason}
	} else {
		row.Waiting = waitingDTO{Kind: "review", Code: "decision_review", Message: "The decision sent the claim to a person; the reasons say why."}
		if rs := r.Decision.Reasons; len(rs) > 0 {
			row.Waiting.Code, row.Waiting.Message = rs[0].Code, rs[0].Message
		}
	}
	return row
}

// queryAmount reads a whole, non-negative number of minor units.
func queryAmount(c echo.Context, name string) (*int64, error) {
	s := c.QueryParam(name)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return nil, newError(http.StatusBadRequest, "invalid_amount", "must be a whole, non-negative number of minor units", name)
	}
	return &n, nil
}
