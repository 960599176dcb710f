package console

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// reportView is a replay's report (a backtest's or the shadow's) as the
// pages show it: the matrix from the outcome claims got to the
// candidate's, the same by claim reason, trust tier and seller standing,
// the consequences in words, the money moved and its chart.
type reportView struct {
	Replayed, Changed int64
	Matrix            matrixView
	Breakdowns        []breakdownView
	Consequences      []consequenceView
	Moved             movedView
	Charts            []finChart
}

// matrixView is the matrix as a table: a row per outcome got, a column per
// candidate outcome.
type matrixView struct {
	Columns []string
	Rows    []matrixRow
}

type matrixRow struct {
	Label string
	Cells []matrixCell
}

// matrixCell is the claims that got one outcome and the candidate decides
// another (or the same): how many, their money per currency. Changed is
// a cell off the diagonal with claims in it; ClaimsURL lists them.
type matrixCell struct {
	Got, Candidate string
	Count          int64
	Amounts        []string
	Changed        bool
	Same           bool
	ClaimsURL      string
}

// breakdownView is the figures by one kind of slice (claim reason, tier,
// standing).
type breakdownView struct {
	ID, Heading, Column string
	Rows                []breakdownRow
}

type breakdownRow struct {
	Label             string
	Replayed, Changed int64
	// Moves are the changes in it, in words with their count and money.
	Moves []string
}

// consequenceView is one line of the consequences: what it means, how
// many claims, their money. Part lines are "of which" lines under the
// line before.
type consequenceView struct {
	Label, Hint string
	Count       int64
	Amounts     string
	Part        bool
}

// movedView is the money the candidate moves: the claims it would refund
// at once that the recorded decision did not, and those it would no
// longer refund at once, with their money per currency (never added up
// across currencies).
type movedView struct {
	ToCount, FromCount     int64
	ToAmounts, FromAmounts []string
}

// newReportView builds the view of r; claimsURL is the changed-claims list
// the matrix's cells link to ("" for none).
func newReportView(r *policyflow.ReportDoc, claimsURL string) *reportView {
	if r == nil {
		return nil
	}
	v := &reportView{Replayed: r.Replayed, Changed: r.Changed, Matrix: newMatrixView(r.Matrix, claimsURL)}
	v.Breakdowns = []breakdownView{
		newBreakdown("by-reason", "By claim reason", "Claim reason", r.ByReason, reasonOrder, words),
		newBreakdown("by-tier", "By the shopper's trust tier, as the candidate places them", "Tier", r.ByTier, tierOrder, tierLabel),
		newBreakdown("by-standing", "By the seller's standing when the claim was filed", "Standing", r.ByStanding, standingOrder, words),
	}
	v.Consequences = consequencesView(r.Consequences)
	v.Moved = movedOf(r.Matrix)
	v.Charts = movedCharts(r.Matrix)
	return v
}

func newMatrixView(m policyflow.MatrixDoc, claimsURL string) matrixView {
	var v matrixView
	for _, cand := range decision.Outcomes {
		v.Columns = append(v.Columns, outcomeLabel(cand))
	}
	for _, got := range decision.Outcomes {
		row := matrixRow{Label: outcomeLabel(got)}
		for _, cand := range decision.Outcomes {
			cell := m[got.String()][cand.String()]
			mc := matrixCell{Got: got.String(), Candidate: cand.String(), Count: cell.Count, Amounts: amountsOf(cell.Amounts), Same: got == cand}
			if got != cand && cell.Count > 0 {
				mc.Changed = true
				if claimsURL != "" {
					mc.ClaimsURL = claimsURL + "?change=" + policylab.Change{Got: got, Candidate: cand}.String() + "#changed"
				}
			}
			row.Cells = append(row.Cells, mc)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// amountsOf writes a cell's sums, one a currency.
func amountsOf(as []policyflow.AmountDoc) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, amountOf(a))
	}
	return out
}

func amountOf(a policyflow.AmountDoc) string {
	if a.Overflow || a.Amount == nil {
		return "too large to show (" + a.Currency + ")"
	}
	cur, err := money.ParseCurrency(a.Currency)
	if err != nil {
		return strconv.FormatInt(*a.Amount, 10) + " " + a.Currency
	}
	return money.Of(*a.Amount, cur).String()
}

