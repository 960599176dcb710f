// Package order holds the marketplace's order as the engine sees it: who
// bought what from whom, what was paid and when it arrived. The platform
// feeds orders in; claims are checked against them.
package order

import (
	"time"

	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
)

// Limits on an order's size; they keep one request's work bounded.
const (
	MaxItems    = 200
	MaxQuantity = 1_000_000
)

// Payment providers an order may have been paid through.
const (
	ProviderSandbox = "sandbox"
	ProviderStripe  = "stripe"
)

// Item is one line of an order.
type Item struct {
	SKU        string
	Name       string
	Quantity   int64
	UnitAmount int64 // minor units of the order's currency
	// Brand is the id of the brand the item is sold as, or "". A brand
	// the engine does not know yet is allowed: the platform may register
	// it later.
	Brand string
}

// Payment says where the money was taken, so a refund can go back there.
type Payment struct {
	Provider  string // ProviderSandbox or ProviderStripe
	Reference string // e.g. a Stripe PaymentIntent (pi_…) or Charge (ch_…)
}

// Params are the fields New validates.
type Params struct {
	ID          string
	BuyerID     string
	SellerID    string
	Currency    string
	Items       []Item
	Amount      int64
	Payment     Payment
	PaidAt      *time.Time
	DeliveredAt *time.Time
	// BuyerSignals are the buyer's hashed identity signals, when the
	// platform sends them.
	BuyerSignals BuyerSignals
}

// Order is a validated order. Build one with New; the store uses Rehydrate.
type Order struct {
	id          string
	buyerID     string
	sellerID    string
	items       []Item
	amount      money.Money
	payment     Payment
	paidAt      *time.Time
	deliveredAt *time.Time
	signals     []Signal
}

// New validates p and returns the Order. Errors are *validation.Error
// naming the request field: items must sum to amount, the currency must be
// known, delivery cannot precede payment, and neither the amount, a unit
// price nor a line (quantity × unit_amount) may exceed money.MaxAmount
// ("amount_too_large"), and each buyer signal must be an opaque hash
// ("buyer_signals.device": "raw_personal_data" for an e-mail address, say).
func New(p Params) (*Order, error) {
	if err := validation.CheckID("id", p.ID); err != nil {
		return nil, err
	}
	if err := validation.CheckID("buyer_id", p.BuyerID); err != nil {
		return nil, err
	}
	if err := validation.CheckID("seller_id", p.SellerID); err != nil {
		return nil, err
	}
	cur, err := money.ParseCurrency(p.Currency)
	if err != nil {
		return nil, validation.New("currency", "unknown_currency", "must be an ISO 4217 code such as EUR")
	}
	// Before the items: an amount beyond the bound is refused as such,
	// whatever the lines say.
	if err := validation.CheckMaxAmount("amount", p.Amount, cur); err != nil {
		return nil, err
	}
	if len(p.Items) == 0 {
		return nil, validation.New("items", "required", "must list at least one item")
	}
	if len(p.Items) > MaxItems {
		return nil, validation.Newf("items", "too_many_items", "must list at most %d items", MaxItems)
	}
	sum := money.Of(0, cur)
	seen := make(map[string]bool, len(p.Items))
	for i, it := range p.Items {
		field := validation.Indexed("items", i)
		if err := validation.CheckID(field+".sku", it.SKU); err != nil {
			return nil, err
		}
		if seen[it.SKU] {
			return nil, validation.New(field+".sku", "duplicate_sku", "each SKU may appear once; add up the quantity instead")
		}
		seen[it.SKU] = true
		if err := validation.CheckText(field+".name", it.Name, 0, 200); err != nil {
			return nil, err
		}
		if it.Brand != "" {
			if err := validation.CheckID(field+".brand", it.Brand); err != nil {
				return nil, err
			}
		}
		if it.Quantity < 1 || it.Quantity > MaxQuantity {
			return nil, validation.Newf(field+".quantity", "invalid_quantity", "must be between 1 and %d", MaxQuantity)
		}
		if it.UnitAmount < 0 {
			return nil, validation.New(field+".unit_amount", "invalid_amount", "must not be negative")
		}
		if err := validation.CheckMaxAmount(field+".unit_amount", it.UnitAmount, cur); err != nil {
			return nil, err
		}
		// At most MaxQuantity × MaxAmount: it fits, but is checked all the
		// same.
		line, err := money.Of(it.UnitAmount, cur).MulInt(it.Quantity)
		if err != nil {
			return nil, validation.New(field+".unit_amount", "amount_overflow", "quantity × unit_amount is too large")
		}
		if line.Amount() > money.MaxAmount(cur) {
			return nil, validation.Newf(field+".unit_amount", "amount_too_large",
				"quantity × unit_amount is %s, more than %s, the largest amount the engine accepts", line, money.Max(cur))
		}
		if sum, err = sum.Add(line); err != nil {
			return nil, validation.New("items", "amount_overflow", "the items' total is too large")
		}
	}
	if p.Amount <= 0 {
		return nil, validation.New("amount", "invalid_amount", "must be a positive number of minor units")
	}
	if sum.Amount() != p.Amount {
		return nil, validation.Newf("amount", "amount_mismatch", "is %d but the items add up to %d", p.Amount, sum.Amount())
	}
	switch p.Payment.Provider {
	case ProviderSandbox, ProviderStripe:
	case "":
		return nil, validation.New("payment.provider", "required", "is required")
	default:
		return nil, validation.New("payment.provider", "unknown_provider", "must be sandbox or stripe")
	}
	if err := validation.CheckText("payment.reference", p.Payment.Reference, 1, 255); err != nil {
		return nil, err
	}
	if p.DeliveredAt != nil {
		if p.PaidAt == nil {
			return nil, validation.New("delivered_at", "not_paid", "an order cannot be delivered before it is paid")
		}
		if p.DeliveredAt.Before(*p.PaidAt) {
			return nil, validation.New("delivered_at", "before_payment", "must not be before paid_at")
		}
	}
	signals, err := p.BuyerSignals.validate()
	if err != nil {
		return nil, err
	}
	items := make([]Item, len(p.Items))
	copy(items, p.Items)
	return &Order{
		id: p.ID, buyerID: p.BuyerID, sellerID: p.SellerID, items: items,
		amount: money.Of(p.Amount, cur), payment: p.Payment,
		paidAt: utc(p.PaidAt), deliveredAt: utc(p.DeliveredAt), signals: signals,
	}, nil
}

