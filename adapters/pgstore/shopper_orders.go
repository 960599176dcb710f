package pgstore

import (
	"context"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

var _ claimflow.ShopperOrderReader = (*Store)(nil)

// shopperOrderRow is an order with its seller's name and what its live
// claims hold.
type shopperOrderRow struct {
	Order      orderRow `gorm:"embedded"`
	SellerName string
	Held       int64
	LiveClaims int
}

// ShopperOrders implements claimflow.ShopperOrderReader. It walks
// orders_buyer_paid_idx backwards, so it reads only the rows it returns;
// what each order's live claims hold is summed as SubmitClaim does (every
// claim not rejected), through claims_order_idx.
func (s *Store) ShopperOrders(ctx context.Context, buyerID string, limit int) ([]claimflow.ShopperOrder, error) {
	var rows []shopperOrderRow
	err := s.conn(ctx).Raw(`
		SELECT o.*, s.name AS seller_name, h.held, h.live_claims
		FROM orders o
		JOIN sellers s ON s.id = o.seller_id
		CROSS JOIN LATERAL (
			SELECT coalesce(sum(c.amount), 0)::bigint AS held, count(*) AS live_claims
			FROM claims c WHERE c.order_id = o.id AND c.status <> ?
		) h
		WHERE o.buyer_id = ? AND o.paid_at IS NOT NULL
		ORDER BY o.paid_at DESC, o.id DESC
		LIMIT ?`, claim.StatusRejected.String(), buyerID, limit).Scan(&rows).Error
	if err != nil {
		return nil, storeError(err, "orders of shopper %s", buyerID)
	}
	out := make([]claimflow.ShopperOrder, 0, len(rows))
	for _, r := range rows {
		o, err := r.Order.domain()
		if err != nil {
			return nil, err
		}
		out = append(out, claimflow.ShopperOrder{Order: o, SellerName: r.SellerName,
			Held: money.Of(r.Held, o.Currency()), LiveClaims: r.LiveClaims})
	}
	return out, nil
}
