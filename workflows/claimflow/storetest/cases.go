package storetest

import (
	"errors"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

var errBoom = errors.New("boom")

// testMissingIsNotFound: what is not there is a *claimflow.NotFoundError
// naming it, and a change to a claim that is not there calls nothing.
func testMissingIsNotFound(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	id := "clm_contract_missing_" + f.suffix

	_, err := f.st.GetClaim(f.ctx, id)
	requireNotFound(t, err, "claim", id)
	_, _, err = f.st.GetClaimOrder(f.ctx, id)
	requireNotFound(t, err, "claim", id)
	_, err = f.st.GetOrder(f.ctx, "ord_missing_"+f.suffix)
	requireNotFound(t, err, "order", "ord_missing_"+f.suffix)
	_, err = f.st.GetSeller(f.ctx, "sel_missing_"+f.suffix)
	requireNotFound(t, err, "seller", "sel_missing_"+f.suffix)

	err = f.st.UpdateClaim(f.ctx, id, func(*claim.Claim) (claimflow.Effects, error) {
		t.Error("UpdateClaim called fn for a missing claim")
		return claimflow.Effects{}, nil
	})
	requireNotFound(t, err, "claim", id)
	_, err = f.st.AmendClaim(f.ctx, id, func(*claim.Claim, money.Money) (claimflow.Effects, error) {
		t.Error("AmendClaim called fn for a missing claim")
		return claimflow.Effects{}, nil
	})
	requireNotFound(t, err, "claim", id)
	require.Empty(t, f.events(id))
}

// testGetClaims: claims read together are each as read alone; an unknown
// id is left out, and none at all is an empty map.
func testGetClaims(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	o := f.order(3, base.Add(-48*time.Hour))
	a := f.file(o, filing{units: 1, outcome: decision.OutcomeInstantRefund, at: base})
	b := f.file(o, filing{units: 1, outcome: decision.OutcomeManualReview, at: base.Add(time.Minute), reviewBy: base.Add(3 * time.Hour)})
	missing := "clm_contract_missing_" + f.suffix
	got, err := f.st.GetClaims(f.ctx, []string{a.Claim.ID(), missing, b.Claim.ID()})
	require.NoError(t, err)
	require.Len(t, got, 2)
	requireRecord(t, f.stored(a.Claim.ID()), got[a.Claim.ID()])
	requireRecord(t, f.stored(b.Claim.ID()), got[b.Claim.ID()])
	// The claim read with its order is the claim read alone, and the order
	// as stored.
	rec, o2, err := f.st.GetClaimOrder(f.ctx, b.Claim.ID())
	require.NoError(t, err)
	requireRecord(t, f.stored(b.Claim.ID()), rec)
	alone, err := f.st.GetOrder(f.ctx, o.ID())
	require.NoError(t, err)
	require.Equal(t, alone, o2)
	none, err := f.st.GetClaims(f.ctx, nil)
	require.NoError(t, err)
	require.Empty(t, none)
}

// testUpsertSellerAndOrder: upserts say whether they created; what was
// stored reads back; an order needs its seller, and once claimed keeps
// the terms its claims were checked against.
func testUpsertSellerAndOrder(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))

	changed, err := seller.New(seller.Params{ID: f.seller.ID(), Name: "Renamed", RiskScore: 70, StripeAccount: "acct_" + f.suffix})
	require.NoError(t, err)
	created, err := f.st.UpsertSeller(f.ctx, changed, base.Add(time.Hour))
	require.NoError(t, err)
	require.False(t, created)
	got, err := f.st.GetSeller(f.ctx, f.seller.ID())
	require.NoError(t, err)
	require.Equal(t, changed, got)

	paid := base.Add(-48 * time.Hour)
	o := f.order(3, paid)
	gotOrder, err := f.st.GetOrder(f.ctx, o.ID())
	require.NoError(t, err)
	require.Equal(t, o, gotOrder)
	created, err = f.st.UpsertOrder(f.ctx, o, base)
	require.NoError(t, err)
	require.False(t, created)

	orphan, err := order.New(order.Params{ID: "ord_orphan_" + f.suffix, BuyerID: f.shopper, SellerID: "sel_missing_" + f.suffix,
		Currency: "EUR", Amount: unit, Items: []order.Item{{SKU: "sku_a", Name: "A", Quantity: 1, UnitAmount: unit}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay"}, PaidAt: &paid})
	require.NoError(t, err)
	_, err = f.st.UpsertOrder(f.ctx, orphan, base)
	requireNotFound(t, err, "seller", "sel_missing_"+f.suffix)
	var nf *claimflow.NotFoundError
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "seller_id", nf.Field)

	f.file(o, filing{units: 1, outcome: decision.OutcomeManualReview, at: base})
	p := order.Params{ID: o.ID(), BuyerID: o.BuyerID(), SellerID: o.SellerID(), Currency: "EUR", Amount: o.Amount().Amount(),
		Items: o.Items(), Payment: o.Payment(), PaidAt: o.PaidAt()}
	delivered := base.Add(-24 * time.Hour)
	p.DeliveredAt = &delivered
	arrived, err := order.New(p)
	require.NoError(t, err)
	created, err = f.st.UpsertOrder(f.ctx, arrived, base)
	require.NoError(t, err, "delivery may be recorded on a claimed order")
	require.False(t, created)
	gotOrder, err = f.st.GetOrder(f.ctx, o.ID())
	require.NoError(t, err)
	require.Equal(t, arrived, gotOrder)

	p.Amount, p.Items = 2*unit, []order.Item{{SKU: "sku_a", Name: "A", Quantity: 2, UnitAmount: unit}}
	smaller, err := order.New(p)
	require.NoError(t, err)
	_, err = f.st.UpsertOrder(f.ctx, smaller, base)
	require.ErrorIs(t, err, claimflow.ErrOrderHasClaims)
	gotOrder, err = f.st.GetOrder(f.ctx, o.ID())
	require.NoError(t, err)
	require.Equal(t, arrived, gotOrder)
}

// testSubmitClaimStores: a submitted claim reads back with its decision
// and facts, its timeline holds its first two events, and the steps its
// record asked for are scheduled.
func testSubmitClaimStores(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	o := f.order(3, base.Add(-48*time.Hour))
	tests := []struct {
		give       decision.Outcome
		wantStatus claim.Status
		want       Scheduled
	}{
		{give: decision.OutcomeInstantRefund, wantStatus: claim.StatusApproved,
			want: Scheduled{Steps: []claimflow.Step{claimflow.StepRefund}}},
		{give: decision.OutcomeManualReview, wantStatus: claim.StatusInReview,
			want: Scheduled{Timers: []claimflow.Timer{{Step: claimflow.StepReviewDeadline, At: base.Add(3 * time.Hour)}}}},
		{give: decision.OutcomeRejected, wantStatus: claim.StatusRejected},
	}
	for i, tt := range tests {
		at := base.Add(time.Duration(i) * time.Minute)
		rec := f.file(o, filing{units: 1, outcome: tt.give, at: at, reviewBy: base.Add(3 * time.Hour),
			evidence: []claim.Evidence{{Kind: "photo", URL: "https://example.com/" + f.suffix + ".jpg"}}})
		id := rec.Claim.ID()
		require.Equal(t, tt.wantStatus, rec.Claim.Status())

		requireRecord(t, rec, f.stored(id))
		d := rec.Decision
		require.Equal(t, []claim.Event{
			{Type: "submitted", To: claim.StatusSubmitted, Actor: claim.Actor{Kind: "shopper", ID: f.shopper}, At: at,
				Data: asJSON(t, map[string]any{"reason": "counterfeit", "amount": unit, "currency": "EUR"})},
			{Type: "decided", From: claim.StatusSubmitted, To: tt.wantStatus, Actor: claim.SystemActor, At: at,
				Data: asJSON(t, decidedData(d))},
		}, f.events(id))
		require.Equal(t, tt.want, f.scheduled(id), tt.give.String())
	}
}

// testSubmitClaimReadsIntake: decide sees the order, its seller, the
// order's claims that still hold an amount, and the shopper's and the
// seller's history since the time given.
func testSubmitClaimReadsIntake(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	first := f.order(2, base.Add(-150*24*time.Hour))
	o := f.order(3, base.Add(-10*24*time.Hour))
	f.file(first, filing{units: 1, outcome: decision.OutcomeInstantRefund, at: base.Add(-120 * 24 * time.Hour)})
	live := f.file(o, filing{units: 1, outcome: decision.OutcomeInstantRefund, at: base.Add(-24 * time.Hour)})
	f.file(o, filing{units: 1, outcome: decision.OutcomeRejected, at: base.Add(-23 * time.Hour)})
	f.file(o, filing{units: 1, reason: claim.ReasonDamaged, outcome: decision.OutcomeManualReview, at: base.Add(-22 * time.Hour)})
	other := f.orderFor("shp_other_"+f.suffix, 1, base.Add(-5*24*time.Hour))
	f.file(other, filing{units: 1, outcome: decision.OutcomeInstantRefund, at: base.Add(-time.Hour)})

	var got claimflow.Intake
	_, err := f.st.SubmitClaim(f.ctx, o.ID(), f.shopper, base.Add(-90*24*time.Hour), func(in claimflow.Intake) (claimflow.Record, error) {
		got = in
		return claimflow.Record{}, errBoom
	})
	require.ErrorIs(t, err, errBoom)

	require.Equal(t, o, got.Order)
	require.Equal(t, f.seller, got.Seller)
	liveIDs := make([]string, len(got.LiveClaims))
	for i, lc := range got.LiveClaims {
		liveIDs[i] = lc.ID
		if lc.ID == live.Claim.ID() {
			require.Equal(t, claimflow.LiveClaim{ID: lc.ID, Items: live.Claim.Items(), Amount: live.Claim.Amount()}, lc)
		}
	}
	require.Len(t, liveIDs, 2, "the approved claim and the one in review; not the rejected one, nor those on other orders")
	require.Contains(t, liveIDs, live.Claim.ID())
	require.Equal(t, base.Add(-150*24*time.Hour), got.ShopperFirstOrderAt)
	require.Equal(t, 3, got.ShopperClaims, "the shopper's claims since the window began, rejected ones too")
	require.Equal(t, int64(2*unit), got.ShopperClaimed, "those not rejected")
	require.Equal(t, 2, got.SellerCounterfeitClaims, "counterfeit claims on the seller since the window began, not rejected, any shopper's")
}

// testSubmitClaimOnlyTheBuyers: a claim on an order that is not the
// shopper's, or on no order, is a *claimflow.NotFoundError naming the
// order_id field, and decide is not called.
func testSubmitClaimOnlyTheBuyers(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	o := f.order(1, base.Add(-48*time.Hour))
	decide := func(claimflow.Intake) (claimflow.Record, error) {
		t.Error("decide called for an order that is not the shopper's")
		return claimflow.Record{}, errBoom
	}
	for _, give := range []struct{ order, buyer string }{
		{o.ID(), "shp_other_" + f.suffix},
		{"ord_missing_" + f.suffix, f.shopper},
	} {
		_, err := f.st.SubmitClaim(f.ctx, give.order, give.buyer, base, decide)
		requireNotFound(t, err, "order", give.order)
		var nf *claimflow.NotFoundError
		require.ErrorAs(t, err, &nf)
		require.Equal(t, "order_id", nf.Field)
	}
}

// testSubmitClaimDecideError: when decide fails, nothing it built is
// kept: no claim, no events, no steps.
func testSubmitClaimDecideError(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	o := f.order(1, base.Add(-48*time.Hour))
	var id string
	_, err := f.st.SubmitClaim(f.ctx, o.ID(), f.shopper, base, func(in claimflow.Intake) (claimflow.Record, error) {
		rec, err := f.decide(in, filing{units: 1, outcome: decision.OutcomeInstantRefund, at: base})
		require.NoError(t, err)
		id = rec.Claim.ID()
		return rec, errBoom
	})
	require.ErrorIs(t, err, errBoom)
	_, err = f.st.GetClaim(f.ctx, id)
	requireNotFound(t, err, "claim", id)
	require.Empty(t, f.events(id))
	require.Zero(t, f.scheduled(id))
}

// testUpdateClaimWrites: an update writes the claim as fn left it, its
// new events after the old, its ledger transactions and its steps and
// timers.
func testUpdateClaimWrites(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	o := f.order(2, base.Add(-48*time.Hour))
	rec := f.file(o, filing{units: 2, outcome: decision.OutcomeInstantRefund, at: base})
	id := rec.Claim.ID()

	refundedAt := base.Add(time.Minute)
	ref := claim.RefundRef{Provider: f.provider(), ID: "re_" + f.suffix, At: refundedAt}
	want := f.update(id, func(c *claim.Claim) error { return c.MarkRefunded(ref, refundedAt) }, f.refundTx(id, 2*unit))
	require.Equal(t, rec.Claim.Version()+1, want.Version)
	require.Equal(t, want, Params(f.stored(id).Claim))
	require.Equal(t, int64(-2*unit), f.balance(ledger.ProviderCash(f.provider())))
	require.Equal(t, Scheduled{Steps: []claimflow.Step{claimflow.StepRefund, claimflow.StepChargeSeller}}, f.scheduled(id))

	chargedAt, contestBy := base.Add(2*time.Minute), base.Add(72*time.Hour)
	charge, err := ledger.Transfer(claimflow.ChargeSellerKey(id, 1), ledger.KindSellerCharge, ledger.ClaimsClearing,
		ledger.SellerReceivable(f.seller.ID()), money.Of(2*unit, eur))
	require.NoError(t, err)
	want = f.update(id, func(c *claim.Claim) error {
		if err := c.ChargeSeller(chargedAt, "", "", contestBy); err != nil {
			return err
		}
		return c.Close(chargedAt)
	}, charge)
	require.Equal(t, want, Params(f.stored(id).Claim))
	require.Equal(t, int64(2*unit), f.balance(ledger.SellerReceivable(f.seller.ID())))
	require.Equal(t, Scheduled{
		Steps:  []claimflow.Step{claimflow.StepRefund, claimflow.StepChargeSeller},
		Timers: []claimflow.Timer{{Step: claimflow.StepContestDeadline, At: contestBy}},
	}, f.scheduled(id))

	events := f.events(id)
	require.Len(t, events, 5)
	require.Equal(t, []claim.Event{
		{Type: "refunded", From: claim.StatusApproved, To: claim.StatusRefunded, Actor: claim.SystemActor, At: refundedAt,
			Data: asJSON(t, map[string]any{"provider": f.provider(), "refund_id": ref.ID})},
		{Type: "seller_charged", From: claim.StatusRefunded, To: claim.StatusSellerCharged, Actor: claim.SystemActor, At: chargedAt,
			Data: asJSON(t, map[string]any{"seller_id": f.seller.ID(), "amount": 2 * unit, "currency": "EUR",
				"contest_by": contestBy.Format(time.RFC3339)})},
		{Type: "closed", From: claim.StatusSellerCharged, To: claim.StatusClosed, Actor: claim.SystemActor, At: chargedAt},
	}, events[2:])
}

// testUpdateSeen: a change to a record read earlier is written as
// UpdateRecord writes it when the claim is still as read; when it changed
// since, fn is called with the claim as it is, and a change made to what
// was read earlier is never written.
func testUpdateSeen(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	o := f.order(3, base.Add(-48*time.Hour))
	refund := func(id string, at time.Time, calls *[]int64) func(r claimflow.Record) (claimflow.Effects, error) {
		return func(r claimflow.Record) (claimflow.Effects, error) {
			*calls = append(*calls, r.Claim.Version())
			if r.Claim.Status() != claim.StatusApproved {
				return claimflow.Effects{}, claimflow.ErrNothingToDo
			}
			ref := claim.RefundRef{Provider: f.provider(), ID: "re_" + id, At: at}
			if err := r.Claim.MarkRefunded(ref, at); err != nil {
				return claimflow.Effects{}, err
			}
			return claimflow.Effects{Ledger: []ledger.Transaction{f.refundTx(id, unit)}, Next: []claimflow.Step{claimflow.StepChargeSeller}}, nil
		}
	}

	// Still as read: written once, from what was read.
	a := f.file(o, filing{units: 1, outcome: decision.OutcomeInstantRefund, at: base}).Claim.ID()
	seen, err := f.st.GetClaim(f.ctx, a)
	require.NoError(t, err)
	var calls []int64
	readAt := seen.Claim.Version()
	require.NoError(t, f.st.UpdateSeen(f.ctx, seen, refund(a, base.Add(time.Minute), &calls)))
	require.Equal(t, []int64{readAt}, calls, "called once, with what was read")
	stored := f.stored(a).Claim
	require.Equal(t, claim.StatusRefunded, stored.Status())
	require.Equal(t, readAt+1, stored.Version())
	require.Equal(t, int64(-unit), f.balance(ledger.ProviderCash(f.provider())))

	// Changed since it was read (its refund failed meanwhile): fn sees the
	// claim as it is, finds nothing to do, and nothing is written.
	b := f.file(o, filing{units: 1, outcome: decision.OutcomeInstantRefund, at: base.Add(time.Second)}).Claim.ID()
	seen, err = f.st.GetClaim(f.ctx, b)
	require.NoError(t, err)
	readAt = seen.Claim.Version()
	f.update(b, func(c *claim.Claim) error {
		return c.FailRefund(claim.Failure{Code: "card_declined", Reason: "declined"}, base.Add(24*time.Hour), base.Add(2*time.Minute))
	})
	rejected, events := f.stored(b), f.events(b)
	calls = nil
	require.NoError(t, f.st.UpdateSeen(f.ctx, seen, refund(b, base.Add(3*time.Minute), &calls)))
	// Whether fn is first called with what was read is the store's
	// choice; its last call sees the claim as it is.
	require.NotEmpty(t, calls)
	require.Equal(t, rejected.Claim.Version(), calls[len(calls)-1], "called last with the claim as it is")
	require.Subset(t, []int64{readAt, rejected.Claim.Version()}, calls)
	requireRecord(t, rejected, f.stored(b))
	require.Equal(t, events, f.events(b))
	require.Equal(t, int64(-unit), f.balance(ledger.ProviderCash(f.provider())), "only the first claim's refund")
}

// testUpdateClaimNothingToDo: fn returning claimflow.ErrNothingToDo is a
// success that writes nothing, whatever fn changed or asked for.
func testUpdateClaimNothingToDo(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	o := f.order(1, base.Add(-48*time.Hour))
	id := f.file(o, filing{units: 1, outcome: decision.OutcomeManualReview, at: base}).Claim.ID()
	before, events, scheduled := f.stored(id), f.events(id), f.scheduled(id)

	err := f.st.UpdateClaim(f.ctx, id, func(c *claim.Claim) (claimflow.Effects, error) {
		require.NoError(t, c.OverrideApprove(agent, "looks fake", money.Of(unit, eur), base.Add(time.Minute)))
		return claimflow.Effects{Ledger: []ledger.Transaction{f.refundTx(id, unit)}, Next: []claimflow.Step{claimflow.StepRefund}},
			claimflow.ErrNothingToDo
	})

	require.NoError(t, err)
	requireRecord(t, before, f.stored(id))
	require.Equal(t, events, f.events(id))
	require.Equal(t, scheduled, f.scheduled(id))
	require.Zero(t, f.balance(ledger.ProviderCash(f.provider())))
}

// testUpdateClaimError: fn's error is returned and nothing is written.
func testUpdateClaimError(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	o := f.order(1, base.Add(-48*time.Hour))
	id := f.file(o, filing{units: 1, outcome: decision.OutcomeManualReview, at: base}).Claim.ID()
	before, events, scheduled := f.stored(id), f.events(id), f.scheduled(id)

	err := f.st.UpdateClaim(f.ctx, id, func(c *claim.Claim) (claimflow.Effects, error) {
		require.NoError(t, c.OverrideApprove(agent, "looks fake", money.Of(unit, eur), base.Add(time.Minute)))
		return claimflow.Effects{Ledger: []ledger.Transaction{f.refundTx(id, unit)}, Next: []claimflow.Step{claimflow.StepRefund}}, errBoom
	})

	require.ErrorIs(t, err, errBoom)
	requireRecord(t, before, f.stored(id))
	require.Equal(t, events, f.events(id))
	require.Equal(t, scheduled, f.scheduled(id))
	require.Zero(t, f.balance(ledger.ProviderCash(f.provider())))
}

// testUpdateClaimSerialised: concurrent updates of one claim run one
// after the other, each on the claim as the last one left it, so a step
// delivered many times at once acts once.
func testUpdateClaimSerialised(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	o := f.order(1, base.Add(-48*time.Hour))
	rec := f.file(o, filing{units: 1, outcome: decision.OutcomeInstantRefund, at: base})
	id := rec.Claim.ID()

	const workers = 8
	tx := f.refundTx(id, unit)
	var acted atomic.Int32
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.st.UpdateClaim(f.ctx, id, func(c *claim.Claim) (claimflow.Effects, error) {
				if c.Status() != claim.StatusApproved {
					return claimflow.Effects{}, claimflow.ErrNothingToDo
				}
				at := base.Add(time.Minute)
				if err := c.MarkRefunded(claim.RefundRef{Provider: f.provider(), ID: "re_" + f.suffix, At: at}, at); err != nil {
					return claimflow.Effects{}, err
				}
				acted.Add(1)
				return follow(c, tx), nil
			})
		}()
	}
	wg.Wait()

	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int32(1), acted.Load())
	got := f.stored(id).Claim
	require.Equal(t, claim.StatusRefunded, got.Status())
	require.Equal(t, rec.Claim.Version()+1, got.Version())
	require.Len(t, f.events(id), 3)
	require.Equal(t, int64(-unit), f.balance(ledger.ProviderCash(f.provider())))
	require.Equal(t, Scheduled{Steps: []claimflow.Step{claimflow.StepRefund, claimflow.StepChargeSeller}}, f.scheduled(id))
}

