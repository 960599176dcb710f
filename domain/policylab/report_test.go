package policylab_test

import (
	"math"
	"testing"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/domain/standing"
)

var (
	eur = money.MustCurrency("EUR")
	jpy = money.MustCurrency("JPY")
)

func kase(id string, got decision.Outcome, amount money.Money, reason claim.Reason, later policylab.Later) policylab.Case {
	return policylab.Case{ClaimID: id, Got: got, DecidedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Facts: decision.Facts{ClaimReason: reason, Amount: amount, SellerStanding: standing.LevelCreditable}, Later: later}
}

func TestReportTalliesMatrixBreakdownsAndConsequences(t *testing.T) {
	r := policylab.NewReport()
	instant, review, rejected := decision.OutcomeInstantRefund, decision.OutcomeManualReview, decision.OutcomeRejected
	cases := []struct {
		c    policylab.Case
		cand decision.Decision
		want bool
	}{
		{kase("a", review, money.Of(1000, eur), claim.ReasonCounterfeit, policylab.Later{AgentRejected: true}), decision.Decision{Outcome: instant, Tier: "new"}, true},
		{kase("b", review, money.Of(2000, eur), claim.ReasonCounterfeit, policylab.Later{Refunded: true, ChargeReleased: true, Contested: true}), decision.Decision{Outcome: instant, Tier: "new"}, true},
		{kase("c", instant, money.Of(300, jpy), claim.ReasonDamaged, policylab.Later{Refunded: true}), decision.Decision{Outcome: review, Tier: "trusted"}, true},
		{kase("d", instant, money.Of(400, jpy), claim.ReasonDamaged, policylab.Later{Refunded: true, Contested: true}), decision.Decision{Outcome: review, Tier: "trusted"}, true},
		{kase("e", instant, money.Of(500, eur), claim.ReasonDamaged, policylab.Later{Refunded: true}), decision.Decision{Outcome: instant, Tier: "new"}, false},
		{kase("f", instant, money.Of(600, eur), claim.ReasonNotReceived, policylab.Later{Refunded: true}), decision.Decision{Outcome: rejected}, true},
	}
	for _, tc := range cases {
		if got := r.Add(tc.c, tc.cand); got != tc.want {
			t.Errorf("%s: changed = %v, want %v", tc.c.ClaimID, got, tc.want)
		}
	}
	if r.Replayed != 6 || r.Changed != 5 {
		t.Fatalf("replayed %d changed %d, want 6 and 5", r.Replayed, r.Changed)
	}
	cell := r.Matrix.Cell(review, instant)
	if cell.Count != 2 || len(cell.Sums.Totals()) != 1 || cell.Sums.Totals()[0].Amount != 3000 {
		t.Errorf("review→instant cell %+v", cell.Sums.Totals())
	}
	if tot := r.Matrix.Cell(instant, review).Sums.Totals(); len(tot) != 1 || tot[0].Currency != jpy || tot[0].Amount != 700 {
		t.Errorf("instant→review money %+v, want 700 JPY", tot)
	}
	if s := r.ByTier[policylab.NoTier]; s == nil || s.Replayed != 1 {
		t.Errorf("a rejection weighs no tier: %+v", r.ByTier)
	}
	if s := r.ByReason["counterfeit"]; s.Changed != 2 {
		t.Errorf("by reason %+v", s)
	}
	if s := r.ByStanding["creditable"]; s.Replayed != 6 {
		t.Errorf("by standing %+v", s)
	}
	q := r.Consequences
	if q.NewlyInstant.Count != 2 || q.AgentRejected.Count != 1 || q.ChargeReleased.Count != 1 || q.Disputed.Count != 0 {
		t.Errorf("instant consequences %+v", q)
	}
	if q.NewlyReview.Count != 2 || q.SettledWithoutDispute.Count != 1 {
		t.Errorf("review consequences: %d new, %d settled without dispute; want 2 and 1", q.NewlyReview.Count, q.SettledWithoutDispute.Count)
	}
	if q.NewlyRejected.Count != 1 || q.RejectedButSettled.Count != 1 {
		t.Errorf("rejection consequences %+v", q)
	}

	// Split in two and merged, the figures are the same.
	a, b := policylab.NewReport(), policylab.NewReport()
	for i, tc := range cases {
		if i%2 == 0 {
			a.Add(tc.c, tc.cand)
		} else {
			b.Add(tc.c, tc.cand)
		}
	}
	a.Merge(b)
	if a.Replayed != r.Replayed || a.Changed != r.Changed || a.Matrix.Cell(review, instant).Count != 2 ||
		a.Consequences.AgentRejected.Count != 1 || a.ByReason["damaged"].Replayed != 3 {
		t.Errorf("merged report differs")
	}
}

func TestSumsNeverWrap(t *testing.T) {
	var s policylab.Sums
	s.Add(money.Of(math.MaxInt64-5, eur))
	s.Add(money.Of(10, eur))
	s.Add(money.Of(7, jpy))
	tot := s.Totals()
	if len(tot) != 2 || tot[0].Currency != eur || !tot[0].Overflow || tot[0].Amount != 0 {
		t.Fatalf("an overflowing total shows no figure: %+v", tot)
	}
	s.Add(money.Of(1, eur))
	if tot := s.Totals(); !tot[0].Overflow || tot[1].Amount != 7 {
		t.Fatalf("overflow sticks, other currencies unaffected: %+v", tot)
	}
	var m policylab.Sums
	m.Add(money.Of(1, eur))
	m.Merge(s)
	if tot := m.Totals(); !tot[0].Overflow {
		t.Fatalf("merging an overflow keeps it: %+v", tot)
	}
}

func TestParseChange(t *testing.T) {
	c, err := policylab.ParseChange("instant_refund:manual_review")
	if err != nil || c.Got != decision.OutcomeInstantRefund || c.Candidate != decision.OutcomeManualReview || c.String() != "instant_refund:manual_review" {
		t.Fatalf("%v %v", c, err)
	}
	for _, bad := range []string{"", "instant_refund", "instant_refund:", ":rejected", "instant:manual_review", "a:b:c", "instant_refund:manual_review:rejected"} {
		if _, err := policylab.ParseChange(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestStatuses(t *testing.T) {
	for _, s := range policylab.Statuses {
		got, err := policylab.ParseStatus(s.String())
		if err != nil || got != s {
			t.Errorf("%s: %v", s, err)
		}
	}
	if _, err := policylab.ParseStatus("live"); err == nil {
		t.Error("unknown status accepted")
	}
	for _, s := range []policylab.BacktestStatus{policylab.BacktestQueued, policylab.BacktestRunning, policylab.BacktestCompleted, policylab.BacktestFailed} {
		got, err := policylab.ParseBacktestStatus(s.String())
		if err != nil || got != s || got.Done() != (s == policylab.BacktestCompleted || s == policylab.BacktestFailed) {
			t.Errorf("%s: %v", s, err)
		}
	}
}
