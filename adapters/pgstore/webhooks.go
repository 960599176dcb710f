package pgstore

import (
	"context"
	"time"
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
