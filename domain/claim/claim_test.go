package claim_test

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/validation"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func testOrder(t *testing.T, paid bool) *order.Order {
	t.Helper()
	p := order.Params{
		ID: "ord_1", BuyerID: "shp_1", SellerID: "sel_1", Currency: "EUR", Amount: 5000,
		Items: []order.Item{
			{SKU: "a", Name: "A", Quantity: 2, UnitAmount: 1500},
			{SKU: "b", Name: "B", Quantity: 1, UnitAmount: 2000},
		},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_1"},
	}
	if paid {
		at := now.Add(-48 * time.Hour)
		p.PaidAt = &at
	}
	o, err := order.New(p)
	require.NoError(t, err)
	return o
}

func eur(a int64) money.Money { return money.Of(a, money.MustCurrency("EUR")) }

var maxEUR = money.MaxAmount(money.MustCurrency("EUR"))

func ptr[T any](v T) *T { return &v }

func TestTransitions(t *testing.T) {
	t.Parallel()
	allowed := map[[2]claim.Status]bool{}
	for _, p := range [][2]claim.Status{
		{claim.StatusSubmitted, claim.StatusApproved}, {claim.StatusSubmitted, claim.StatusInReview},
		{claim.StatusSubmitted, claim.StatusRejected}, {claim.StatusInReview, claim.StatusApproved},
		{claim.StatusInReview, claim.StatusRejected}, {claim.StatusRejected, claim.StatusApproved},
		{claim.StatusApproved, claim.StatusRefundPending}, {claim.StatusApproved, claim.StatusRefunded},
		{claim.StatusApproved, claim.StatusRefundFailed}, {claim.StatusRefundPending, claim.StatusRefunded},
		{claim.StatusRefundPending, claim.StatusRefundFailed}, {claim.StatusRefundFailed, claim.StatusApproved},
		{claim.StatusRefundFailed, claim.StatusRejected}, {claim.StatusRefunded, claim.StatusSellerCharged},
		{claim.StatusSellerCharged, claim.StatusClosed},
		{claim.StatusRefunded, claim.StatusRefundFailed}, {claim.StatusSellerCharged, claim.StatusRefundFailed},
		{claim.StatusClosed, claim.StatusRefundFailed},
	} {
		allowed[p] = true
	}
	// Every pair of statuses: allowed exactly when listed above.
	for _, from := range claim.Statuses {
		for _, to := range claim.Statuses {
			require.Equal(t, allowed[[2]claim.Status{from, to}], from.CanMoveTo(to), "%s → %s", from, to)
		}
	}
	require.True(t, claim.StatusClosed.IsTerminal())
	require.False(t, claim.StatusRejected.HoldsAmount())
	require.True(t, claim.StatusRefunded.HoldsAmount())
}

func TestParseStatusAndReason(t *testing.T) {
	t.Parallel()
	for _, s := range claim.Statuses {
		got, err := claim.ParseStatus(s.String())
		require.NoError(t, err)
		require.Equal(t, s, got)
	}
	_, err := claim.ParseStatus("lost")
	require.ErrorIs(t, err, claim.ErrUnknownStatus)
	for _, r := range claim.Reasons {
		got, err := claim.ParseReason(r.String())
		require.NoError(t, err)
		require.Equal(t, r, got)
	}
	_, err = claim.ParseReason("")
	require.ErrorIs(t, err, claim.ErrUnknownReason)
}

func TestNewClaim(t *testing.T) {
	t.Parallel()
	o := testOrder(t, true)
	c, err := claim.New("clm_1", o, claim.Request{ShopperID: "shp_1", Reason: "counterfeit", Description: "fake"}, eur(5000), now)
	require.NoError(t, err)
	require.Equal(t, claim.StatusSubmitted, c.Status())
	require.Equal(t, int64(5000), c.Amount().Amount(), "no items and no amount: the whole order")
	require.Len(t, c.Items(), 2)

	c, err = claim.New("clm_2", o, claim.Request{ShopperID: "shp_1", Reason: "damaged", Description: "broken",
		Items: []claim.Item{{SKU: "a", Quantity: 1}}}, eur(5000), now)
	require.NoError(t, err)
	require.Equal(t, int64(1500), c.Amount().Amount(), "the value of the claimed items")

	events := c.PopEvents()
	require.Len(t, events, 1)
	require.Equal(t, "submitted", events[0].Type)
	require.Empty(t, c.PopEvents())

	require.NoError(t, c.SendToReview(claim.SystemActor, "", nil, now.Add(24*time.Hour), now))
	require.NoError(t, c.Approve(claim.Actor{Kind: "agent", ID: "ana"}, "looks fake", nil, now))
	require.Equal(t, int64(3), c.Version())
	err = c.SendToReview(claim.SystemActor, "", nil, now.Add(24*time.Hour), now)
	var te *claim.TransitionError
	require.ErrorAs(t, err, &te)
	require.Equal(t, claim.StatusApproved, te.From)
	require.Len(t, c.PopEvents(), 2)
}

