package pgstore

import (
	"context"
	"encoding/json"
)

// ClaimRowJSON reads a claim's row afresh and encodes it as ClaimOnce
// keeps it.
func (s *Store) ClaimRowJSON(ctx context.Context, id string) ([]byte, error) {
	var row claimRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, err
	}
	return json.Marshal(row)
}
