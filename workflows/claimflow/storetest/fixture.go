package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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

// base is the suite's clock: every time it writes is a whole minute from
// it, in UTC, which every store keeps exactly.
var base = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// unit is the price of one unit of the suite's orders, in euro cents.
const unit = 1000

var (
	eur   = money.MustCurrency("EUR")
	agent = claim.Actor{Kind: "agent", ID: "agt_contract"}
)

// fixture is one case's store and the seller and shopper it files
// claims for, named so that no other case's are theirs.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	st      Store
	h       Harness
	suffix  string
	seller  *seller.Seller
	shopper string
}

func newFixture(t *testing.T, h Harness, st Store) *fixture {
	t.Helper()
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(t, err)
	f := &fixture{t: t, ctx: context.Background(), st: st, h: h, suffix: hex.EncodeToString(b)}
	f.shopper = "shp_contract_" + f.suffix
	f.seller, err = seller.New(seller.Params{ID: "sel_contract_" + f.suffix, Name: "Contract Seller", RiskScore: 40, Verified: true})
	require.NoError(t, err)
	created, err := st.UpsertSeller(f.ctx, f.seller, base)
	require.NoError(t, err)
	require.True(t, created)
	return f
}

// provider names a payment provider of the case's own, for its refunds
// and ledger entries, so the ledger account of its cash is the case's
// alone. (Orders are paid through the sandbox, as orders may only name a
// provider the engine knows.)
func (f *fixture) provider() string { return "contract_" + f.suffix }

// order stores a paid order of units units for the shopper.
func (f *fixture) order(units int64, paidAt time.Time) *order.Order {
	f.t.Helper()
	return f.orderFor(f.shopper, units, paidAt)
}

