package pgstore

import (
	"context"

	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// claimOrderRow is a claim and its order, read in one statement.
type claimOrderRow struct {
	Claim claimRow `gorm:"embedded"`
	Order orderRow `gorm:"embedded;embeddedPrefix:o_"`
}

// GetClaimOrder implements claimflow.StepStore: the claim joined to its
// order, one round trip where the refund step made two.
func (s *Store) GetClaimOrder(ctx context.Context, id string) (claimflow.Record, *order.Order, error) {
	var rows []claimOrderRow
	err := s.conn(ctx).Raw(`
		SELECT c.*, o.id AS o_id, o.buyer_id AS o_buyer_id, o.seller_id AS o_seller_id, o.currency AS o_currency,
		       o.amount AS o_amount, o.items AS o_items, o.payment_provider AS o_payment_provider,
		       o.payment_reference AS o_payment_reference, o.paid_at AS o_paid_at, o.delivered_at AS o_delivered_at,
		       o.created_at AS o_created_at, o.updated_at AS o_updated_at
		  FROM claims c JOIN orders o ON o.id = c.order_id
		 WHERE c.id = ?`, id).Find(&rows).Error
	if err != nil {
		return claimflow.Record{}, nil, storeError(err, "get claim %s with its order", id)
	}
	if len(rows) == 0 {
		// Every claim references its order, so the claim is missing.
		return claimflow.Record{}, nil, &claimflow.NotFoundError{Resource: "claim", ID: id}
	}
	rec, err := rows[0].Claim.record()
	if err != nil {
		return claimflow.Record{}, nil, err
	}
	o, err := rows[0].Order.domain()
	if err != nil {
		return claimflow.Record{}, nil, err
	}
	return rec, o, nil
}
