package policyflow

import (
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/policylab"
)

// ReportDoc is a replay's report as the API shows it and the store keeps
// it: counts and money per currency on every cell of the matrix from the
// outcome claims got to the candidate's, the same by claim reason, trust
// tier and seller standing, and the consequences.
type ReportDoc struct {
	Replayed     int64               `json:"replayed"`
	Changed      int64               `json:"changed"`
	Matrix       MatrixDoc           `json:"matrix"`
	ByReason     map[string]SliceDoc `json:"by_reason"`
	ByTier       map[string]SliceDoc `json:"by_tier"`
	ByStanding   map[string]SliceDoc `json:"by_standing"`
	Consequences ConsequencesDoc     `json:"consequences"`
}

// AmountDoc is a sum in one currency's minor units; with Overflow the sum
// could not be expressed and Amount is null.
type AmountDoc struct {
	Amount   *int64 `json:"amount"`
	Currency string `json:"currency"`
	Overflow bool   `json:"overflow,omitempty"`
}

// CellDoc counts claims and sums their amounts per currency.
type CellDoc struct {
	Count   int64       `json:"count"`
	Amounts []AmountDoc `json:"amounts"`
}

// MatrixDoc is indexed by the outcome got, then the candidate's: every
// pair of outcomes is present.
type MatrixDoc map[string]map[string]CellDoc

// SliceDoc is the figures over part of the claims.
type SliceDoc struct {
	Replayed int64     `json:"replayed"`
	Changed  int64     `json:"changed"`
	Matrix   MatrixDoc `json:"matrix"`
}

// ConsequencesDoc is what became of the claims the candidate decides
// otherwise, by the candidate's outcome.
type ConsequencesDoc struct {
	InstantRefund struct {
		Claims         CellDoc `json:"claims"`
		AgentRejected  CellDoc `json:"agent_rejected"`
		ChargeReleased CellDoc `json:"charge_released"`
		Disputed       CellDoc `json:"disputed"`
		RefundFailed   CellDoc `json:"refund_failed"`
	} `json:"instant_refund"`
	ManualReview struct {
		Claims                CellDoc `json:"claims"`
		SettledWithoutDispute CellDoc `json:"settled_without_dispute"`
	} `json:"manual_review"`
	Rejected struct {
		Claims                CellDoc `json:"claims"`
		SettledWithoutDispute CellDoc `json:"settled_without_dispute"`
	} `json:"rejected"`
}

// Doc returns r as its document.
func Doc(r *policylab.Report) *ReportDoc {
	d := &ReportDoc{
		Replayed: r.Replayed, Changed: r.Changed, Matrix: matrixDoc(&r.Matrix),
		ByReason: slicesDoc(r.ByReason), ByTier: slicesDoc(r.ByTier), ByStanding: slicesDoc(r.ByStanding),
	}
	q := &r.Consequences
	c := &d.Consequences
	c.InstantRefund.Claims, c.InstantRefund.AgentRejected = cellDoc(q.NewlyInstant), cellDoc(q.AgentRejected)
	c.InstantRefund.ChargeReleased, c.InstantRefund.Disputed = cellDoc(q.ChargeReleased), cellDoc(q.Disputed)
	c.InstantRefund.RefundFailed = cellDoc(q.RefundFailed)
	c.ManualReview.Claims, c.ManualReview.SettledWithoutDispute = cellDoc(q.NewlyReview), cellDoc(q.SettledWithoutDispute)
	c.Rejected.Claims, c.Rejected.SettledWithoutDispute = cellDoc(q.NewlyRejected), cellDoc(q.RejectedButSettled)
	return d
}

func cellDoc(t policylab.Tally) CellDoc {
	totals := t.Sums.Totals()
	c := CellDoc{Count: t.Count, Amounts: make([]AmountDoc, len(totals))}
	for i, tot := range totals {
		c.Amounts[i] = AmountDoc{Currency: tot.Currency.String(), Overflow: tot.Overflow}
		if !tot.Overflow {
			a := tot.Amount
			c.Amounts[i].Amount = &a
		}
	}
	return c
}

func matrixDoc(m *policylab.Matrix) MatrixDoc {
	out := make(MatrixDoc, len(decision.Outcomes))
	for _, got := range decision.Outcomes {
		row := make(map[string]CellDoc, len(decision.Outcomes))
		for _, cand := range decision.Outcomes {
			row[cand.String()] = cellDoc(*m.Cell(got, cand))
		}
		out[got.String()] = row
	}
	return out
}

func slicesDoc(m map[string]*policylab.Slice) map[string]SliceDoc {
	out := make(map[string]SliceDoc, len(m))
	for k, s := range m {
		out[k] = SliceDoc{Replayed: s.Replayed, Changed: s.Changed, Matrix: matrixDoc(&s.Matrix)}
	}
	return out
}