func (f *fixture) orderFor(buyer string, units int64, paidAt time.Time) *order.Order {
	f.t.Helper()
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(f.t, err)
	o, err := order.New(order.Params{
		ID: "ord_contract_" + hex.EncodeToString(b), BuyerID: buyer, SellerID: f.seller.ID(), Currency: "EUR",
		Amount:  units * unit,
		Items:   []order.Item{{SKU: "sku_a", Name: "A", Quantity: units, UnitAmount: unit}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_" + f.suffix}, PaidAt: &paidAt,
	})
	require.NoError(f.t, err)
	created, err := f.st.UpsertOrder(f.ctx, o, paidAt)
	require.NoError(f.t, err)
	require.True(f.t, created)
	return o
}

// filing is a claim to file: how many units, for what reason, decided
// how, when, and (sent to review) by when a person must decide.
type filing struct {
	units    int64
	reason   claim.Reason
	outcome  decision.Outcome
	at       time.Time
	reviewBy time.Time // default: a day after at
	evidence []claim.Evidence
}

// file submits a claim on o and returns the record decide built (its
// events popped by the store).
func (f *fixture) file(o *order.Order, fl filing) claimflow.Record {
	f.t.Helper()
	rec, err := f.st.SubmitClaim(f.ctx, o.ID(), o.BuyerID(), fl.at.Add(-claimflow.HistoryWindow), func(in claimflow.Intake) (claimflow.Record, error) {
		return f.decide(in, fl)
	})
	require.NoError(f.t, err)
	return rec
}

// decide builds the record of fl on the intake's order, decided as fl
// says, with its next step.
func (f *fixture) decide(in claimflow.Intake, fl filing) (claimflow.Record, error) {
	refundable := in.Order.Amount().Amount()
	for _, lc := range in.LiveClaims {
		refundable -= lc.Amount.Amount()
	}
	id, err := claim.NewID(fl.at, rand.Reader)
	if err != nil {
		return claimflow.Record{}, err
	}
	reason := fl.reason
	if reason == (claim.Reason{}) {
		reason = claim.ReasonCounterfeit
	}
	amount := fl.units * unit
	c, err := claim.New(id, in.Order, claim.Request{
		ShopperID: in.Order.BuyerID(), Reason: reason.String(), Items: []claim.Item{{SKU: "sku_a", Quantity: fl.units}},
		Amount: &amount, Description: "The logo is printed crooked.", Evidence: fl.evidence,
	}, money.Of(max(refundable, 0), eur), fl.at)
	if err != nil {
		return claimflow.Record{}, err
	}
	d := decision.Decision{Outcome: fl.outcome, PolicyVersion: "contract-1", Tier: "trusted",
		Reasons: []decision.Reason{{Code: "contract_rule", Message: "The contract suite decided it."}}}
	data := decidedData(d)
	switch fl.outcome {
	case decision.OutcomeInstantRefund:
		err = c.Approve(claim.SystemActor, "", data, fl.at)
	case decision.OutcomeRejected:
		err = c.Reject(claim.SystemActor, "", data, fl.at)
	default:
		reviewBy := fl.reviewBy
		if reviewBy.IsZero() {
			reviewBy = fl.at.Add(24 * time.Hour)
		}
		err = c.SendToReview(claim.SystemActor, "", data, reviewBy, fl.at)
	}
	if err != nil {
		return claimflow.Record{}, err
	}
	delivered := fl.at.Add(-24 * time.Hour)
	rec := claimflow.Record{Claim: c, Decision: d, DecidedAt: fl.at, Facts: decision.Facts{
		ClaimReason: reason, Amount: c.Amount(), OrderAmount: in.Order.Amount(), PaidAt: *in.Order.PaidAt(),
		DeliveredAt: &delivered, SellerRiskScore: in.Seller.RiskScore(), SellerVerified: in.Seller.Verified(),
		SellerCounterfeitClaims90d: in.SellerCounterfeitClaims, ShopperFirstOrderAt: in.ShopperFirstOrderAt,
		ShopperClaims90d: in.ShopperClaims, ShopperRefunded90d: money.Of(in.ShopperClaimed, eur),
	}}
	if in.LinkedShoppers > 0 { // as claimflow.Service.Submit records them
		rec.Facts.LinkedShoppers, rec.Facts.LinkedClaims90d, rec.Facts.LinkedSignals = in.LinkedShoppers, in.LinkedClaims, in.LinkedSignals
		rec.Facts.LinkedRefunded90d = money.Of(in.LinkedClaimed, eur)
	}
	if next, ok := claimflow.NextStep(c); ok {
		eff := next.Effects()
		rec.Next, rec.Timers = eff.Next, eff.Timers
	}
	return rec, nil
}

func decidedData(d decision.Decision) map[string]any {
	return map[string]any{"outcome": d.Outcome.String(), "reasons": []string{d.Reasons[0].Code}, "policy_version": d.PolicyVersion}
}

// update changes the claim with fn through UpdateClaim, schedules what
// follows it (claimflow.NextStep) and returns the claim's fields as fn
// left them.
func (f *fixture) update(id string, fn func(c *claim.Claim) error, txs ...ledger.Transaction) claim.RehydrateParams {
	f.t.Helper()
	var want claim.RehydrateParams
	require.NoError(f.t, f.st.UpdateClaim(f.ctx, id, func(c *claim.Claim) (claimflow.Effects, error) {
		if err := fn(c); err != nil {
			return claimflow.Effects{}, err
		}
		want = Params(c)
		return follow(c, txs...), nil
	}))
	return want
}

// amend is update through AmendClaim; it also returns the record
// AmendClaim returned.
func (f *fixture) amend(id string, fn func(c *claim.Claim, refundable money.Money) error) (claim.RehydrateParams, claimflow.Record) {
	f.t.Helper()
	var want claim.RehydrateParams
	rec, err := f.st.AmendClaim(f.ctx, id, func(c *claim.Claim, refundable money.Money) (claimflow.Effects, error) {
		if err := fn(c, refundable); err != nil {
			return claimflow.Effects{}, err
		}
		want = Params(c)
		return follow(c), nil
	})
	require.NoError(f.t, err)
	return want, rec
}

// follow is the effects of a change that leaves c as it stands.
func follow(c *claim.Claim, txs ...ledger.Transaction) claimflow.Effects {
	var eff claimflow.Effects
	if next, ok := claimflow.NextStep(c); ok {
		eff = next.Effects()
	}
	eff.Ledger = txs
	return eff
}

// stored returns the claim as the store reads it back.
func (f *fixture) stored(id string) claimflow.Record {
	f.t.Helper()
	rec, err := f.st.GetClaim(f.ctx, id)
	require.NoError(f.t, err)
	return rec
}

func (f *fixture) events(id string) []claim.Event {
	f.t.Helper()
	events, err := f.st.ClaimEvents(f.ctx, id)
	require.NoError(f.t, err)
	return events
}

func (f *fixture) scheduled(id string) Scheduled {
	f.t.Helper()
	return f.h.Scheduled(f.t, f.st, id)
}

// balance is an account's balance in euro cents; 0 when never posted to.
func (f *fixture) balance(account ledger.Account) int64 {
	f.t.Helper()
	bs, err := f.st.Balances(f.ctx, account)
	require.NoError(f.t, err)
	var sum int64
	for _, b := range bs {
		require.Equal(f.t, eur, b.Currency())
		sum += b.Amount()
	}
	return sum
}

// refundTx is the ledger transaction of claim id's refund, from the
// case's own provider.
func (f *fixture) refundTx(id string, amount int64) ledger.Transaction {
	f.t.Helper()
	tx, err := ledger.Transfer(claimflow.RefundKey(id, 1), ledger.KindRefund, ledger.ProviderCash(f.provider()),
		ledger.ClaimsClearing, money.Of(amount, eur))
	require.NoError(f.t, err)
	return tx
}

// requireRecord checks that got is the record want, as stored.
func requireRecord(t *testing.T, want, got claimflow.Record) {
	t.Helper()
	require.Equal(t, Params(want.Claim), Params(got.Claim))
	require.Equal(t, want.Decision, got.Decision)
	require.Equal(t, want.Facts, got.Facts)
	require.Equal(t, want.DecidedAt, got.DecidedAt)
}

// requireNotFound checks err is a *claimflow.NotFoundError for the
// resource.
func requireNotFound(t *testing.T, err error, resource, id string) {
	t.Helper()
	var nf *claimflow.NotFoundError
	require.ErrorAs(t, err, &nf)
	require.ErrorIs(t, err, claimflow.ErrNotFound)
	require.Equal(t, resource, nf.Resource)
	require.Equal(t, id, nf.ID)
}

// asJSON is data as a store reads it back: as JSON carries it.
func asJSON(t *testing.T, data map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(data)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// eventKinds is each event's type, statuses, actor and time: what every
// event of the timeline must read back as.
func eventKinds(events []claim.Event) []claim.Event {
	out := make([]claim.Event, len(events))
	for i, ev := range events {
		out[i] = claim.Event{Type: ev.Type, From: ev.From, To: ev.To, Actor: ev.Actor, Note: ev.Note, At: ev.At}
	}
	return out
}