// Rehydrate rebuilds an Order read from the store, trusting it was
// validated on the way in. The store keeps only the signals' digests, so
// an order it reads back has no signals.
func Rehydrate(p Params) *Order {
	cur, _ := money.ParseCurrency(p.Currency)
	return &Order{
		id: p.ID, buyerID: p.BuyerID, sellerID: p.SellerID, items: p.Items,
		amount: money.Of(p.Amount, cur), payment: p.Payment,
		paidAt: utc(p.PaidAt), deliveredAt: utc(p.DeliveredAt),
	}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// ID returns the platform's order id.
func (o *Order) ID() string { return o.id }

// BuyerID returns the shopper who bought the order.
func (o *Order) BuyerID() string { return o.buyerID }

// SellerID returns the seller who sold it.
func (o *Order) SellerID() string { return o.sellerID }

// Items returns a copy of the order's lines.
func (o *Order) Items() []Item { return append([]Item(nil), o.items...) }

// Amount returns what the shopper paid.
func (o *Order) Amount() money.Money { return o.amount }

// Currency returns the order's currency.
func (o *Order) Currency() money.Currency { return o.amount.Currency() }

// Payment returns where the order was paid.
func (o *Order) Payment() Payment { return o.payment }

// PaidAt returns when it was paid, or nil if it is not paid.
func (o *Order) PaidAt() *time.Time { return o.paidAt }

// DeliveredAt returns when it was delivered, or nil.
func (o *Order) DeliveredAt() *time.Time { return o.deliveredAt }

// Signals returns the buyer's identity signals sent with the order, in
// SignalKinds order; none when the platform sent none.
func (o *Order) Signals() []Signal { return append([]Signal(nil), o.signals...) }

// IsPaid reports whether payment was taken.
func (o *Order) IsPaid() bool { return o.paidAt != nil }

// Item returns the order line for sku.
func (o *Order) Item(sku string) (Item, bool) {
	for _, it := range o.items {
		if it.SKU == sku {
			return it, true
		}
	}
	return Item{}, false
}
