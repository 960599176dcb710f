package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/claim"
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
	f, errs := claimflow.QueueQuery{Reason: c.QueryParam("reason"), SellerID: c.QueryParam("seller_id"),
		Currency: c.QueryParam("currency"), MinAmount: c.QueryParam("min_amount"), MaxAmount: c.QueryParam("max_amount"),
		Limit: c.QueryParam("limit"), Cursor: c.QueryParam("cursor")}.Parse()
	if len(errs) > 0 {
		return queryError(errs[0])
	}
	recs, next, err := a.Claims.ReviewQueue(c.Request().Context(), f)
	if err != nil {
		return err
	}
	now, v := a.Claims.Now(), viewer(c)
	out := listResponse[queueRow]{Data: make([]queueRow, 0, len(recs))}
	for _, r := range recs {
		out.Data = append(out.Data, newQueueRow(r, v, now))
	}
	if next != nil {
		s := next.String()
		out.NextCursor = &s
	}
	return c.JSON(http.StatusOK, out)
}

func newQueueRow(r claimflow.Record, v claimflow.Viewer, now time.Time) queueRow {
	cl := r.Claim
	row := queueRow{
		ID: cl.ID(), Status: cl.Status().String(), Reason: cl.Reason().String(), SellerID: cl.SellerID(),
		ShopperID: cl.ShopperID(), Amount: cl.Amount().Amount(), Currency: cl.Amount().Currency().String(),
		Deadline: timePtr(cl.ReviewDeadline()), Overdue: cl.ReviewDue(now), EscalatedAt: timePtr(cl.EscalatedAt()),
		Version: cl.Version(), CreatedAt: cl.CreatedAt(), Reasons: []reasonDTO{},
	}
	row.Reasons = newReasonDTOs(v.Reasons(r.Decision.Reasons))
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
