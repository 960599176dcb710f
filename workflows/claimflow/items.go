package claimflow

import (
	"context"
	"fmt"
)

// ClaimedItem is one line of what a claim is about, named as its order
// names the item.
type ClaimedItem struct {
	SKU, Name string
	Quantity  int64
}

// ClaimedItems returns the items of a claim the viewer may see, each with
// the name its order gives it: people read item names, SKUs are for
// systems. A SKU the order does not list keeps the SKU as its name.
// Errors: *NotFoundError (the claim, for a viewer who may not see it; or
// its order).
//
//	items, err := svc.ClaimedItems(ctx, viewer, rec)
func (s *Service) ClaimedItems(ctx context.Context, v Viewer, rec Record) ([]ClaimedItem, error) {
	c := rec.Claim
	if !v.owns(c) {
		return nil, &NotFoundError{Resource: "claim", ID: c.ID()}
	}
	o, err := s.store.GetOrder(ctx, c.OrderID())
	if err != nil {
		return nil, fmt.Errorf("items of claim %s: %w", c.ID(), err)
	}
	var items []ClaimedItem
	for _, it := range c.Items() {
		name := it.SKU
		if line, ok := o.Item(it.SKU); ok && line.Name != "" {
			name = line.Name
		}
		items = append(items, ClaimedItem{SKU: it.SKU, Name: name, Quantity: it.Quantity})
	}
	return items, nil
}
