package financeflow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// This file is finance's part of the application edge (see claimflow's
// edge.go): the changes finance makes, each at most once per idempotency
// key, returning what the first run returned, for every front door.

// on returns the service working on st: a store bound to one transaction.
func (s *Service) on(st Store) *Service {
	c := *s
	c.store = st
	return &c
}

// RecordRecoveryOnce records a recovery at most once per key of the
// viewer's (an API's Idempotency-Key, a form's hidden field): the same key
// with the same input again returns the first recovery, with what the
// seller owed right after it, and replayed true, and records nothing; the
// recovery and its key commit together. A recovery needs a key: recording
// one payment twice would understate the debt.
//
//	rec, replayed, err := fin.RecordRecoveryOnce(ctx, v, in, claimflow.Key{Door: claimflow.DoorConsole, Value: formKey})
//
// Errors: RecordRecovery's; *validation.Error on claimflow.KeyField for a
// key that is missing or not a valid key; claimflow.ErrIdempotencyKeyReused
// when the key was used with other input.
func (s *Service) RecordRecoveryOnce(ctx context.Context, v claimflow.Viewer, in RecoveryInput, key claimflow.Key) (Recorded, bool, error) {
	if key.Value == "" {
		return Recorded{}, false, validation.New(claimflow.KeyField, "idempotency_key_required",
			"is required: a retry without one could record the recovery twice")
	}
	if err := key.Validate(); err != nil {
		return Recorded{}, false, err
	}
	hash, err := claimflow.Fingerprint("record recovery", in)
	if err != nil {
		return Recorded{}, false, err
	}
	kept, replayed, err := s.store.FinanceOnce(ctx, "recovery:"+key.Scope(v), key.Value, hash, func(tx Store) ([]byte, error) {
		rec, err := s.on(tx).RecordRecovery(ctx, v, in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(newRecordedJSON(rec))
	})
	if err != nil {
		return Recorded{}, false, err
	}
	var j recordedJSON
	if err := json.Unmarshal(kept, &j); err != nil {
		return Recorded{}, false, fmt.Errorf("kept recovery: %w", err)
	}
	rec, err := j.domain()
	return rec, replayed, err
}

// recordedJSON is a recorded recovery as a keyed request keeps it.
type recordedJSON struct {
	ID         string      `json:"id"`
	SellerID   string      `json:"seller_id"`
	Amount     moneyJSON   `json:"amount"`
	Method     string      `json:"method"`
	Reference  string      `json:"reference"`
	Note       string      `json:"note"`
	RecordedBy string      `json:"recorded_by"`
	RecordedAt time.Time   `json:"recorded_at"`
	Owed       []moneyJSON `json:"owed"`
}

type moneyJSON struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

func newRecordedJSON(rec Recorded) recordedJSON {
	r := rec.Recovery
	j := recordedJSON{ID: r.ID, SellerID: r.SellerID, Amount: moneyJSON{r.Amount.Amount(), r.Amount.Currency().String()},
		Method: r.Method.String(), Reference: r.Reference, Note: r.Note, RecordedBy: r.RecordedBy, RecordedAt: r.RecordedAt}
	for _, m := range rec.Owed {
		j.Owed = append(j.Owed, moneyJSON{m.Amount(), m.Currency().String()})
	}
	return j
}

func (j recordedJSON) domain() (Recorded, error) {
	amount, err := money.New(j.Amount.Amount, j.Amount.Currency)
	if err != nil {
		return Recorded{}, fmt.Errorf("kept recovery %s: %w", j.ID, err)
	}
	method, err := finance.ParseRecoveryMethod(j.Method)
	if err != nil {
		return Recorded{}, fmt.Errorf("kept recovery %s: %w", j.ID, err)
	}
	rec := Recorded{Recovery: finance.Recovery{ID: j.ID, SellerID: j.SellerID, Amount: amount, Method: method,
		Reference: j.Reference, Note: j.Note, RecordedBy: j.RecordedBy, RecordedAt: j.RecordedAt.UTC()}}
	for _, o := range j.Owed {
		m, err := money.New(o.Amount, o.Currency)
		if err != nil {
			return Recorded{}, fmt.Errorf("kept recovery %s: %w", j.ID, err)
		}
		rec.Owed = append(rec.Owed, m)
	}
	return rec, nil
}

// RequestReconciliationOnce is RequestReconciliation at most once per key
// (none given: every call queues a run). A replay answers the run the
// first call queued, as it stands now.
//
// Errors: RequestReconciliation's; *validation.Error on
// claimflow.KeyField; claimflow.ErrIdempotencyKeyReused.
func (s *Service) RequestReconciliationOnce(ctx context.Context, v claimflow.Viewer, p finance.Period, key claimflow.Key) (Run, bool, error) {
	if key.Value == "" {
		r, err := s.RequestReconciliation(ctx, v, p)
		return r, false, err
	}
	if err := key.Validate(); err != nil {
		return Run{}, false, err
	}
	hash, err := claimflow.Fingerprint("request reconciliation", p)
	if err != nil {
		return Run{}, false, err
	}
	var run Run
	kept, replayed, err := s.store.FinanceOnce(ctx, key.Scope(v), key.Value, hash, func(tx Store) ([]byte, error) {
		var err error
		if run, err = s.on(tx).RequestReconciliation(ctx, v, p); err != nil {
			return nil, err
		}
		return []byte(run.ID), nil
	})
	if err != nil || !replayed {
		return run, false, err
	}
	run, err = s.store.GetRun(ctx, string(kept))
	return run, true, err
}