// testLedgerKeyOnce: a ledger transaction is written once per key; the
// same key again, even for another amount, adds nothing.
func testLedgerKeyOnce(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	o := f.order(2, base.Add(-48*time.Hour))
	id := f.file(o, filing{units: 2, outcome: decision.OutcomeInstantRefund, at: base}).Claim.ID()
	for _, amount := range []int64{2 * unit, 2 * unit, unit} {
		f.update(id, func(*claim.Claim) error { return nil }, f.refundTx(id, amount))
	}
	require.Equal(t, int64(-2*unit), f.balance(ledger.ProviderCash(f.provider())))
}

// testClaimRoundTrip: every field of a claim reads back as written, at
// each turn of a long journey and of a rejection.
func testClaimRoundTrip(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	o := f.order(3, base.Add(-48*time.Hour))
	rec := f.file(o, filing{units: 2, outcome: decision.OutcomeManualReview, at: base, reviewBy: base.Add(time.Hour),
		evidence: []claim.Evidence{{Kind: "photo", URL: "https://example.com/a.jpg"}, {Kind: "link", URL: "https://example.com/b"}}})
	id := rec.Claim.ID()
	requireRecord(t, rec, f.stored(id))
	sellerActor := claim.Actor{Kind: "seller", ID: f.seller.ID()}
	at := func(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }
	ref := claim.RefundRef{Provider: f.provider(), ID: "re_" + f.suffix, At: at(180)}

	type turn struct {
		name   string
		update func(c *claim.Claim) error
		amend  func(c *claim.Claim, refundable money.Money) error
	}
	for _, tt := range []turn{
		{name: "escalated", update: func(c *claim.Claim) error {
			require.True(t, c.Escalate(at(61)))
			return nil
		}},
		{name: "granted by an agent", amend: func(c *claim.Claim, refundable money.Money) error {
			return c.OverrideApprove(agent, "the photos show it", refundable, at(90))
		}},
		{name: "refused by the provider", update: func(c *claim.Claim) error {
			return c.FailRefund(claim.Failure{Code: "card_declined", Reason: "The card was closed."}, at(150), at(91))
		}},
		{name: "retried", amend: func(c *claim.Claim, _ money.Money) error {
			return c.RetryRefund(agent, "new card on file", at(120))
		}},
		{name: "pending", update: func(c *claim.Claim) error { return c.MarkRefundPending(ref, at(121)) }},
		{name: "refunded", update: func(c *claim.Claim) error { return c.MarkRefunded(ref, at(180)) }},
		{name: "charged and closed", update: func(c *claim.Claim) error {
			if err := c.ChargeSeller(at(181), "trr_"+f.suffix, "recovered from the seller's account", at(181+72*60)); err != nil {
				return err
			}
			return c.Close(at(181))
		}},
		{name: "contested", amend: func(c *claim.Claim, _ money.Money) error {
			return c.Contest(sellerActor, "The item is genuine.", []claim.Evidence{{Kind: "document", URL: "https://example.com/invoice.pdf"}}, at(200))
		}},
		{name: "contest reversed", amend: func(c *claim.Claim, _ money.Money) error {
			return c.ResolveContest(agent, false, "the invoice is real", at(300))
		}},
	} {
		var want claim.RehydrateParams
		if tt.update != nil {
			want = f.update(id, tt.update)
		} else {
			var got claimflow.Record
			want, got = f.amend(id, tt.amend)
			require.Equal(t, want, Params(got.Claim), "%s: AmendClaim returns the claim as stored", tt.name)
		}
		require.Equal(t, want, Params(f.stored(id).Claim), tt.name)
	}
	require.Equal(t, 2, f.stored(id).Claim.RefundAttempt())

	events := f.events(id)
	types := make([]string, len(events))
	for i, ev := range events {
		types[i] = ev.Type
	}
	require.Equal(t, []string{"submitted", "decided", "escalated", "override", "refund_failed", "override",
		"refund_pending", "refunded", "seller_charged", "closed", "chargeback_contested", "contest_reversed"}, types)
	require.Equal(t, claim.Event{Type: "override", From: claim.StatusRefundFailed, To: claim.StatusApproved, Actor: agent,
		Note: "new card on file", At: at(120)}, eventKinds(events)[5])
	require.Equal(t, asJSON(t, map[string]any{"action": "retry_refund", "refund_attempt": 2, "failure_code": "card_declined"}), events[5].Data)

	rejected := f.file(o, filing{units: 1, outcome: decision.OutcomeManualReview, at: base}).Claim.ID()
	want, _ := f.amend(rejected, func(c *claim.Claim, _ money.Money) error {
		return c.OverrideReject(agent, claim.RejectItemAuthentic, "genuine", at(30))
	})
	require.Equal(t, want, Params(f.stored(rejected).Claim))
	require.Equal(t, claim.RejectItemAuthentic, want.Rejection)
}

