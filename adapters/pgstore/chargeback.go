package pgstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
)

// chargebackJSON holds the details of a claim's charge to its seller; its
// status, contest window and protection are columns of their own, for
// queries (protected is kept here too, so the document reads whole).
type chargebackJSON struct {
	ChargedAt  time.Time    `json:"charged_at"`
	Recovery   string       `json:"recovery,omitempty"`
	Protected  bool         `json:"protected,omitempty"`
	Contest    *contestJSON `json:"contest,omitempty"`
	ResolvedBy *actorJSON   `json:"resolved_by,omitempty"`
	ResolvedAt *time.Time   `json:"resolved_at,omitempty"`
	Note       string       `json:"note,omitempty"`
}

type contestJSON struct {
	Statement string         `json:"statement"`
	Evidence  []evidenceJSON `json:"evidence"`
	At        time.Time      `json:"at"`
}

type actorJSON struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// agentColumns are the columns the agents' and sellers' actions change.
func agentColumns(c *claim.Claim) (map[string]any, error) {
	cols := map[string]any{
		"refund_attempt":    c.RefundAttempt(),
		"review_deadline":   nonZeroTime(c.ReviewDeadline()),
		"escalated_at":      nonZeroTime(c.EscalatedAt()),
		"rejection_code":    nonEmpty(c.Rejection().String()),
		"chargeback_status": nonEmpty(c.Chargeback().Status.String()),
		"contest_by":        nil,
		"chargeback":        nil,
		// Protected contests lead the agents' contest queue.
		"chargeback_protected": c.Chargeback().Protected,
	}
	cb := c.Chargeback()
	if cb.Status == claim.ChargebackNone {
		return cols, nil
	}
	cols["contest_by"] = cb.ContestBy
	j := chargebackJSON{ChargedAt: cb.ChargedAt, Recovery: cb.Recovery, Protected: cb.Protected, Note: cb.Note}
	if cb.Contest != nil {
		ct := &contestJSON{Statement: cb.Contest.Statement, At: cb.Contest.At, Evidence: []evidenceJSON{}}
		for _, ev := range cb.Contest.Evidence {
			ct.Evidence = append(ct.Evidence, evidenceJSON{Kind: ev.Kind, URL: ev.URL})
		}
		j.Contest = ct
	}
	if !cb.ResolvedAt.IsZero() {
		at := cb.ResolvedAt
		j.ResolvedBy, j.ResolvedAt = &actorJSON{Kind: cb.ResolvedBy.Kind, ID: cb.ResolvedBy.ID}, &at
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("claim %s chargeback: %w", c.ID(), err)
	}
	cols["chargeback"] = string(b)
	return cols, nil
}

// readAgentColumns fills p from a row's agent columns.
func (row claimRow) readAgentColumns(p *claim.RehydrateParams) error {
	p.RefundAttempt = row.RefundAttempt
	if row.ReviewDeadline != nil {
		p.ReviewDeadline = row.ReviewDeadline.UTC()
	}
	if row.EscalatedAt != nil {
		p.EscalatedAt = row.EscalatedAt.UTC()
	}
	if row.RejectionCode != nil {
		r, err := claim.ParseRejectionReason(*row.RejectionCode)
		if err != nil {
			return fmt.Errorf("claim %s: %w", row.ID, err)
		}
		p.Rejection = r
	}
	st, err := claim.ParseChargebackStatus(deref(row.ChargebackStatus))
	if err != nil {
		return fmt.Errorf("claim %s: %w", row.ID, err)
	}
	if st == claim.ChargebackNone {
		return nil
	}
	cb := claim.Chargeback{Status: st}
	if row.ContestBy != nil {
		cb.ContestBy = row.ContestBy.UTC()
	}
	if row.Chargeback != nil {
		var j chargebackJSON
		if err := json.Unmarshal([]byte(*row.Chargeback), &j); err != nil {
			return fmt.Errorf("claim %s chargeback: %w", row.ID, err)
		}
		cb.ChargedAt, cb.Recovery, cb.Note = j.ChargedAt.UTC(), j.Recovery, j.Note
		cb.Protected = j.Protected || row.ChargebackProtected
		if j.Contest != nil {
			ct := &claim.Contest{Statement: j.Contest.Statement, At: j.Contest.At.UTC()}
			for _, ev := range j.Contest.Evidence {
				ct.Evidence = append(ct.Evidence, claim.Evidence{Kind: ev.Kind, URL: ev.URL})
			}
			cb.Contest = ct
		}
		if j.ResolvedBy != nil && j.ResolvedAt != nil {
			cb.ResolvedBy, cb.ResolvedAt = claim.Actor{Kind: j.ResolvedBy.Kind, ID: j.ResolvedBy.ID}, j.ResolvedAt.UTC()
		}
	} else if row.ChargedAt != nil {
		cb.ChargedAt = row.ChargedAt.UTC()
	}
	p.Chargeback = cb
	return nil
}

func nonZeroTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
