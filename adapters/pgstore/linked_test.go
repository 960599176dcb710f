package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// signalOrder stores an order of buyer's for 3000 EUR paid two days ago,
// with the buyer signals given.
func signalOrder(t *testing.T, sellerID, buyer string, sig order.BuyerSignals) *order.Order {
	t.Helper()
	paid := now.Add(-48 * time.Hour)
	o, err := order.New(order.Params{
		ID: uniq("ord"), BuyerID: buyer, SellerID: sellerID, Currency: "EUR", Amount: 3000,
		Items:   []order.Item{{SKU: "a", Name: "A", Quantity: 3, UnitAmount: 1000}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay"}, PaidAt: &paid,
		BuyerSignals: sig,
	})
	require.NoError(t, err)
	_, err = store.UpsertOrder(context.Background(), o, now)
	require.NoError(t, err)
	return o
}

var errPeek = errors.New("peek only")

// intakeOf returns what intake reads for a claim on o, writing nothing.
func intakeOf(t *testing.T, o *order.Order) claimflow.Intake {
	t.Helper()
	var got claimflow.Intake
	_, err := store.SubmitClaim(context.Background(), o.ID(), o.BuyerID(), now.Add(-claimflow.HistoryWindow),
		func(in claimflow.Intake) (claimflow.Record, error) { got = in; return claimflow.Record{}, errPeek })
	require.ErrorIs(t, err, errPeek)
	return got
}

func TestIntakeFindsLinkedShoppers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := seller.New(seller.Params{ID: uniq("sel"), Name: "S", RiskScore: 30})
	require.NoError(t, err)
	_, err = store.UpsertSeller(ctx, s, now)
	require.NoError(t, err)
	str := func(v string) *string { return &v }
	device, address, card := uniq("dev"), uniq("addr"), uniq("pf")

	a := signalOrder(t, s.ID(), uniq("shp_a"), order.BuyerSignals{Device: str(device), ShippingAddress: str(address)})
	b := signalOrder(t, s.ID(), uniq("shp_b"), order.BuyerSignals{Device: str(device)})
	c := signalOrder(t, s.ID(), uniq("shp_c"), order.BuyerSignals{ShippingAddress: str(address), PaymentFingerprint: str(card)})
	loner := signalOrder(t, s.ID(), uniq("shp_d"), order.BuyerSignals{PaymentFingerprint: str(uniq("pf"))})
	none := signalOrder(t, s.ID(), uniq("shp_e"), order.BuyerSignals{})

	toReview := func(cl *claim.Claim) error {
		return cl.SendToReview(claim.SystemActor, "", nil, now.Add(24*time.Hour), now)
	}
	reject := func(cl *claim.Claim) error { return cl.Reject(claim.SystemActor, "", nil, now) }
	_, err = submit(ctx, t, a, 1000, toReview)
	require.NoError(t, err)
	_, err = submit(ctx, t, a, 700, reject)
	require.NoError(t, err)
	_, err = submit(ctx, t, c, 500, toReview)
	require.NoError(t, err)

	in := intakeOf(t, b)
	require.Equal(t, 1, in.LinkedShoppers, "a, by the device")
	require.Equal(t, 2, in.LinkedClaims, "a's claims, any outcome")
	require.Equal(t, int64(1000), in.LinkedClaimed, "the rejected claim adds nothing")
	require.Equal(t, []string{"device"}, in.LinkedSignals)
	require.Zero(t, in.ShopperClaims, "b's own history is apart")

	in = intakeOf(t, a)
	require.Equal(t, 2, in.LinkedShoppers, "b by the device, c by the address")
	require.Equal(t, 1, in.LinkedClaims)
	require.Equal(t, int64(500), in.LinkedClaimed)
	require.Equal(t, []string{"device", "shipping_address"}, in.LinkedSignals)

	for _, o := range []*order.Order{loner, none} {
		in = intakeOf(t, o)
		require.Zero(t, in.LinkedShoppers)
		require.Zero(t, in.LinkedClaims)
		require.Zero(t, in.LinkedClaimed)
		require.Empty(t, in.LinkedSignals)
	}
}

func TestBuyerSignalsKeepOnlyDigests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := seller.New(seller.Params{ID: uniq("sel"), Name: "S", RiskScore: 30})
	require.NoError(t, err)
	_, err = store.UpsertSeller(ctx, s, now)
	require.NoError(t, err)
	device := uniq("dev")
	o := signalOrder(t, s.ID(), uniq("shp"), order.BuyerSignals{Device: &device})

	type row struct {
		Kind, ShopperID, OrderID string
		Hash                     []byte
	}
	read := func() []row {
		var rows []row
		r, err := store.DB().QueryContext(ctx, `SELECT kind, shopper_id, order_id, hash FROM buyer_signals WHERE shopper_id = $1`, o.BuyerID())
		require.NoError(t, err)
		defer r.Close()
		for r.Next() {
			var x row
			require.NoError(t, r.Scan(&x.Kind, &x.ShopperID, &x.OrderID, &x.Hash))
			rows = append(rows, x)
		}
		require.NoError(t, r.Err())
		return rows
	}
	want := []row{{Kind: "device", ShopperID: o.BuyerID(), OrderID: o.ID(),
		Hash: order.Signal{Kind: order.SignalDevice, Value: device}.Digest()}}
	require.Equal(t, want, read())

	// Sent again, and again without signals: nothing added, nothing lost.
	_, err = store.UpsertOrder(ctx, o, now)
	require.NoError(t, err)
	bare, err := order.New(order.Params{
		ID: o.ID(), BuyerID: o.BuyerID(), SellerID: s.ID(), Currency: "EUR", Amount: 3000,
		Items: o.Items(), Payment: o.Payment(), PaidAt: o.PaidAt(),
	})
	require.NoError(t, err)
	_, err = store.UpsertOrder(ctx, bare, now)
	require.NoError(t, err)
	require.Equal(t, want, read())

	var raw int
	require.NoError(t, store.DB().QueryRowContext(ctx,
		`SELECT count(*) FROM buyer_signals WHERE position(convert_to($1, 'UTF8') IN hash) > 0`, device).Scan(&raw))
	require.Zero(t, raw, "the value given is never stored")
}
