package pgstore

import (
	"context"

	"github.com/claimsd/claimsd/workflows/claimflow"
)

var _ claimflow.ContestQueueReader = (*Store)(nil)

// ContestQueue implements claimflow.ContestQueueReader. It reads
// claims_contest_queue_idx ((chargeback_protected DESC, contest_by, id)
// WHERE chargeback_status = 'contested') in order: protected contests
// lead, however many others wait.
func (s *Store) ContestQueue(ctx context.Context, limit int) ([]claimflow.Record, bool, error) {
	var rows []claimRow
	err := s.conn(ctx).
		Where("chargeback_status = 'contested'").
		Order("chargeback_protected DESC, contest_by, id").Limit(limit + 1).Find(&rows).Error
	if err != nil {
		return nil, false, storeError(err, "contest queue")
	}
	return page(rows, limit)
}