// testAmendClaimRefundable: fn is told what the claim's order can still
// refund besides the claim: what was paid less what its other claims
// that were not rejected hold. AmendClaim returns the claim as stored and
// writes fn's steps.
func testAmendClaimRefundable(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	o := f.order(4, base.Add(-48*time.Hour))
	f.file(o, filing{units: 1, outcome: decision.OutcomeInstantRefund, at: base})
	f.file(o, filing{units: 2, outcome: decision.OutcomeRejected, at: base})
	id := f.file(o, filing{units: 1, outcome: decision.OutcomeManualReview, at: base}).Claim.ID()

	var told money.Money
	want, rec := f.amend(id, func(c *claim.Claim, refundable money.Money) error {
		told = refundable
		return c.OverrideApprove(agent, "looks fake", refundable, base.Add(time.Minute))
	})

	require.Equal(t, money.Of(3*unit, eur), told)
	require.Equal(t, want, Params(rec.Claim))
	requireRecord(t, f.stored(id), rec)
	require.Equal(t, Scheduled{
		Steps:  []claimflow.Step{claimflow.StepRefund},
		Timers: []claimflow.Timer{{Step: claimflow.StepReviewDeadline, At: base.Add(24 * time.Hour)}},
	}, f.scheduled(id))
}

// testAmendClaimError: fn's error is returned, claimflow.ErrNothingToDo
// too, and nothing is written.
func testAmendClaimError(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	o := f.order(1, base.Add(-48*time.Hour))
	id := f.file(o, filing{units: 1, outcome: decision.OutcomeManualReview, at: base}).Claim.ID()
	before, events, scheduled := f.stored(id), f.events(id), f.scheduled(id)

	for _, give := range []error{errBoom, claimflow.ErrNothingToDo} {
		_, err := f.st.AmendClaim(f.ctx, id, func(c *claim.Claim, refundable money.Money) (claimflow.Effects, error) {
			require.NoError(t, c.OverrideApprove(agent, "looks fake", refundable, base.Add(time.Minute)))
			return follow(c, f.refundTx(id, unit)), give
		})
		require.ErrorIs(t, err, give)
	}
	requireRecord(t, before, f.stored(id))
	require.Equal(t, events, f.events(id))
	require.Equal(t, scheduled, f.scheduled(id))
	require.Zero(t, f.balance(ledger.ProviderCash(f.provider())))
}

