package pgstore

import (
	"bytes"
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/claimsd/claimsd/workflows/claimflow"
)

// Idempotent implements claimflow.IdempotencyStore. The key row is
// inserted first in the transaction: a concurrent request with the same
// key waits on that insert until the first commits (and then replays) or
// rolls back (and then runs). fn's writes, the key and the response commit
// together, so a crash can never leave an effect without its response.
func (s *Store) Idempotent(ctx context.Context, scope, key string, hash []byte,
	fn func(ctx context.Context) (int, []byte, error)) (status int, body []byte, replayed bool, err error) {
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO idempotency_keys (scope, key, request_hash, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (scope, key) DO NOTHING`, scope, key, hash, time.Now().UTC())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var prev struct {
				RequestHash  []byte
				StatusCode   *int
				ResponseBody []byte
			}
			if err := tx.Raw(`SELECT request_hash, status_code, response_body FROM idempotency_keys
				WHERE scope = ? AND key = ?`, scope, key).Scan(&prev).Error; err != nil {
				return err
			}
			if !bytes.Equal(prev.RequestHash, hash) || prev.StatusCode == nil {
				return claimflow.ErrIdempotencyKeyReused
			}
			status, body, replayed = *prev.StatusCode, prev.ResponseBody, true
			return nil
		}
		var ferr error
		status, body, ferr = fn(context.WithValue(ctx, txKey{}, tx))
		if ferr != nil {
			return ferr
		}
		return tx.Exec(`UPDATE idempotency_keys SET status_code = ?, response_body = ? WHERE scope = ? AND key = ?`,
			status, body, scope, key).Error
	})
	if err != nil {
		return 0, nil, false, storeError(err, "idempotent %s", key)
	}
	return status, body, replayed, nil
}
