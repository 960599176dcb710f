package claimflow_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// fakeStore is an in-memory claimflow.Store holding one order, enough to
// test the use cases' own logic without a database.
type fakeStore struct {
	claimflow.Store
	order  *order.Order
	seller *seller.Seller
	live   []claimflow.LiveClaim
	saved  []claimflow.Record
	events []claim.Event
	keys   map[string]fakeKept // by scope and key
	fail   error               // SubmitClaim fails with it when set
}

// fakeKept is what ClaimOnce keeps of a keyed request.
type fakeKept struct {
	hash []byte
	rec  claimflow.Record
}

// ClaimOnce keeps the record fn returned by scope and key; it runs fn on
// itself (the fake has no transactions) and keeps nothing when fn fails.
func (f *fakeStore) ClaimOnce(_ context.Context, scope, key string, hash []byte,
	fn func(tx claimflow.Store) (claimflow.Record, error)) (claimflow.Record, bool, error) {
	if f.keys == nil {
		f.keys = map[string]fakeKept{}
	}
	if k, ok := f.keys[scope+"\x00"+key]; ok {
		if !bytes.Equal(k.hash, hash) {
			return claimflow.Record{}, false, claimflow.ErrIdempotencyKeyReused
		}
		return k.rec, true, nil
	}
	rec, err := fn(f)
	if err != nil {
		return claimflow.Record{}, false, err
	}
	f.keys[scope+"\x00"+key] = fakeKept{hash: hash, rec: rec}
	return rec, false, nil
}

func (f *fakeStore) SubmitClaim(_ context.Context, orderID, buyerID string, _ time.Time,
	decide func(claimflow.Intake) (claimflow.Record, error)) (claimflow.Record, error) {
	if f.fail != nil {
		return claimflow.Record{}, f.fail
	}
	if orderID != f.order.ID() || buyerID != f.order.BuyerID() {
		return claimflow.Record{}, &claimflow.NotFoundError{Resource: "order", ID: orderID, Field: "order_id"}
	}
	rec, err := decide(claimflow.Intake{Order: f.order, Seller: f.seller, LiveClaims: f.live,
		ShopperFirstOrderAt: *f.order.PaidAt()})
	if err != nil {
		return claimflow.Record{}, err
	}
	f.saved = append(f.saved, rec)
	f.events = append(f.events, rec.Claim.PopEvents()...)
	f.live = append(f.live, claimflow.LiveClaim{ID: rec.Claim.ID(), Items: rec.Claim.Items(), Amount: rec.Claim.Amount()})
	return rec, nil
}

func (f *fakeStore) GetClaim(_ context.Context, id string) (claimflow.Record, error) {
	for _, r := range f.saved {
		if r.Claim.ID() == id {
			return r, nil
		}
	}
	return claimflow.Record{}, &claimflow.NotFoundError{Resource: "claim", ID: id}
}

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T, opts ...claimflow.Option) (*claimflow.Service, *fakeStore) {
	t.Helper()
	paid, delivered := now.Add(-10*24*time.Hour), now.Add(-5*24*time.Hour)
	o, err := order.New(order.Params{
		ID: "ord_1", BuyerID: "shp_1", SellerID: "sel_1", Currency: "EUR", Amount: 4000,
		Items: []order.Item{
			{SKU: "a", Name: "A", Quantity: 2, UnitAmount: 1000},
			{SKU: "b", Name: "B", Quantity: 1, UnitAmount: 2000},
		},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "p"}, PaidAt: &paid, DeliveredAt: &delivered,
	})
	require.NoError(t, err)
	s, err := seller.New(seller.Params{ID: "sel_1", Name: "S", RiskScore: 10})
	require.NoError(t, err)
	fs := &fakeStore{order: o, seller: s}
	return claimflow.NewService(fs, policyfile.Default(), func() time.Time { return now }, opts...), fs
}