// testAmendClaimSerialisedPerOrder: two rejected claims, each for the
// whole order, granted at once: one is granted, the other is refused, so
// together they never hold more than was paid.
func testAmendClaimSerialised(t *testing.T, h Harness) {
	f := newFixture(t, h, h.New(t))
	o := f.order(2, base.Add(-48*time.Hour))
	ids := []string{
		f.file(o, filing{units: 2, outcome: decision.OutcomeRejected, at: base}).Claim.ID(),
		f.file(o, filing{units: 2, outcome: decision.OutcomeRejected, at: base}).Claim.ID(),
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.st.AmendClaim(f.ctx, id, func(c *claim.Claim, refundable money.Money) (claimflow.Effects, error) {
				if err := c.OverrideApprove(agent, "looks fake", refundable, base.Add(time.Minute)); err != nil {
					return claimflow.Effects{}, err
				}
				return follow(c), nil
			})
		}()
	}
	wg.Wait()

	granted := 0
	for i, err := range errs {
		if err == nil {
			granted++
			require.Equal(t, claim.StatusApproved, f.stored(ids[i]).Claim.Status())
			continue
		}
		var re *claim.RefusedError
		require.ErrorAs(t, err, &re)
		require.Equal(t, "amount_no_longer_refundable", re.Code)
		require.Equal(t, claim.StatusRejected, f.stored(ids[i]).Claim.Status())
	}
	require.Equal(t, 1, granted)
}

