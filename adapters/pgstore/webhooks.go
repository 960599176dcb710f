package pgstore

import (
	"context"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// WebhookSeen reports whether the provider's event was processed before.
func (s *Store) WebhookSeen(ctx context.Context, provider, eventID string) (bool, error) {
	var n int64
	err := s.conn(ctx).Raw(`SELECT count(*) FROM webhook_events WHERE provider = ? AND event_id = ?`, provider, eventID).Scan(&n).Error
	if err != nil {
		return false, storeError(err, "webhook event %s", eventID)
	}
	return n > 0, nil
}

// WebhookProcessed records that the provider's event was processed.
func (s *Store) WebhookProcessed(ctx context.Context, provider, eventID, eventType string) error {
	err := s.conn(ctx).Exec(`INSERT INTO webhook_events (provider, event_id, type, received_at) VALUES (?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, provider, eventID, eventType, time.Now().UTC()).Error
	if err != nil {
		return storeError(err, "webhook event %s", eventID)
	}
	return nil
}

// PendingRefunds implements claimflow.PendingRefunds: claims in
// refund_pending since before since, oldest first.
func (s *Store) PendingRefunds(ctx context.Context, since time.Time, limit int) ([]claimflow.PendingRefund, error) {
	var rows []struct {
		ID             string
		RefundProvider string
		RefundID       string
	}
	err := s.conn(ctx).Raw(`SELECT id, refund_provider, refund_id FROM claims
		WHERE status = ? AND refund_id IS NOT NULL AND updated_at < ? ORDER BY updated_at LIMIT ?`,
		claim.StatusRefundPending.String(), since, limit).Scan(&rows).Error
	if err != nil {
		return nil, storeError(err, "pending refunds")
	}
	out := make([]claimflow.PendingRefund, len(rows))
	for i, r := range rows {
		out[i] = claimflow.PendingRefund{ClaimID: r.ID, Provider: r.RefundProvider, RefundID: r.RefundID}
	}
	return out, nil
}
