package claimflow

import (
	"context"

	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
)

// MaxShopperOrders bounds how many orders ShopperOrders returns: a claim
// form lists recent orders, not a shopper's whole history.
const MaxShopperOrders = 100

// ShopperOrder is one of a shopper's orders as a claim form offers it:
// the order, who sold it and what a new claim may still ask for.
type ShopperOrder struct {
	Order      *order.Order
	SellerName string
	// Held is what the order's live claims (every claim not rejected)
	// hold, in the order's currency; LiveClaims counts those claims.
	Held       money.Money
	LiveClaims int
	// Claimable is what a new claim on the order may still ask for: what
	// was paid less Held, never below zero (Submit refuses more). The
	// store leaves it zero; ShopperOrders fills it in.
	Claimable money.Money
}

// ShopperOrderReader reads a shopper's orders for a claim form.
type ShopperOrderReader interface {
	// ShopperOrders returns the paid orders whose buyer is buyerID, the
	// latest payment first (ties by id, descending), at most limit, each
	// with its seller's name and what its live claims hold (Held,
	// LiveClaims); Claimable is left zero. No orders is not an error.
	// Errors: ErrUnavailable (wrapped) when the database cannot be reached.
	ShopperOrders(ctx context.Context, buyerID string, limit int) ([]ShopperOrder, error)
}

// ShopperOrders returns the viewer's own paid orders, the latest payment
// first, at most limit (MaxShopperOrders when limit is out of 1 to
// MaxShopperOrders), each with what a new claim may still ask for. Only a
// shopper has orders to claim on: for anyone else it returns none. Unpaid
// orders are left out, since Submit refuses a claim on them.
//
//	orders, err := svc.ShopperOrders(ctx, claimflow.Viewer{Role: "shopper", Subject: "shp_1"}, 20)
func (s *Service) ShopperOrders(ctx context.Context, v Viewer, limit int) ([]ShopperOrder, error) {
	if !v.IsShopper() || v.Subject == "" {
		return nil, nil
	}
	if limit < 1 || limit > MaxShopperOrders {
		limit = MaxShopperOrders
	}
	orders, err := s.store.ShopperOrders(ctx, v.Subject, limit)
	if err != nil {
		return nil, err
	}
	for i := range orders {
		o := &orders[i]
		cur := o.Order.Currency()
		if o.Held.Currency().IsZero() {
			o.Held = money.Of(0, cur) // nothing held
		}
		// The same arithmetic as Submit's: what was paid less what live
		// claims hold, never below zero. Held in another currency would
		// be a store fault; claiming nothing is the safe reading of it.
		left, err := o.Order.Amount().Sub(o.Held)
		if err != nil || left.Amount() < 0 {
			left = money.Of(0, cur)
		}
		o.Claimable = left
	}
	return orders, nil
}