// cellAmounts writes a cell's sums on one line, "none" for none.
func cellAmounts(c policyflow.CellDoc) string {
	if len(c.Amounts) == 0 {
		return "none"
	}
	return strings.Join(amountsOf(c.Amounts), ", ")
}

// The orders breakdown rows are listed in: reasons and standings as the
// engine lists them, tiers by name with "none" last.
func reasonOrder(keys []string) []string {
	order := make([]string, len(claim.Reasons))
	for i, r := range claim.Reasons {
		order[i] = r.String()
	}
	return ordered(keys, order)
}

func standingOrder(keys []string) []string {
	order := make([]string, len(standing.Levels))
	for i, l := range standing.Levels {
		order[i] = l.String()
	}
	return ordered(keys, order)
}

func tierOrder(keys []string) []string {
	slices.SortFunc(keys, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == policylab.NoTier:
			return 1
		case b == policylab.NoTier:
			return -1
		}
		return strings.Compare(a, b)
	})
	return keys
}

// ordered lists keys in order's order, and those order does not name
// after them, sorted.
func ordered(keys, order []string) []string {
	var out, rest []string
	for _, k := range order {
		if slices.Contains(keys, k) {
			out = append(out, k)
		}
	}
	for _, k := range keys {
		if !slices.Contains(order, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

func tierLabel(t string) string {
	if t == policylab.NoTier {
		return "no tier (decided before a tier is weighed)"
	}
	return t
}

func newBreakdown(id, heading, column string, m map[string]policyflow.SliceDoc, order func([]string) []string, label func(string) string) breakdownView {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	b := breakdownView{ID: id, Heading: heading, Column: column}
	for _, k := range order(keys) {
		s := m[k]
		row := breakdownRow{Label: label(k), Replayed: s.Replayed, Changed: s.Changed}
		for _, got := range decision.Outcomes {
			for _, cand := range decision.Outcomes {
				cell := s.Matrix[got.String()][cand.String()]
				if got == cand || cell.Count == 0 {
					continue
				}
				row.Moves = append(row.Moves, fmt.Sprintf("%s: %d (%s)", changeLabel(policylab.Change{Got: got, Candidate: cand}), cell.Count, cellAmounts(cell)))
			}
		}
		b.Rows = append(b.Rows, row)
	}
	return b
}

// consequencesView says what became of the claims the candidate decides
// otherwise, in words.
func consequencesView(q policyflow.ConsequencesDoc) []consequenceView {
	line := func(label, hint string, c policyflow.CellDoc, part bool) consequenceView {
		return consequenceView{Label: label, Hint: hint, Count: c.Count, Amounts: cellAmounts(c), Part: part}
	}
	i, r, x := q.InstantRefund, q.ManualReview, q.Rejected
	return []consequenceView{
		line("Would be refunded at once, and were not", "The risk a looser policy takes on: these claims pay out without a person looking.", i.Claims, false),
		line("… of which a person later rejected", "Money the candidate would have paid out that an agent decided was not owed.", i.AgentRejected, true),
		line("… of which the seller's charge was reversed or waived", "The platform bore the cost of these refunds.", i.ChargeReleased, true),
		line("… of which the brand rated the goods genuine", "The shopper's counterfeit report was not borne out.", i.Disputed, true),
		line("… of which the refund failed", "The payment provider could not refund them.", i.RefundFailed, true),
		line("Would go to a person, and were refunded at once", "The review work a stricter policy adds.", r.Claims, false),
		line("… of which were refunded and never disputed", "Review work that would have changed nothing: nobody contested, disputed or rejected them.", r.SettledWithoutDispute, true),
		line("Would be rejected, and were not", "Shoppers the candidate would turn away.", x.Claims, false),
		line("… of which were refunded and never disputed", "Shoppers turned away who were owed their money, as far as anyone found.", x.SettledWithoutDispute, true),
	}
}

// total adds minor units up, checked.
type total struct {
	n        int64
	overflow bool
}

func (t *total) add(a policyflow.AmountDoc) {
	if t.overflow || a.Overflow || a.Amount == nil {
		t.overflow = true
		return
	}
	s, err := money.AddMinor(t.n, *a.Amount)
	if err != nil {
		t.overflow = true
		return
	}
	t.n = s
}

// sums adds amounts up per currency.
type sums map[string]*total

func (s sums) add(as []policyflow.AmountDoc) {
	for _, a := range as {
		if s[a.Currency] == nil {
			s[a.Currency] = &total{}
		}
		s[a.Currency].add(a)
	}
}

// Strings writes the sums, one a currency, by currency code.
func (s sums) Strings() []string {
	curs := make([]string, 0, len(s))
	for c := range s {
		curs = append(curs, c)
	}
	slices.Sort(curs)
	out := make([]string, len(curs))
	for i, c := range curs {
		n := s[c].n
		out[i] = amountOf(policyflow.AmountDoc{Amount: &n, Currency: c, Overflow: s[c].overflow})
	}
	return out
}

// movedOf adds up the claims the candidate would refund at once and the
// recorded decision did not, and those it would no longer refund at once.
func movedOf(m policyflow.MatrixDoc) movedView {
	var v movedView
	to, from := sums{}, sums{}
	for _, got := range decision.Outcomes {
		for _, cand := range decision.Outcomes {
			cell := m[got.String()][cand.String()]
			switch {
			case got == cand:
			case cand == decision.OutcomeInstantRefund:
				v.ToCount += cell.Count
				to.add(cell.Amounts)
			case got == decision.OutcomeInstantRefund:
				v.FromCount += cell.Count
				from.add(cell.Amounts)
			}
		}
	}
	v.ToAmounts, v.FromAmounts = to.Strings(), from.Strings()
	return v
}

// movedCharts draws, per currency, the money the candidate moves: a column
// per candidate outcome (claims it would now refund at once, send to a
// person, reject), stacked by the outcome they got. Currencies are never
// added up. Each chart has a table of its numbers.
func movedCharts(m policyflow.MatrixDoc) []finChart {
	var curs []string
	for _, got := range decision.Outcomes {
		for _, cand := range decision.Outcomes {
			if got == cand {
				continue
			}
			for _, a := range m[got.String()][cand.String()].Amounts {
				if !slices.Contains(curs, a.Currency) {
					curs = append(curs, a.Currency)
				}
			}
		}
	}
	slices.Sort(curs)
	labels := make([]string, len(decision.Outcomes))
	for i, cand := range decision.Outcomes {
		labels[i] = "now " + strings.ToLower(outcomeLabel(cand))
	}
	var charts []finChart
	for _, code := range curs {
		cur, err := money.ParseCurrency(code)
		if err != nil {
			continue
		}
		id := "chart-moved-" + strings.ToLower(code)
		ch := barChart{ID: id, Title: "Money moved by the candidate, " + code, Labels: labels, Stacked: true,
			Desc:   "For each outcome the candidate would give, the money of the claims that got another outcome, stacked by the outcome they got.",
			Format: func(v int64) string { return money.Of(v, cur).String() }}
		tbl := finTable{Heading: "Money moved, " + code, RowHead: "Recorded", Columns: labels}
		for si, got := range decision.Outcomes {
			s := barSeries{Name: "was " + strings.ToLower(outcomeLabel(got)), Class: finOutcomeSeries[si].Class, Values: make([]int64, len(decision.Outcomes))}
			row := finTableRow{Label: "Was " + strings.ToLower(outcomeLabel(got))}
			for ci, cand := range decision.Outcomes {
				shown := "—"
				if got != cand {
					shown = money.Of(0, cur).String()
					for _, a := range m[got.String()][cand.String()].Amounts {
						if a.Currency != code {
							continue
						}
						shown = amountOf(a)
						if a.Amount != nil && !a.Overflow {
							s.Values[ci] = *a.Amount
						}
					}
				}
				row.Cells = append(row.Cells, shown)
			}
			ch.Series = append(ch.Series, s)
			tbl.Rows = append(tbl.Rows, row)
		}
		charts = append(charts, finChart{ID: id, Heading: "Money moved, " + code, SVG: ch.SVG(), Legend: legendOf(ch), Table: tbl})
	}
	return charts
}