func TestSubmitTracksWhatIsLeft(t *testing.T) {
	t.Parallel()
	svc, fs := setup(t)
	ctx := context.Background()
	req := func(items ...claim.Item) claim.Request {
		return claim.Request{ShopperID: "shp_1", Reason: "damaged", Description: "broken", Items: items}
	}

	rec, err := svc.Submit(ctx, "ord_1", req(claim.Item{SKU: "a", Quantity: 1}))
	require.NoError(t, err)
	require.Equal(t, decision.OutcomeInstantRefund, rec.Decision.Outcome)
	require.Equal(t, claim.StatusApproved, rec.Claim.Status())
	require.Equal(t, money.Of(1000, money.MustCurrency("EUR")), rec.Facts.Amount)
	require.False(t, rec.Facts.ItemsAlreadyClaimed)
	require.Len(t, fs.events, 2, "submitted, then decided")
	require.Equal(t, claim.StatusApproved, fs.events[1].To)

	// One more "a" still fits the quantity ordered.
	rec, err = svc.Submit(ctx, "ord_1", req(claim.Item{SKU: "a", Quantity: 1}))
	require.NoError(t, err)
	require.False(t, rec.Facts.ItemsAlreadyClaimed)

	// A third "a" does not: the policy rejects it as a duplicate.
	rec, err = svc.Submit(ctx, "ord_1", req(claim.Item{SKU: "a", Quantity: 1}))
	require.NoError(t, err)
	require.True(t, rec.Facts.ItemsAlreadyClaimed)
	require.Equal(t, decision.OutcomeRejected, rec.Decision.Outcome)
	require.Equal(t, claim.StatusRejected, rec.Claim.Status())

	// 2000 of 4000 is held by the live claims (the fake counts the rejected
	// one too, so 1000 is left): a claim for B's 2000 does not fit.
	_, err = svc.Submit(ctx, "ord_1", req(claim.Item{SKU: "b", Quantity: 1}))
	var ve *validation.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "amount_exceeds_refundable", ve.Code)
	require.Len(t, fs.saved, 3)
}

func TestSubmitOnSomeoneElsesOrder(t *testing.T) {
	t.Parallel()
	svc, _ := setup(t)
	_, err := svc.Submit(context.Background(), "ord_1", claim.Request{ShopperID: "shp_2", Reason: "damaged", Description: "x"})
	require.ErrorIs(t, err, claimflow.ErrNotFound)
	_, err = svc.Submit(context.Background(), "bad id", claim.Request{ShopperID: "shp_1", Reason: "damaged", Description: "x"})
	var ve *validation.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "order_id", ve.Field)
}

func TestGetHidesOthersClaims(t *testing.T) {
	t.Parallel()
	svc, _ := setup(t)
	ctx := context.Background()
	rec, err := svc.Submit(ctx, "ord_1", claim.Request{ShopperID: "shp_1", Reason: "damaged", Description: "x"})
	require.NoError(t, err)
	_, err = svc.Get(ctx, claimflow.Viewer{Role: "shopper", Subject: "shp_1"}, rec.Claim.ID())
	require.NoError(t, err)
	_, err = svc.Get(ctx, claimflow.Viewer{Role: "shopper", Subject: "shp_2"}, rec.Claim.ID())
	require.ErrorIs(t, err, claimflow.ErrNotFound)
	_, err = svc.Get(ctx, claimflow.Viewer{Role: "agent", Subject: "ana"}, rec.Claim.ID())
	require.NoError(t, err)
}

func TestQueueCursorRoundTrips(t *testing.T) {
	t.Parallel()
	c := claimflow.QueueCursor{Deadline: time.Date(2026, 11, 27, 12, 0, 0, 123000, time.UTC), ID: "clm_1"}
	got, ok := claimflow.ParseQueueCursor(c.String())
	require.True(t, ok)
	require.Equal(t, c, got)
	far := func(micros string) string { return base64.RawURLEncoding.EncodeToString([]byte(micros + "|clm_1")) }
	for _, bad := range []string{"", "***", "bm90LWEtY3Vyc29y", c.String() + "x",
		far("-9223372036854775808"), far("-1"), far("253402300800000000"), far("9223372036854775807")} {
		_, ok := claimflow.ParseQueueCursor(bad)
		require.False(t, ok, bad)
	}
}
