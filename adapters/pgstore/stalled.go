package pgstore

import (
	"context"
	"fmt"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

var _ claimflow.StalledClaims = (*Store)(nil)

// StalledClaims implements claimflow.StalledClaims. Its condition is
// claimflow.NextStep in SQL: a claim approved or refunded waits for a step
// due since its last change; a claim waiting for a person, with a deadline
// and not escalated, for its review timer; an open charge for its contest
// timer. The store's contract suite (claimflow/storetest) holds the two
// together.
func (s *Store) StalledClaims(ctx context.Context, f claimflow.StalledFilter) ([]claimflow.Record, error) {
	if f.Limit < 1 {
		return nil, fmt.Errorf("stalled claims: limit %d is not positive", f.Limit)
	}
	var waiting []string
	for _, st := range claim.Statuses {
		if st.WaitsForPerson() {
			waiting = append(waiting, st.String())
		}
	}
	q := s.conn(ctx).Where(`((status IN ? AND updated_at < ?)
		OR (status IN ? AND review_deadline < ? AND escalated_at IS NULL)
		OR (chargeback_status = ? AND contest_by < ?))`,
		[]string{claim.StatusApproved.String(), claim.StatusRefunded.String()}, f.Before,
		waiting, f.Before,
		claim.ChargebackOpen.String(), f.Before)
	if f.After != nil {
		q = q.Where("(updated_at, id) > (?, ?)", f.After.UpdatedAt, f.After.ID)
	}
	var rows []claimRow
	if err := q.Order("updated_at, id").Limit(f.Limit).Find(&rows).Error; err != nil {
		return nil, storeError(err, "stalled claims")
	}
	out := make([]claimflow.Record, 0, len(rows))
	for _, row := range rows {
		r, err := row.record()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