func TestNewClaimRefuses(t *testing.T) {
	t.Parallel()
	paid, unpaid := testOrder(t, true), testOrder(t, false)
	// As the store gives back an order it took before amounts were
	// bounded.
	paidAt := now.Add(-48 * time.Hour)
	legacy := order.Rehydrate(order.Params{ID: "ord_old", BuyerID: "shp_1", SellerID: "sel_1", Currency: "EUR",
		Amount: math.MaxInt64, Items: []order.Item{{SKU: "a", Name: "A", Quantity: 1, UnitAmount: math.MaxInt64}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_old"}, PaidAt: &paidAt})
	good := func(mod func(*claim.Request)) claim.Request {
		r := claim.Request{ShopperID: "shp_1", Reason: "counterfeit", Description: "fake"}
		if mod != nil {
			mod(&r)
		}
		return r
	}
	tests := []struct {
		name       string
		giveOrder  *order.Order
		give       claim.Request
		giveRefund int64
		wantField  string
		wantCode   string
	}{
		{name: "unknown reason", giveOrder: paid, give: good(func(r *claim.Request) { r.Reason = "bored" }), giveRefund: 5000, wantField: "reason", wantCode: "unknown_reason"},
		{name: "not paid", giveOrder: unpaid, give: good(nil), giveRefund: 5000, wantField: "order_id", wantCode: "order_not_paid"},
		{name: "zero amount", giveOrder: paid, give: good(func(r *claim.Request) { r.Amount = ptr(int64(0)) }), giveRefund: 5000, wantField: "amount", wantCode: "invalid_amount"},
		{name: "more than the items", giveOrder: paid, give: good(func(r *claim.Request) {
			r.Items = []claim.Item{{SKU: "b", Quantity: 1}}
			r.Amount = ptr(int64(2001))
		}), giveRefund: 5000, wantField: "amount", wantCode: "amount_exceeds_items"},
		{name: "largest int64 amount", giveOrder: paid, give: good(func(r *claim.Request) { r.Amount = ptr(int64(math.MaxInt64)) }),
			giveRefund: 5000, wantField: "amount", wantCode: "amount_too_large"},
		{name: "amount above the maximum", giveOrder: paid, give: good(func(r *claim.Request) { r.Amount = ptr(maxEUR + 1) }),
			giveRefund: 5000, wantField: "amount", wantCode: "amount_too_large"},
		{name: "an order stored before the bound", giveOrder: legacy, give: good(nil), giveRefund: math.MaxInt64,
			wantField: "amount", wantCode: "amount_too_large"},
		{name: "more than is left", giveOrder: paid, give: good(nil), giveRefund: 4999, wantField: "amount", wantCode: "amount_exceeds_refundable"},
		{name: "unknown sku", giveOrder: paid, give: good(func(r *claim.Request) { r.Items = []claim.Item{{SKU: "z", Quantity: 1}} }), giveRefund: 5000, wantField: "items[0].sku", wantCode: "unknown_sku"},
		{name: "sku twice", giveOrder: paid, give: good(func(r *claim.Request) { r.Items = []claim.Item{{SKU: "a", Quantity: 1}, {SKU: "a", Quantity: 1}} }), giveRefund: 5000, wantField: "items[1].sku", wantCode: "duplicate_sku"},
		{name: "too many", giveOrder: paid, give: good(func(r *claim.Request) { r.Items = []claim.Item{{SKU: "a", Quantity: 3}} }), giveRefund: 5000, wantField: "items[0].quantity", wantCode: "invalid_quantity"},
		{name: "no description", giveOrder: paid, give: good(func(r *claim.Request) { r.Description = "" }), giveRefund: 5000, wantField: "description", wantCode: "required"},
		{name: "evidence kind", giveOrder: paid, give: good(func(r *claim.Request) { r.Evidence = []claim.Evidence{{Kind: "smell", URL: "https://x.test/a"}} }), giveRefund: 5000, wantField: "evidence[0].kind", wantCode: "unknown_evidence_kind"},
		{name: "evidence url", giveOrder: paid, give: good(func(r *claim.Request) { r.Evidence = []claim.Evidence{{Kind: "photo", URL: "ftp://x.test/a"}} }), giveRefund: 5000, wantField: "evidence[0].url", wantCode: "invalid_url"},
	}
	for _, tt := range tests {
		_, err := claim.New("clm_x", tt.giveOrder, tt.give, eur(tt.giveRefund), now)
		var ve *validation.Error
		require.ErrorAs(t, err, &ve, tt.name)
		require.Equal(t, tt.wantField, ve.Field, tt.name)
		require.Equal(t, tt.wantCode, ve.Code, tt.name)
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	t.Parallel()
	a, err := claim.NewID(now, bytes.NewReader(bytes.Repeat([]byte{0xff}, 10)))
	require.NoError(t, err)
	b, err := claim.NewID(now.Add(time.Millisecond), bytes.NewReader(make([]byte, 10)))
	require.NoError(t, err)
	require.Len(t, a, 30)
	require.Less(t, a, b)
}