// stalledFixture files, on a store of its own, a claim in every state
// NextStep tells apart, on both sides of cutoff, and returns the store's
// claims by name and the names of those whose next step was due before
// cutoff.
func stalledFixture(t *testing.T, h Harness, cutoff time.Time) (*fixture, map[string]string, []string) {
	f := newFixture(t, h, h.NewEmpty(t))
	o := f.order(20, cutoff.Add(-30*24*time.Hour))
	at := func(d time.Duration) time.Time { return cutoff.Add(d) }
	ids := map[string]string{}
	file := func(name string, outcome decision.Outcome, filed, reviewBy time.Time, then ...func(c *claim.Claim) error) {
		t.Helper()
		id := f.file(o, filing{units: 1, outcome: outcome, at: filed, reviewBy: reviewBy}).Claim.ID()
		for _, fn := range then {
			f.update(id, fn)
		}
		ids[name] = id
	}
	ref := claim.RefundRef{Provider: f.provider(), ID: "re_" + f.suffix}
	refunded := func(when time.Time) func(c *claim.Claim) error {
		return func(c *claim.Claim) error { ref.At = when; return c.MarkRefunded(ref, when) }
	}
	closed := func(when, contestBy time.Time) func(c *claim.Claim) error {
		return func(c *claim.Claim) error {
			if err := c.ChargeSeller(when, "", "", contestBy); err != nil {
				return err
			}
			return c.Close(when)
		}
	}
	approve, review, reject := decision.OutcomeInstantRefund, decision.OutcomeManualReview, decision.OutcomeRejected
	var none time.Time

	file("approved an hour ago", approve, at(-time.Hour), none)
	file("approved an hour ago too", approve, at(-time.Hour), none)
	file("approved at the cutoff", approve, at(0), none)
	file("approved in an hour", approve, at(time.Hour), none)
	file("refunded two hours ago", approve, at(-3*time.Hour), none, refunded(at(-2*time.Hour)))
	file("refunded in a minute", approve, at(-3*time.Hour), none, refunded(at(time.Minute)))
	file("refund pending", approve, at(-3*time.Hour), none, func(c *claim.Claim) error {
		return c.MarkRefundPending(ref, at(-3*time.Hour))
	})
	file("rejected", reject, at(-3*time.Hour), none)
	file("in review past its deadline", review, at(-48*time.Hour), at(-30*time.Minute))
	file("in review before its deadline", review, at(-48*time.Hour), at(time.Hour))
	file("in review, escalated", review, at(-48*time.Hour), at(-30*time.Minute), func(c *claim.Claim) error {
		require.True(t, c.Escalate(at(-20*time.Minute)))
		return nil
	})
	file("refund failed past its deadline", approve, at(-3*time.Hour), none, func(c *claim.Claim) error {
		return c.FailRefund(claim.Failure{Code: claim.FailureRetriesExhausted, Reason: "down"}, at(-10*time.Minute), at(-2*time.Hour))
	})
	file("charge open past its window", approve, at(-5*24*time.Hour), none, refunded(at(-5*24*time.Hour)),
		closed(at(-4*24*time.Hour), at(-5*time.Minute)))
	file("charge open within its window", approve, at(-5*24*time.Hour), none, refunded(at(-5*24*time.Hour)),
		closed(at(-4*24*time.Hour), at(24*time.Hour)))
	file("charge final", approve, at(-5*24*time.Hour), none, refunded(at(-5*24*time.Hour)),
		closed(at(-4*24*time.Hour), at(-2*time.Hour)), func(c *claim.Claim) error {
			require.True(t, c.FinalizeChargeback(at(-time.Hour)))
			return nil
		})
	file("charge contested", approve, at(-5*24*time.Hour), none, refunded(at(-5*24*time.Hour)),
		closed(at(-4*24*time.Hour), at(-2*time.Hour)), func(c *claim.Claim) error {
			return c.Contest(claim.Actor{Kind: "seller", ID: f.seller.ID()}, "genuine", nil, at(-3*time.Hour))
		})

	return f, ids, []string{
		"approved an hour ago", "approved an hour ago too", "refunded two hours ago", "in review past its deadline",
		"refund failed past its deadline", "charge open past its window",
	}
}

