package policylab

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/standing"
)

// Case is one recorded decision to replay: the facts it weighed, the
// moment it was made, the outcome it got, and what became of the claim
// afterwards.
type Case struct {
	ClaimID   string
	Facts     decision.Facts
	DecidedAt time.Time
	Got       decision.Outcome
	Later     Later
}

// Later is what happened to a claim after its decision, read from its
// timeline and its charge.
type Later struct {
	// AgentRejected: a person rejected on review a claim the engine had
	// not rejected (one given up after its refund failed is RefundFailed).
	AgentRejected bool
	// RefundFailed: a refund of the claim failed (at once or later).
	RefundFailed bool
	// Refunded: the shopper was refunded (the claim reached refunded).
	Refunded bool
	// Contested: the seller contested the charge.
	Contested bool
	// ChargeReleased: the charge was reversed on contest or waived, so
	// the platform bore the cost.
	ChargeReleased bool
	// Disputed: the brand's rights holder rated the goods genuine.
	Disputed bool
}

// SettledWithoutDispute reports whether the claim was refunded and stayed
// so with nobody disputing it: no failed refund, no contest, no release of
// the charge, no genuine verdict, no rejection by a person. Sending such a
// claim to a person is review work that changes nothing.
func (l Later) SettledWithoutDispute() bool {
	return l.Refunded && !l.RefundFailed && !l.Contested && !l.ChargeReleased && !l.Disputed && !l.AgentRejected
}

// Change is a move from the outcome a claim got to the candidate's.
type Change struct{ Got, Candidate decision.Outcome }

// String is the change as the API writes it: "instant_refund:manual_review".
func (c Change) String() string { return c.Got.String() + ":" + c.Candidate.String() }

// ParseChange reads "got:candidate", e.g. "instant_refund:manual_review".
func ParseChange(s string) (Change, error) {
	got, cand, ok := strings.Cut(s, ":")
	if !ok {
		return Change{}, fmt.Errorf("must be two outcomes joined by a colon, such as instant_refund:manual_review")
	}
	g, err := decision.ParseOutcome(got)
	if err != nil {
		return Change{}, fmt.Errorf("%q is not an outcome (instant_refund, manual_review, rejected)", got)
	}
	c, err := decision.ParseOutcome(cand)
	if err != nil {
		return Change{}, fmt.Errorf("%q is not an outcome (instant_refund, manual_review, rejected)", cand)
	}
	return Change{Got: g, Candidate: c}, nil
}

// Sums adds amounts up per currency, checked: a currency whose total
// overflows int64 is marked and shows no figure rather than a wrong one.
type Sums struct {
	totals   map[money.Currency]int64
	overflow map[money.Currency]bool
}

// Add adds m to its currency's total.
func (s *Sums) Add(m money.Money) {
	if s.totals == nil {
		s.totals = map[money.Currency]int64{}
	}
	c := m.Currency()
	if s.overflow[c] {
		return
	}
	t, err := money.AddMinor(s.totals[c], m.Amount())
	if err != nil {
		if s.overflow == nil {
			s.overflow = map[money.Currency]bool{}
		}
		s.overflow[c] = true
		delete(s.totals, c)
		return
	}
	s.totals[c] = t
}

// Merge adds o's totals to s's.
func (s *Sums) Merge(o Sums) {
	for c, t := range o.totals {
		s.Add(money.Of(t, c))
	}
	for c := range o.overflow {
		if s.overflow == nil {
			s.overflow = map[money.Currency]bool{}
		}
		s.overflow[c] = true
		delete(s.totals, c)
	}
}

// Total is one currency's sum; Overflow means it could not be expressed
// and Amount is zero.
type Total struct {
	Currency money.Currency
	Amount   int64
	Overflow bool
}

// Totals returns the sums by currency code.
func (s Sums) Totals() []Total {
	out := make([]Total, 0, len(s.totals)+len(s.overflow))
	for c, t := range s.totals {
		out = append(out, Total{Currency: c, Amount: t})
	}
	for c := range s.overflow {
		out = append(out, Total{Currency: c, Overflow: true})
	}
	slices.SortFunc(out, func(a, b Total) int { return cmp.Compare(a.Currency.String(), b.Currency.String()) })
	return out
}

// Tally counts claims and adds up their amounts.
type Tally struct {
	Count int64
	Sums  Sums
}

func (t *Tally) add(m money.Money) {
	t.Count++
	t.Sums.Add(m)
}

func (t *Tally) merge(o Tally) {
	t.Count += o.Count
	t.Sums.Merge(o.Sums)
}

// Matrix is indexed by the outcome a claim got, then by the candidate's,
// each in the order of decision.Outcomes.
type Matrix [3][3]Tally

// Cell returns the tally of claims that got got and the candidate decides
// cand.
func (m *Matrix) Cell(got, cand decision.Outcome) *Tally { return &m[index(got)][index(cand)] }

func index(o decision.Outcome) int {
	i := slices.Index(decision.Outcomes, o)
	if i < 0 {
		panic(fmt.Sprintf("policylab: outcome %q", o))
	}
	return i
}

// Slice is a replay's figures over some claims: how many were replayed,
// how many the candidate decides otherwise, and the matrix.
type Slice struct {
	Replayed int64
	Changed  int64
	Matrix   Matrix
}

