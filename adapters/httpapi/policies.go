package httpapi

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// The policy lab's shapes, shared by its routes (policies_*.go,
// policy_*.go).

// policyView is a policy version without its document: its status and
// who moved it when (null when never).
type policyView struct {
	Version     string     `json:"version"`
	Status      string     `json:"status"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivatedBy *string    `json:"activated_by"`
	ActivatedAt *time.Time `json:"activated_at"`
	ShadowBy    *string    `json:"shadow_by"`
	ShadowAt    *time.Time `json:"shadow_at"`
	RetiredAt   *time.Time `json:"retired_at"`
}

func newPolicyView(v policyflow.Version) policyView {
	return policyView{Version: v.Version, Status: v.Status.String(), CreatedBy: v.CreatedBy, CreatedAt: v.CreatedAt,
		ActivatedBy: optString(v.ActivatedBy), ActivatedAt: timeOrNil(v.ActivatedAt),
		ShadowBy: optString(v.ShadowBy), ShadowAt: timeOrNil(v.ShadowAt), RetiredAt: timeOrNil(v.RetiredAt)}
}

// policyChangeDTO is one entry of a version's audit trail.
type policyChangeDTO struct {
	ID       int64     `json:"id"`
	Version  string    `json:"version"`
	Action   string    `json:"action"`
	From     *string   `json:"from"`
	To       string    `json:"to"`
	Replaced *string   `json:"replaced"`
	Actor    string    `json:"actor"`
	At       time.Time `json:"at"`
}

func newPolicyChangeDTO(c policyflow.Change) policyChangeDTO {
	return policyChangeDTO{ID: c.ID, Version: c.Version, Action: c.Action, From: optString(c.From), To: c.To,
		Replaced: optString(c.Replaced), Actor: c.Actor, At: c.At}
}

// backtestSummary is a run as a version's page lists it.
type backtestSummary struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Replayed  int64     `json:"replayed"`
	Changed   int64     `json:"changed"`
	CreatedAt time.Time `json:"created_at"`
}

func newBacktestSummary(b policyflow.Backtest) backtestSummary {
	return backtestSummary{ID: b.ID, Status: b.Status.String(), From: b.From, To: b.To,
		Replayed: b.Replayed, Changed: b.Changed, CreatedAt: b.CreatedAt}
}

// backtestFiltersDTO is a run's filters: empty lists and nulls where it
// has none.
type backtestFiltersDTO struct {
	Reasons    []string `json:"reasons"`
	Currencies []string `json:"currencies"`
	SellerID   *string  `json:"seller_id"`
	DecidedBy  *string  `json:"decided_by"`
}

// backtestView is a run: what it was asked, where it stands and, once
// completed, its report's figures beside its own fields.
type backtestView struct {
	ID          string             `json:"id"`
	Version     string             `json:"version"`
	Status      string             `json:"status"`
	From        time.Time          `json:"from"`
	To          time.Time          `json:"to"`
	Filters     backtestFiltersDTO `json:"filters"`
	RequestedBy string             `json:"requested_by"`
	CreatedAt   time.Time          `json:"created_at"`
	StartedAt   *time.Time         `json:"started_at"`
	FinishedAt  *time.Time         `json:"finished_at"`
	Replayed    int64              `json:"replayed"`
	Changed     int64              `json:"changed"`
	Error       *string            `json:"error"`
	// The report (matrix, by_reason, by_tier, by_standing,
	// consequences), flattened; absent until completed. Its replayed
	// and changed are the run's own, above.
	*policyflow.ReportDoc
}

func newBacktestView(b policyflow.Backtest) backtestView {
	f := backtestFiltersDTO{Reasons: []string{}, Currencies: []string{},
		SellerID: optString(b.Filters.SellerID), DecidedBy: optString(b.Filters.DecidedBy)}
	for _, r := range b.Filters.Reasons {
		f.Reasons = append(f.Reasons, r.String())
	}
	for _, c := range b.Filters.Currencies {
		f.Currencies = append(f.Currencies, c.String())
	}
	v := backtestView{ID: b.ID, Version: b.Version, Status: b.Status.String(), From: b.From, To: b.To, Filters: f,
		RequestedBy: b.RequestedBy, CreatedAt: b.CreatedAt, StartedAt: timeOrNil(b.StartedAt), FinishedAt: timeOrNil(b.FinishedAt),
		Replayed: b.Replayed, Changed: b.Changed, Error: optString(b.Error)}
	if b.Status == policylab.BacktestCompleted {
		v.ReportDoc = b.Report
	}
	return v
}

// changedClaimsPage is a page of the claims a candidate decides otherwise.
type changedClaimsPage struct {
	Claims     []export.ChangedClaim `json:"claims"`
	NextCursor *string               `json:"next_cursor"`
}

// changedClaims answers a list of changed claims, a run's or a shadow's:
// a page of JSON, or (?format=csv, Accept: text/csv) every one of them as
// a CSV download named filename. list reads one page of q.
func (a *api) changedClaims(c echo.Context, filename string, list func(q policyflow.ClaimQuery) ([]policyflow.ChangedClaim, error)) error {
	asCSV, err := csvFormat(c)
	if err != nil {
		return queryError(err)
	}
	var q policyflow.ClaimQuery
	if s := c.QueryParam("change"); s != "" {
		ch, err := policylab.ParseChange(s)
		if err != nil {
			return newError(http.StatusBadRequest, "invalid_change", err.Error(), "change")
		}
		q.Change = &ch
	}
	if asCSV {
		// Every changed claim, a page at a time; an error before the
		// first bytes (a run not completed) is answered as any error.
		return a.streamCSV(c, filename, export.ChangedClaimHeader, func(s *export.Stream) error {
			q.Limit = policyflow.MaxClaimLimit
			for {
				cs, err := list(q)
				if err != nil {
					return err
				}
				for _, cl := range cs {
					if err := s.Row(nil, export.ChangedClaimRecord(cl)); err != nil {
						return err
					}
				}
				if len(cs) < q.Limit {
					return nil
				}
				q.After = cs[len(cs)-1].ClaimID
			}
		})
	}
	limit, after, err := page(c)
	if err != nil {
		return err
	}
	q.Limit, q.After = limit+1, after
	cs, err := list(q)
	if err != nil {
		return queryError(err)
	}
	out := changedClaimsPage{Claims: make([]export.ChangedClaim, 0, min(len(cs), limit))}
	for i, cl := range cs {
		if i == limit {
			cur := base64.RawURLEncoding.EncodeToString([]byte(cs[i-1].ClaimID))
			out.NextCursor = &cur
			break
		}
		out.Claims = append(out.Claims, export.NewChangedClaim(cl))
	}
	return c.JSON(http.StatusOK, out)
}