// testStalledClaims: the claims whose next step (claimflow.NextStep)
// became due before the time asked for, and only those, in the order of
// their last change, then id.
func testStalledClaims(t *testing.T, h Harness) {
	cutoff := base
	f, ids, wantNames := stalledFixture(t, h, cutoff)

	got, err := f.st.StalledClaims(f.ctx, claimflow.StalledFilter{Before: cutoff, Limit: 100})
	require.NoError(t, err)

	var want []claimflow.Record
	for _, name := range wantNames {
		want = append(want, f.stored(ids[name]))
	}
	sort.Slice(want, func(i, j int) bool {
		a, b := want[i].Claim, want[j].Claim
		if !a.UpdatedAt().Equal(b.UpdatedAt()) {
			return a.UpdatedAt().Before(b.UpdatedAt())
		}
		return a.ID() < b.ID()
	})
	names := map[string]string{}
	for name, id := range ids {
		names[id] = name
	}
	gotNames := make([]string, len(got))
	for i, rec := range got {
		gotNames[i] = names[rec.Claim.ID()]
	}
	wantOrder := make([]string, len(want))
	for i, rec := range want {
		wantOrder[i] = names[rec.Claim.ID()]
	}
	require.Equal(t, wantOrder, gotNames)
	for i := range want {
		requireRecord(t, want[i], got[i])
	}
	// The fixture covers every branch of NextStep, and the store agrees
	// with it claim by claim.
	for name, id := range ids {
		next, ok := claimflow.NextStep(f.stored(id).Claim)
		require.Equal(t, slices.Contains(wantNames, name), ok && next.At.Before(cutoff), name)
	}
}

// testStalledClaimsPages: a page holds at most Limit claims, and the
// next begins after the cursor of the last, ties on the last change
// broken by id.
func testStalledClaimsPages(t *testing.T, h Harness) {
	f, _, wantNames := stalledFixture(t, h, base)
	all, err := f.st.StalledClaims(f.ctx, claimflow.StalledFilter{Before: base, Limit: 100})
	require.NoError(t, err)
	require.Len(t, all, len(wantNames))

	var paged []claimflow.Record
	filter := claimflow.StalledFilter{Before: base, Limit: 2}
	for range len(all) {
		page, err := f.st.StalledClaims(f.ctx, filter)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 2)
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		last := page[len(page)-1].Claim
		filter.After = &claimflow.StalledCursor{UpdatedAt: last.UpdatedAt(), ID: last.ID()}
	}
	require.Equal(t, len(all), len(paged))
	for i := range all {
		requireRecord(t, all[i], paged[i])
	}
}
