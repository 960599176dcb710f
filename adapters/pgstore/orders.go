package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

type sellerRow struct {
	ID            string `gorm:"primaryKey"`
	Name          string
	RiskScore     int
	Verified      bool
	StripeAccount *string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (sellerRow) TableName() string { return "sellers" }

func (r sellerRow) domain() *seller.Seller {
	p := seller.Params{ID: r.ID, Name: r.Name, RiskScore: r.RiskScore, Verified: r.Verified}
	if r.StripeAccount != nil {
		p.StripeAccount = *r.StripeAccount
	}
	return seller.Rehydrate(p)
}

type orderItemJSON struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	Quantity   int64  `json:"quantity"`
	UnitAmount int64  `json:"unit_amount"`
	Brand      string `json:"brand,omitempty"`
}

type orderRow struct {
	ID               string `gorm:"primaryKey"`
	BuyerID          string
	SellerID         string
	Currency         string
	Amount           int64
	Items            string `gorm:"type:jsonb"`
	PaymentProvider  string
	PaymentReference string
	PaidAt           *time.Time
	DeliveredAt      *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func (orderRow) TableName() string { return "orders" }

func (r orderRow) domain() (*order.Order, error) {
	var items []orderItemJSON
	if err := json.Unmarshal([]byte(r.Items), &items); err != nil {
		return nil, fmt.Errorf("order %s items: %w", r.ID, err)
	}
	p := order.Params{
		ID: r.ID, BuyerID: r.BuyerID, SellerID: r.SellerID, Currency: r.Currency, Amount: r.Amount,
		Payment: order.Payment{Provider: r.PaymentProvider, Reference: r.PaymentReference},
		PaidAt:  r.PaidAt, DeliveredAt: r.DeliveredAt,
	}
	for _, it := range items {
		p.Items = append(p.Items, order.Item{SKU: it.SKU, Name: it.Name, Quantity: it.Quantity, UnitAmount: it.UnitAmount, Brand: it.Brand})
	}
	return order.Rehydrate(p), nil
}

func newOrderRow(o *order.Order, now time.Time) (orderRow, error) {
	items := make([]orderItemJSON, 0, len(o.Items()))
	for _, it := range o.Items() {
		items = append(items, orderItemJSON{SKU: it.SKU, Name: it.Name, Quantity: it.Quantity, UnitAmount: it.UnitAmount, Brand: it.Brand})
	}
	b, err := json.Marshal(items)
	if err != nil {
		return orderRow{}, err
	}
	return orderRow{
		ID: o.ID(), BuyerID: o.BuyerID(), SellerID: o.SellerID(), Currency: o.Currency().String(),
		Amount: o.Amount().Amount(), Items: string(b),
		PaymentProvider: o.Payment().Provider, PaymentReference: o.Payment().Reference,
		PaidAt: o.PaidAt(), DeliveredAt: o.DeliveredAt(), CreatedAt: now, UpdatedAt: now,
	}, nil
}

// UpsertSeller implements claimflow.Store.
func (s *Store) UpsertSeller(ctx context.Context, sl *seller.Seller, now time.Time) (bool, error) {
	row := sellerRow{ID: sl.ID(), Name: sl.Name(), RiskScore: sl.RiskScore(), Verified: sl.Verified(), CreatedAt: now, UpdatedAt: now}
	if a := sl.StripeAccount(); a != "" {
		row.StripeAccount = &a
	}
	var created bool
	upsert := func(tx *gorm.DB) error {
		return tx.Raw(`
		INSERT INTO sellers (id, name, risk_score, verified, stripe_account, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, risk_score = EXCLUDED.risk_score,
			verified = EXCLUDED.verified, stripe_account = EXCLUDED.stripe_account, updated_at = EXCLUDED.updated_at
		RETURNING (xmax = 0)`,
			row.ID, row.Name, row.RiskScore, row.Verified, row.StripeAccount, row.CreatedAt, row.UpdatedAt).
			Scan(&created).Error
	}
	var err error
	if signals, given := sl.Signals(); !given {
		err = upsert(s.conn(ctx))
	} else {
		// The seller and the signals that replace its own, together.
		err = s.inTx(ctx, func(tx *gorm.DB) error {
			if err := upsert(tx); err != nil {
				return err
			}
			if err := tx.Exec(`DELETE FROM seller_signals WHERE seller_id = ?`, sl.ID()).Error; err != nil {
				return err
			}
			for _, sg := range signals {
				if err := tx.Exec(`INSERT INTO seller_signals (seller_id, kind, hash, created_at) VALUES (?, ?, ?, ?)`,
					sl.ID(), sg.Kind, sg.Digest(), now).Error; err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		return false, storeError(err, "upsert seller %s", sl.ID())
	}
	return created, nil
}

// UpsertOrder implements claimflow.Store. Once an order has claims, only
// its paid_at and delivered_at may change: the claims were checked against
// the rest.
func (s *Store) UpsertOrder(ctx context.Context, o *order.Order, now time.Time) (bool, error) {
	row, err := newOrderRow(o, now)
	if err != nil {
		return false, err
	}
	var created bool
	err = s.inTx(ctx, func(tx *gorm.DB) error {
		// Insert unless it exists; a concurrent first PUT of the same
		// order waits here for the other to commit, then updates over it.
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			if isForeignKeyViolation(res.Error, "orders_seller_id_fkey") {
				return &claimflow.NotFoundError{Resource: "seller", ID: o.SellerID(), Field: "seller_id"}
			}
			return res.Error
		}
		if res.RowsAffected == 1 {
			created = true
			return insertSignals(tx, o, now)
		}
		var cur orderRow
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", o.ID()).Take(&cur).Error; err != nil {
			return err
		}
		if !sameTerms(cur, row) {
			var n int64
			if err := tx.Table("claims").Where("order_id = ?", o.ID()).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return claimflow.ErrOrderHasClaims
			}
		}
		if err := s.updateOrder(tx, row); err != nil {
			return err
		}
		return insertSignals(tx, o, now)
	})
	if err != nil {
		return false, storeError(err, "upsert order %s", o.ID())
	}
	return created, nil
}

// insertSignals keeps the digests of the buyer's identity signals the
// order brought, in the order's transaction. Signals add up: an order sent
// again without them removes none, and one already kept for the shopper
// stays as it was.
func insertSignals(tx *gorm.DB, o *order.Order, now time.Time) error {
	sigs := o.Signals()
	if len(sigs) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString("INSERT INTO buyer_signals (kind, hash, shopper_id, order_id, created_at) VALUES ")
	args := make([]any, 0, 5*len(sigs))
	for i, sg := range sigs {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?)")
		args = append(args, sg.Kind.String(), sg.Digest(), o.BuyerID(), o.ID(), now)
	}
	q.WriteString(" ON CONFLICT DO NOTHING")
	if err := tx.Exec(q.String(), args...).Error; err != nil {
		return fmt.Errorf("buyer signals: %w", err)
	}
	return nil
}

