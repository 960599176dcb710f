package pgstore

import (
	"context"
	"time"

	"github.com/claimsd/claimsd/workflows/claimflow"
)

var _ claimflow.ContestWindowReader = (*Store)(nil)

// OpenContestWindows implements claimflow.ContestWindowReader. It reads
// claims_open_chargebacks_idx (seller_id, contest_by WHERE
// chargeback_status = 'open'): a range scan, however many claims the
// seller has.
func (s *Store) OpenContestWindows(ctx context.Context, sellerID string, now time.Time, limit int) ([]claimflow.Record, bool, error) {
	var rows []claimRow
	err := s.conn(ctx).
		Where("seller_id = ? AND chargeback_status = 'open' AND contest_by > ?", sellerID, now).
		Order("contest_by, id").Limit(limit + 1).Find(&rows).Error
	if err != nil {
		return nil, false, storeError(err, "open contest windows of seller %s", sellerID)
	}
	return page(rows, limit)
}

// page returns the records of rows read with limit+1, and whether there
// were more than limit.
func page(rows []claimRow, limit int) ([]claimflow.Record, bool, error) {
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	out := make([]claimflow.Record, 0, len(rows))
	for _, row := range rows {
		r, err := row.record()
		if err != nil {
			return nil, false, err
		}
		out = append(out, r)
	}
	return out, more, nil
}
