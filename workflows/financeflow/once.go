package financeflow

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// RecordRecoveryOnce records a recovery at most once per key of the
// viewer's (a form's hidden field, an API's Idempotency-Key): the same
// key with the same input again returns the first recovery's id with
// replayed true and records nothing; the recovery and its key commit
// together.
//
//	id, replayed, err := fin.RecordRecoveryOnce(ctx, v, formKey, in)
//
// Errors: RecordRecovery's; *validation.Error "idempotency_key" for a key
// that is empty, longer than 255 or not printable ASCII;
// claimflow.ErrIdempotencyKeyReused when the key was used with other
// input.
func (s *Service) RecordRecoveryOnce(ctx context.Context, v claimflow.Viewer, key string, in RecoveryInput) (id string, replayed bool, err error) {
	if err := checkKey(key); err != nil {
		return "", false, err
	}
	canon, err := json.Marshal(in)
	if err != nil {
		return "", false, err
	}
	sum := sha256.Sum256(append([]byte("record recovery\n"), canon...))
	_, body, replayed, err := s.store.Idempotent(ctx, "recovery:"+v.String(), key, sum[:],
		func(ctx context.Context) (int, []byte, error) {
			rec, err := s.RecordRecovery(ctx, v, in)
			if err != nil {
				return 0, nil, err
			}
			return 201, []byte(rec.Recovery.ID), nil
		})
	if err != nil {
		return "", false, err
	}
	return string(body), replayed, nil
}

func checkKey(key string) error {
	if key == "" || len(key) > 255 {
		return validation.New("idempotency_key", "invalid_idempotency_key", "is missing or too long: reload the page")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return validation.New("idempotency_key", "invalid_idempotency_key", fmt.Sprintf("must be printable ASCII without spaces, not %q", key))
		}
	}
	return nil
}
