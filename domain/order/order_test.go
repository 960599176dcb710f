package order_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/money"
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

// maxEUR is the largest amount an order may have in EUR.
var maxEUR = money.MaxAmount(money.MustCurrency("EUR"))

func TestNewAtTheMaximum(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give order.Params
	}{
		{name: "one line", give: params(func(p *order.Params) {
			p.Items = []order.Item{{SKU: "a", Quantity: 1, UnitAmount: maxEUR}}
			p.Amount = maxEUR
		})},
		{name: "many units", give: params(func(p *order.Params) {
			p.Items = []order.Item{{SKU: "a", Quantity: order.MaxQuantity, UnitAmount: maxEUR / order.MaxQuantity}}
			p.Amount = maxEUR
		})},
		{name: "two lines", give: params(func(p *order.Params) {
			p.Items = []order.Item{{SKU: "a", Quantity: 1, UnitAmount: maxEUR - 1}, {SKU: "b", Quantity: 1, UnitAmount: 1}}
			p.Amount = maxEUR
		})},
	}
	for _, tt := range tests {
		o, err := order.New(tt.give)
		require.NoError(t, err, tt.name)
		require.Equal(t, maxEUR, o.Amount().Amount(), tt.name)
	}
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
		{name: "brand with a space", give: params(func(p *order.Params) { p.Items[1].Brand = "ac me" }), wantField: "items[1].brand", wantCode: "invalid_id"},
		{name: "zero quantity", give: params(func(p *order.Params) { p.Items[0].Quantity = 0 }), wantField: "items[0].quantity", wantCode: "invalid_quantity"},
		{name: "negative price", give: params(func(p *order.Params) { p.Items[0].UnitAmount = -1 }), wantField: "items[0].unit_amount", wantCode: "invalid_amount"},
		{name: "line overflow", give: params(func(p *order.Params) { p.Items[0].UnitAmount = math.MaxInt64/2 + 1 }), wantField: "items[0].unit_amount", wantCode: "amount_too_large"},
		{name: "total overflow", give: params(func(p *order.Params) {
			p.Items[0] = order.Item{SKU: "a", Quantity: 1, UnitAmount: math.MaxInt64}
			p.Items[1] = order.Item{SKU: "b", Quantity: 1, UnitAmount: 1}
		}), wantField: "items[0].unit_amount", wantCode: "amount_too_large"},
		{name: "largest int64 amount", give: params(func(p *order.Params) {
			p.Items = []order.Item{{SKU: "a", Quantity: 1, UnitAmount: math.MaxInt64}}
			p.Amount = math.MaxInt64
		}), wantField: "amount", wantCode: "amount_too_large"},
		{name: "amount one above the maximum", give: params(func(p *order.Params) {
			p.Items = []order.Item{{SKU: "a", Quantity: 1, UnitAmount: maxEUR + 1}}
			p.Amount = maxEUR + 1
		}), wantField: "amount", wantCode: "amount_too_large"},
		{name: "unit price above the maximum", give: params(func(p *order.Params) { p.Items[0].UnitAmount = maxEUR + 1 }),
			wantField: "items[0].unit_amount", wantCode: "amount_too_large"},
		{name: "line above the maximum", give: params(func(p *order.Params) {
			p.Items = []order.Item{{SKU: "a", Quantity: 3, UnitAmount: maxEUR/3 + 1}}
			p.Amount = maxEUR
		}), wantField: "items[0].unit_amount", wantCode: "amount_too_large"},
		{name: "lines add up above the maximum", give: params(func(p *order.Params) {
			p.Items = []order.Item{{SKU: "a", Quantity: 1, UnitAmount: maxEUR}, {SKU: "b", Quantity: 1, UnitAmount: 1}}
			p.Amount = maxEUR
		}), wantField: "amount", wantCode: "amount_mismatch"},
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
