package claim

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
)

// statusEvents are the event types that record a change without moving the
// claim: From and To are then both the current status.
var statusEvents = map[string]bool{
	"escalated": true, "chargeback_contested": true, "contest_upheld": true, "contest_reversed": true,
	"chargeback_waived": true, "chargeback_final": true,
}

// TestClaimStateMachineProperty drives claims through random sequences of
// their public methods, with a fixed seed, and checks after every step:
// the status is a known one; every recorded event either follows an
// allowed transition of the state machine or records a change without
// moving the claim; events chain (each starts where the last ended, the
// last ends at the current status); the version never decreases and
// counts the events; deadlines are only set while a person is awaited;
// and an action that is refused (an error, or false) changes nothing.
func TestClaimStateMachineProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2026, 1127))
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	eur := money.MustCurrency("EUR")
	paidAt := start.Add(-48 * time.Hour)
	o, err := order.New(order.Params{
		ID: "ord_1", BuyerID: "shp_1", SellerID: "sel_1", Currency: "EUR", Amount: 5000,
		Items: []order.Item{
			{SKU: "a", Name: "A", Quantity: 2, UnitAmount: 1500},
			{SKU: "b", Name: "B", Quantity: 1, UnitAmount: 2000},
		},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_1"},
		PaidAt:  &paidAt,
	})
	if err != nil {
		t.Fatal(err)
	}
	agent := Actor{Kind: "agent", ID: "agt_1"}
	seller := Actor{Kind: "seller", ID: "sel_1"}
	failureCodes := []FailureCode{"card_declined", FailureOutcomeUnknown, FailureRetriesExhausted, FailureAmountMismatch}
	rejections := append([]RejectionReason{{}}, RejectionReasons...)
	known := map[Status]bool{}
	for _, s := range Statuses {
		known[s] = true
	}

	const sequences, steps = 300, 80
	moved := map[[2]Status]bool{} // transitions seen, to check the walk's reach
	for seq := range sequences {
		c, err := New("clm_1", o, Request{ShopperID: "shp_1", Reason: "counterfeit", Description: "fake"}, money.Of(5000, eur), start)
		if err != nil {
			t.Fatal(err)
		}
		now := start
		var log []Event // every event the claim recorded, popped or not
		at := func() time.Time {
			// Mostly forward, sometimes far, now and then a step back.
			switch rng.IntN(10) {
			case 0:
				return now.Add(-time.Duration(rng.IntN(60)) * time.Minute)
			case 1:
				now = now.Add(time.Duration(rng.IntN(200)) * time.Hour)
			default:
				now = now.Add(time.Duration(rng.IntN(120)) * time.Minute)
			}
			return now
		}
		deadline := func() time.Time { return now.Add(time.Duration(rng.IntN(48)-4) * time.Hour) }
		note := func() string { return []string{"", "checked", "\x00bad"}[rng.IntN(3)] }

		type action struct {
			name string
			do   func() (ok bool, err error) // ok false or err: refused
			to   Status                      // the status a success moves to; zero: unchanged
		}
		errOnly := func(err error) (bool, error) { return err == nil, err }
		actions := []action{
			{"Approve", func() (bool, error) { return errOnly(c.Approve(SystemActor, note(), nil, at())) }, StatusApproved},
			{"SendToReview", func() (bool, error) {
				return errOnly(c.SendToReview(SystemActor, "", nil, deadline(), at()))
			}, StatusInReview},
			{"Reject", func() (bool, error) { return errOnly(c.Reject(SystemActor, "", nil, at())) }, StatusRejected},
			{"MarkRefunded", func() (bool, error) {
				return errOnly(c.MarkRefunded(RefundRef{Provider: "sandbox", ID: "re_1", At: now}, at()))
			}, StatusRefunded},
			{"MarkRefundPending", func() (bool, error) {
				return errOnly(c.MarkRefundPending(RefundRef{Provider: "sandbox", ID: "re_1", At: now}, at()))
			}, StatusRefundPending},
			{"FailRefund", func() (bool, error) {
				code := failureCodes[rng.IntN(len(failureCodes))]
				return errOnly(c.FailRefund(Failure{Code: code, Reason: "no"}, deadline(), at()))
			}, StatusRefundFailed},
			{"ChargeSeller", func() (bool, error) {
				t := at()
				return errOnly(c.ChargeSeller(t, "", "", t.Add(time.Duration(rng.IntN(100))*time.Hour)))
			}, StatusSellerCharged},
			{"Close", func() (bool, error) { return errOnly(c.Close(at())) }, StatusClosed},
			{"OverrideApprove", func() (bool, error) {
				refundable := money.Of(int64(rng.IntN(7000)), eur)
				return errOnly(c.OverrideApprove(agent, "checked", refundable, at()))
			}, StatusApproved},
			{"OverrideReject", func() (bool, error) {
				return errOnly(c.OverrideReject(agent, rejections[rng.IntN(len(rejections))], "checked", at()))
			}, StatusRejected},
			{"RetryRefund", func() (bool, error) { return errOnly(c.RetryRefund(agent, "retry", at())) }, StatusApproved},
			{"Escalate", func() (bool, error) { return c.Escalate(at()), nil }, Status{}},
			{"Contest", func() (bool, error) {
				statement := []string{"", "It was genuine.", "\x00"}[rng.IntN(3)]
				return errOnly(c.Contest(seller, statement, nil, at()))
			}, Status{}},
			{"ResolveContest", func() (bool, error) {
				return errOnly(c.ResolveContest(agent, rng.IntN(2) == 0, "settled", at()))
			}, Status{}},
			{"WaiveChargeback", func() (bool, error) { return errOnly(c.WaiveChargeback(agent, "waived", at())) }, Status{}},
			{"FinalizeChargeback", func() (bool, error) { return c.FinalizeChargeback(at()), nil }, Status{}},
		}

		log = append(log, c.PopEvents()...)
		check := func(step int, what string) {
			t.Helper()
			where := fmt.Sprintf("sequence %d step %d (%s)", seq, step, what)
			if !known[c.status] {
				t.Fatalf("%s: unknown status %q", where, c.status)
			}
			if int64(len(log)+len(c.pending)) != c.version {
				t.Fatalf("%s: version %d but %d events", where, c.version, len(log)+len(c.pending))
			}
			if !c.status.WaitsForPerson() && (!c.reviewDeadline.IsZero() || !c.escalatedAt.IsZero()) {
				t.Fatalf("%s: %s with a review deadline %v / escalation %v", where, c.status, c.reviewDeadline, c.escalatedAt)
			}
			all := slices.Concat(log, c.pending)
			for i, ev := range all {
				switch {
				case i == 0:
					if ev.Type != "submitted" || ev.From != (Status{}) || ev.To != StatusSubmitted {
						t.Fatalf("%s: first event %+v", where, ev)
					}
					continue
				case ev.From != all[i-1].To:
					t.Fatalf("%s: event %d starts at %s, the one before ended at %s", where, i, ev.From, all[i-1].To)
				case ev.From == ev.To:
					if !statusEvents[ev.Type] {
						t.Fatalf("%s: event %d %q does not move the claim (%s)", where, i, ev.Type, ev.From)
					}
				case !slices.Contains(transitions[ev.From], ev.To) || !ev.From.CanMoveTo(ev.To):
					t.Fatalf("%s: event %d %q moves %s → %s, not a transition", where, i, ev.Type, ev.From, ev.To)
				}
			}
			if last := all[len(all)-1]; last.To != c.status {
				t.Fatalf("%s: last event ends at %s, claim is %s", where, last.To, c.status)
			}
		}
		check(0, "New")

		for step := 1; step <= steps; step++ {
			if rng.IntN(8) == 0 {
				log = append(log, c.PopEvents()...) // as the store does
			}
			a := actions[rng.IntN(len(actions))]
			before := *c
			beforeVersion, beforeEvents := c.version, len(log)+len(c.pending)
			ok, err := a.do()
			if ok && err != nil {
				t.Fatalf("sequence %d step %d: %s ok with error %v", seq, step, a.name, err)
			}
			switch {
			case !ok:
				if !reflect.DeepEqual(before, *c) {
					t.Fatalf("sequence %d step %d: refused %s (%v) changed the claim:\nbefore %+v\nafter  %+v",
						seq, step, a.name, err, before, *c)
				}
			default:
				if c.version != beforeVersion+1 || len(log)+len(c.pending) != beforeEvents+1 {
					t.Fatalf("sequence %d step %d: %s: version %d → %d, events %d → %d", seq, step, a.name,
						beforeVersion, c.version, beforeEvents, len(log)+len(c.pending))
				}
				want := a.to
				if want == (Status{}) {
					want = before.status
				}
				if c.status != want {
					t.Fatalf("sequence %d step %d: %s from %s ended at %s, want %s", seq, step, a.name, before.status, c.status, want)
				}
				moved[[2]Status{before.status, c.status}] = true
			}
			if c.version < beforeVersion {
				t.Fatalf("sequence %d step %d: version went down %d → %d", seq, step, beforeVersion, c.version)
			}
			check(step, a.name)
		}
	}

	// The walk itself must reach every transition of the state machine.
	for from, tos := range transitions {
		for _, to := range tos {
			if !moved[[2]Status{from, to}] {
				t.Errorf("the random walk never moved %s → %s", from, to)
			}
		}
	}
}
