package pgstore

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/claimsd/claimsd/domain/brand"
	"github.com/claimsd/claimsd/workflows/brandflow"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

var _ brandflow.Store = (*Store)(nil)

// brandRightsHolderRow is one rights holder of a brand, at its place in
// the brand's list.
type brandRightsHolderRow struct {
	BrandID  string
	Subject  string
	Position int
}

func (brandRightsHolderRow) TableName() string { return "brand_rights_holders" }

// UpsertBrand implements brandflow.Store: the brand's row and its rights
// holders are replaced together, in one transaction.
func (s *Store) UpsertBrand(ctx context.Context, b *brand.Brand, now time.Time) (bool, error) {
	var created bool
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		err := tx.Raw(`
			INSERT INTO brands (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_at = EXCLUDED.updated_at
			RETURNING (xmax = 0)`, b.ID(), b.Name(), now, now).Scan(&created).Error
		if err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM brand_rights_holders WHERE brand_id = ?`, b.ID()).Error; err != nil {
			return err
		}
		subs := b.RightsHolders()
		if len(subs) == 0 {
			return nil
		}
		rows := make([]brandRightsHolderRow, len(subs))
		for i, sub := range subs {
			rows[i] = brandRightsHolderRow{BrandID: b.ID(), Subject: sub, Position: i}
		}
		return tx.Create(&rows).Error
	})
	if err != nil {
		return false, storeError(err, "upsert brand %s", b.ID())
	}
	return created, nil
}

// GetBrand implements brandflow.Store. Errors: *claimflow.NotFoundError.
func (s *Store) GetBrand(ctx context.Context, id string) (*brand.Brand, error) {
	var row struct{ ID, Name string }
	err := s.conn(ctx).Raw(`SELECT id, name FROM brands WHERE id = ?`, id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, &claimflow.NotFoundError{Resource: "brand", ID: id}
	}
	if err != nil {
		return nil, storeError(err, "get brand %s", id)
	}
	var subs []string
	err = s.conn(ctx).Raw(`SELECT subject FROM brand_rights_holders WHERE brand_id = ? ORDER BY position`, id).Scan(&subs).Error
	if err != nil {
		return nil, storeError(err, "get brand %s's rights holders", id)
	}
	return brand.Rehydrate(brand.Params{ID: row.ID, Name: row.Name, RightsHolders: subs}), nil
}