func (s *Slice) add(c Case, cand decision.Outcome) {
	s.Replayed++
	if cand != c.Got {
		s.Changed++
	}
	s.Matrix.Cell(c.Got, cand).add(c.Facts.Amount)
}

func (s *Slice) merge(o *Slice) {
	s.Replayed += o.Replayed
	s.Changed += o.Changed
	for i := range s.Matrix {
		for j := range s.Matrix[i] {
			s.Matrix[i][j].merge(o.Matrix[i][j])
		}
	}
}

// Consequences are what became of the claims the candidate decides
// otherwise, from what happened to them after their real decision: the
// risk a looser candidate takes on and the work a stricter one adds.
type Consequences struct {
	// Of the claims the candidate refunds instantly and the recorded
	// decision did not:
	NewlyInstant   Tally
	AgentRejected  Tally // a person later rejected it: money paid out that should not be
	ChargeReleased Tally // the charge was reversed on contest or waived
	Disputed       Tally // the rights holder rated the goods genuine
	RefundFailed   Tally // the refund failed
	// Of the claims the candidate sends to a person and the recorded
	// decision refunded instantly:
	NewlyReview           Tally
	SettledWithoutDispute Tally // review work that would have changed nothing
	// Of the claims the candidate rejects and the recorded decision did not:
	NewlyRejected Tally
	// Refunded, of those: shoppers the candidate would turn away who were
	// refunded and not disputed.
	RejectedButSettled Tally
}

func (q *Consequences) add(c Case, cand decision.Outcome) {
	if cand == c.Got {
		return
	}
	amt := c.Facts.Amount
	switch cand {
	case decision.OutcomeInstantRefund:
		q.NewlyInstant.add(amt)
		if c.Later.AgentRejected {
			q.AgentRejected.add(amt)
		}
		if c.Later.ChargeReleased {
			q.ChargeReleased.add(amt)
		}
		if c.Later.Disputed {
			q.Disputed.add(amt)
		}
		if c.Later.RefundFailed {
			q.RefundFailed.add(amt)
		}
	case decision.OutcomeManualReview:
		if c.Got == decision.OutcomeInstantRefund {
			q.NewlyReview.add(amt)
			if c.Later.SettledWithoutDispute() {
				q.SettledWithoutDispute.add(amt)
			}
		}
	case decision.OutcomeRejected:
		q.NewlyRejected.add(amt)
		if c.Later.SettledWithoutDispute() {
			q.RejectedButSettled.add(amt)
		}
	}
}

func (q *Consequences) merge(o *Consequences) {
	for _, p := range []struct{ a, b *Tally }{
		{&q.NewlyInstant, &o.NewlyInstant}, {&q.AgentRejected, &o.AgentRejected},
		{&q.ChargeReleased, &o.ChargeReleased}, {&q.Disputed, &o.Disputed},
		{&q.RefundFailed, &o.RefundFailed}, {&q.NewlyReview, &o.NewlyReview},
		{&q.SettledWithoutDispute, &o.SettledWithoutDispute}, {&q.NewlyRejected, &o.NewlyRejected},
		{&q.RejectedButSettled, &o.RejectedButSettled},
	} {
		p.a.merge(*p.b)
	}
}

// NoTier is the tier named in the breakdown for claims the candidate
// decides before it weighs a tier (rejections, untrustworthy facts).
const NoTier = "none"

// Report tallies a replay: the whole, the same by claim reason, by the
// shopper's trust tier (as the candidate places them) and by the seller's
// standing when the claim was filed, and the consequences.
type Report struct {
	Slice
	ByReason     map[string]*Slice
	ByTier       map[string]*Slice
	ByStanding   map[string]*Slice
	Consequences Consequences
}

// NewReport returns an empty report.
func NewReport() *Report {
	return &Report{ByReason: map[string]*Slice{}, ByTier: map[string]*Slice{}, ByStanding: map[string]*Slice{}}
}

// Add tallies one case and the candidate's decision of it, and reports
// whether the candidate changed its outcome.
func (r *Report) Add(c Case, d decision.Decision) bool {
	cand := d.Outcome
	r.add(c, cand)
	slice(r.ByReason, c.Facts.ClaimReason.String()).add(c, cand)
	tier := d.Tier
	if tier == "" {
		tier = NoTier
	}
	slice(r.ByTier, tier).add(c, cand)
	st := c.Facts.SellerStanding
	if st == "" {
		st = standing.LevelStandard
	}
	slice(r.ByStanding, st.String()).add(c, cand)
	r.Consequences.add(c, cand)
	return cand != c.Got
}

// Merge adds o's figures to r's, so a replay may be split across workers.
func (r *Report) Merge(o *Report) {
	r.merge(&o.Slice)
	for _, p := range []struct{ a, b map[string]*Slice }{{r.ByReason, o.ByReason}, {r.ByTier, o.ByTier}, {r.ByStanding, o.ByStanding}} {
		for k, s := range p.b {
			slice(p.a, k).merge(s)
		}
	}
	r.Consequences.merge(&o.Consequences)
}

func slice(m map[string]*Slice, k string) *Slice {
	s, ok := m[k]
	if !ok {
		s = &Slice{}
		m[k] = s
	}
	return s
}
