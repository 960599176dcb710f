package pgstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

var _ financeflow.Store = (*Store)(nil)

// once runs run at most once per (scope, key) and keeps what it returns.
// The key row is inserted first in the transaction: a concurrent request
// with the same key waits on that insert until the first commits (and
// then replays) or rolls back (and then runs). run works on a store bound
// to the transaction, so its writes, the key and the kept result commit
// together and a crash can never leave an effect without its result.
func (s *Store) once(ctx context.Context, scope, key string, hash []byte, run func(tx *Store) ([]byte, error)) (result []byte, replayed bool, err error) {
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO idempotency_keys (scope, key, request_hash, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (scope, key) DO NOTHING`, scope, key, hash, time.Now().UTC())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var prev struct {
				RequestHash []byte
				Result      []byte
			}
			if err := tx.Raw(`SELECT request_hash, result FROM idempotency_keys
				WHERE scope = ? AND key = ?`, scope, key).Scan(&prev).Error; err != nil {
				return err
			}
			// No result: the key was kept before results were (its answer
			// is gone), so it cannot be replayed.
			if !bytes.Equal(prev.RequestHash, hash) || prev.Result == nil {
				return claimflow.ErrIdempotencyKeyReused
			}
			result, replayed = prev.Result, true
			return nil
		}
		var rerr error
		if result, rerr = run(s.bound(tx)); rerr != nil {
			return rerr
		}
		return tx.Exec(`UPDATE idempotency_keys SET result = ? WHERE scope = ? AND key = ?`, result, scope, key).Error
	})
	if err != nil {
		return nil, false, storeError(err, "keyed request %s", key)
	}
	return result, replayed, nil
}

// ClaimOnce implements claimflow.Store. It keeps the claim's row as fn
// left it and answers the first call and every replay from it, so they
// answer alike: the row SubmitClaim stored when fn filed the claim and
// changed it no more, else the row read back in fn's transaction.
func (s *Store) ClaimOnce(ctx context.Context, scope, key string, hash []byte,
	fn func(tx claimflow.Store) (claimflow.Record, error)) (claimflow.Record, bool, error) {
	kept, replayed, err := s.once(ctx, scope, key, hash, func(tx *Store) ([]byte, error) {
		rec, err := fn(tx)
		if err != nil {
			return nil, err
		}
		if tx.filed != nil && tx.filed.ID == rec.Claim.ID() {
			return json.Marshal(*tx.filed)
		}
		var row claimRow
		if err := tx.tx.Where("id = ?", rec.Claim.ID()).Take(&row).Error; err != nil {
			return nil, fmt.Errorf("read back claim %s: %w", rec.Claim.ID(), err)
		}
		return json.Marshal(row)
	})
	if err != nil {
		return claimflow.Record{}, false, err
	}
	// The first answer is read from what was kept too, so it and every
	// replay agree to the microsecond the database keeps.
	var row claimRow
	if err := json.Unmarshal(kept, &row); err != nil {
		return claimflow.Record{}, false, fmt.Errorf("keyed request %s: kept claim: %w", key, err)
	}
	rec, err := row.record()
	return rec, replayed, err
}

// FinanceOnce implements financeflow.Store: fn's result is kept as fn
// encoded it.
func (s *Store) FinanceOnce(ctx context.Context, scope, key string, hash []byte,
	fn func(tx financeflow.Store) ([]byte, error)) ([]byte, bool, error) {
	return s.once(ctx, scope, key, hash, func(tx *Store) ([]byte, error) { return fn(tx) })
}

// PolicyOnce implements policyflow.Store: fn's result is kept as fn
// encoded it.
func (s *Store) PolicyOnce(ctx context.Context, scope, key string, hash []byte,
	fn func(tx policyflow.Store) ([]byte, error)) ([]byte, bool, error) {
	return s.once(ctx, scope, key, hash, func(tx *Store) ([]byte, error) { return fn(tx) })
}