func (s *Store) updateOrder(tx *gorm.DB, row orderRow) error {
	err := tx.Model(&orderRow{}).Where("id = ?", row.ID).Updates(map[string]any{
		"buyer_id": row.BuyerID, "seller_id": row.SellerID, "currency": row.Currency, "amount": row.Amount,
		"items": row.Items, "payment_provider": row.PaymentProvider, "payment_reference": row.PaymentReference,
		"paid_at": row.PaidAt, "delivered_at": row.DeliveredAt, "updated_at": row.UpdatedAt,
	}).Error
	if isForeignKeyViolation(err, "orders_seller_id_fkey") {
		return &claimflow.NotFoundError{Resource: "seller", ID: row.SellerID, Field: "seller_id"}
	}
	return err
}

// sameTerms reports whether two versions of an order agree on everything a
// claim is checked against.
func sameTerms(a, b orderRow) bool {
	var ia, ib []orderItemJSON
	if json.Unmarshal([]byte(a.Items), &ia) != nil || json.Unmarshal([]byte(b.Items), &ib) != nil || len(ia) != len(ib) {
		return false
	}
	for i := range ia {
		if ia[i] != ib[i] {
			return false
		}
	}
	return a.BuyerID == b.BuyerID && a.SellerID == b.SellerID && a.Currency == b.Currency &&
		a.Amount == b.Amount && a.PaymentProvider == b.PaymentProvider && a.PaymentReference == b.PaymentReference
}

// GetOrder returns an order. Errors: *claimflow.NotFoundError.
func (s *Store) GetOrder(ctx context.Context, id string) (*order.Order, error) {
	var row orderRow
	err := s.conn(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, &claimflow.NotFoundError{Resource: "order", ID: id}
	}
	if err != nil {
		return nil, storeError(err, "get order %s", id)
	}
	return row.domain()
}

// GetSeller returns a seller. Errors: *claimflow.NotFoundError.
func (s *Store) GetSeller(ctx context.Context, id string) (*seller.Seller, error) {
	var row sellerRow
	err := s.conn(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, &claimflow.NotFoundError{Resource: "seller", ID: id}
	}
	if err != nil {
		return nil, storeError(err, "get seller %s", id)
	}
	return row.domain(), nil
}
