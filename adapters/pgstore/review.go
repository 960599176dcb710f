package pgstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// ReviewQueue implements claimflow.Store: claims in review or with a
// failed refund, by deadline then id, keyset-paginated on both.
func (s *Store) ReviewQueue(ctx context.Context, f claimflow.QueueFilter) ([]claimflow.Record, *claimflow.QueueCursor, error) {
	q := s.conn(ctx).Model(&claimRow{}).
		Where("status IN ?", []string{claim.StatusInReview.String(), claim.StatusRefundFailed.String()})
	if f.Reason != nil {
		q = q.Where("reason = ?", f.Reason.String())
	}
	if f.SellerID != "" {
		q = q.Where("seller_id = ?", f.SellerID)
	}
	if !f.Currency.IsZero() {
		q = q.Where("currency = ?", f.Currency.String())
	}
	if f.MinAmount != nil {
		q = q.Where("amount >= ?", *f.MinAmount)
	}
	if f.MaxAmount != nil {
		q = q.Where("amount <= ?", *f.MaxAmount)
	}
	if f.After != nil {
		q = q.Where("(review_deadline, id) > (?, ?)", f.After.Deadline, f.After.ID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	var rows []claimRow
	if err := q.Order("review_deadline ASC NULLS LAST, id ASC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, storeError(err, "review queue")
	}
	var next *claimflow.QueueCursor
	if len(rows) > limit {
		rows = rows[:limit]
		if last := rows[limit-1]; last.ReviewDeadline != nil {
			next = &claimflow.QueueCursor{Deadline: last.ReviewDeadline.UTC(), ID: last.ID}
		}
	}
	out := make([]claimflow.Record, 0, len(rows))
	for _, row := range rows {
		r, err := row.record()
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	return out, next, nil
}

// ClaimHistory implements claimflow.Store.
func (s *Store) ClaimHistory(ctx context.Context, f claimflow.HistoryFilter) (claimflow.History, error) {
	col, who := "shopper_id", f.ShopperID
	if f.SellerID != "" {
		col, who = "seller_id", f.SellerID
	}
	var groups []struct {
		Status   string
		Currency string
		N        int
		Total    int64
	}
	err := s.conn(ctx).Raw(`SELECT status, currency, count(*) AS n, sum(amount)::bigint AS total FROM claims
		WHERE `+col+` = ? AND created_at >= ? AND id <> ? GROUP BY status, currency`, who, f.Since, f.Exclude).Scan(&groups).Error
	if err != nil {
		return claimflow.History{}, storeError(err, "claim history of %s", who)
	}
	h := claimflow.History{ByStatus: map[string]int{}}
	refunded := map[string]int64{}
	for _, g := range groups {
		h.Claims += g.N
		h.ByStatus[g.Status] += g.N
		switch g.Status {
		case claim.StatusRefunded.String(), claim.StatusSellerCharged.String(), claim.StatusClosed.String():
			sum, err := money.AddMinor(refunded[g.Currency], g.Total)
			if err != nil {
				return claimflow.History{}, fmt.Errorf("claim history of %s: refunded in %s: %w", who, g.Currency, err)
			}
			refunded[g.Currency] = sum
		}
	}
	curs := make([]string, 0, len(refunded))
	for c := range refunded {
		curs = append(curs, c)
	}
	slices.Sort(curs)
	for _, c := range curs {
		m, err := money.New(refunded[c], c)
		if err != nil {
			return claimflow.History{}, fmt.Errorf("claim history of %s: %w", who, err)
		}
		h.Refunded = append(h.Refunded, m)
	}
	if f.Recent > 0 {
		var rows []claimRow
		if err := s.conn(ctx).Where(col+" = ? AND id <> ?", who, f.Exclude).Order("id DESC").Limit(f.Recent).Find(&rows).Error; err != nil {
			return claimflow.History{}, storeError(err, "recent claims of %s", who)
		}
		for _, row := range rows {
			r, err := row.record()
			if err != nil {
				return claimflow.History{}, err
			}
			h.Recent = append(h.Recent, r)
		}
	}
	return h, nil
}
