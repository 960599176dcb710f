package order_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/validation"
)

func params(mod func(*order.Params)) order.Params {
	paid := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	p := order.Params{
		ID: "ord_1", BuyerID: "shp_1", SellerID: "sel_1", Currency: "EUR", Amount: 3500,
		Items: []order.Item{
			{SKU: "a", Name: "A", Quantity: 2, UnitAmount: 1000},
			{SKU: "b", Name: "B", Quantity: 1, UnitAmount: 1500},
		},
		Payment: order.Payment{Provider: order.ProviderStripe, Reference: "pi_123"},
		PaidAt:  &paid,
	}
	if mod != nil {
		mod(&p)
	}
	return p
}

func TestNew(t *testing.T) {
	t.Parallel()
	o, err := order.New(params(nil))
	require.NoError(t, err)
	require.Equal(t, int64(3500), o.Amount().Amount())
	require.Equal(t, "EUR", o.Currency().String())
	require.True(t, o.IsPaid())
	it, ok := o.Item("b")
	require.True(t, ok)
	require.Equal(t, int64(1500), it.UnitAmount)
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		give      order.Params
		wantField string
		wantCode  string
	}{
		{name: "bad id", give: params(func(p *order.Params) { p.ID = "a b" }), wantField: "id", wantCode: "invalid_id"},
		{name: "no buyer", give: params(func(p *order.Params) { p.BuyerID = "" }), wantField: "buyer_id", wantCode: "required"},
		{name: "unknown currency", give: params(func(p *order.Params) { p.Currency = "XYZ" }), wantField: "currency", wantCode: "unknown_currency"},
		{name: "no items", give: params(func(p *order.Params) { p.Items = nil }), wantField: "items", wantCode: "required"},
		{name: "duplicate sku", give: params(func(p *order.Params) { p.Items[1].SKU = "a" }), wantField: "items[1].sku", wantCode: "duplicate_sku"},
		{name: "zero quantity", give: params(func(p *order.Params) { p.Items[0].Quantity = 0 }), wantField: "items[0].quantity", wantCode: "invalid_quantity"},
		{name: "negative price", give: params(func(p *order.Params) { p.Items[0].UnitAmount = -1 }), wantField: "items[0].unit_amount", wantCode: "invalid_amount"},
		{name: "line overflow", give: params(func(p *order.Params) { p.Items[0].UnitAmount = math.MaxInt64/2 + 1 }), wantField: "items[0].unit_amount", wantCode: "amount_overflow"},
		{name: "total overflow", give: params(func(p *order.Params) {
			p.Items[0] = order.Item{SKU: "a", Quantity: 1, UnitAmount: math.MaxInt64}
			p.Items[1] = order.Item{SKU: "b", Quantity: 1, UnitAmount: 1}
		}), wantField: "items", wantCode: "amount_overflow"},
		{name: "sum mismatch", give: params(func(p *order.Params) { p.Amount = 3499 }), wantField: "amount", wantCode: "amount_mismatch"},
		{name: "zero amount", give: params(func(p *order.Params) {
			p.Items = []order.Item{{SKU: "a", Quantity: 1}}
			p.Amount = 0
		}), wantField: "amount", wantCode: "invalid_amount"},
		{name: "unknown provider", give: params(func(p *order.Params) { p.Payment.Provider = "cash" }), wantField: "payment.provider", wantCode: "unknown_provider"},
		{name: "no reference", give: params(func(p *order.Params) { p.Payment.Reference = "" }), wantField: "payment.reference", wantCode: "required"},
		{name: "delivered unpaid", give: params(func(p *order.Params) {
			d := time.Now()
			p.PaidAt, p.DeliveredAt = nil, &d
		}), wantField: "delivered_at", wantCode: "not_paid"},
		{name: "delivered before paid", give: params(func(p *order.Params) {
			d := p.PaidAt.Add(-time.Hour)
			p.DeliveredAt = &d
		}), wantField: "delivered_at", wantCode: "before_payment"},
	}
	for _, tt := range tests {
		_, err := order.New(tt.give)
		var ve *validation.Error
		require.ErrorAs(t, err, &ve, tt.name)
		require.Equal(t, tt.wantField, ve.Field, tt.name)
		require.Equal(t, tt.wantCode, ve.Code, tt.name)
	}
}
