package claimflow

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/validation"
)

// This file is the application's edge for the changes people make to
// claims: every front door (the JSON API, the web console) calls these,
// never Submit or Override directly, so a claim is filed, limited and
// made safe to retry in one place. A request type validates itself and
// names the wrong field; a change runs at most once per idempotency key
// and returns the claim as that first run left it; filing spends one of
// the shopper's turns. The doors only translate: their input to these
// request types, the result or error to their own answer.

// Door is the front door a request came through. Each keeps its own
// idempotency keys: a console form's key never replays an API call.
type Door string

// The front doors.
const (
	DoorAPI     Door = "api"
	DoorConsole Door = "console"
)

// Key makes a request safe to retry: the same key with the same request
// gives the first result again (Changed.Replayed); with another request
// it is ErrIdempotencyKeyReused. The zero Value runs the request without
// one.
type Key struct {
	Door  Door
	Value string
}

// KeyField is the field a bad key is reported on, as *validation.Error's
// Field; each door names it its own way (a header, a hidden form field).
const KeyField = "idempotency_key"

// MaxKeyLength is the longest key taken.
const MaxKeyLength = 255

// Validate refuses a key longer than MaxKeyLength or not printable ASCII
// without spaces, with code "invalid_idempotency_key" on KeyField.
func (k Key) Validate() error {
	if len(k.Value) > MaxKeyLength {
		return validation.Newf(KeyField, "invalid_idempotency_key", "must be at most %d characters", MaxKeyLength)
	}
	for i := 0; i < len(k.Value); i++ {
		if k.Value[i] < 0x21 || k.Value[i] > 0x7e {
			return validation.New(KeyField, "invalid_idempotency_key", "must be printable ASCII without spaces")
		}
	}
	return nil
}

// Scope is the key space of a viewer at a door: each caller's keys are
// their own, and each door's.
func (k Key) Scope(v Viewer) string {
	if k.Door == DoorConsole {
		return "console:" + v.String()
	}
	return v.String()
}

// Fingerprint is what a keyed request is compared by: the use case's name
// (with the claim it acts on) and the request's canonical JSON, so a key
// sent again to another use case or with other input is refused.
func Fingerprint(op string, req any) ([]byte, error) {
	canon, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("fingerprint %s: %w", op, err)
	}
	h := sha256.New()
	h.Write([]byte(op + "\n"))
	h.Write(canon)
	return h.Sum(nil), nil
}

// Changed is a claim as a change left it, and whether this answer replays
// an earlier call with the same key (the claim is then as that first call
// left it).
type Changed struct {
	Record   Record
	Replayed bool
}

// once runs change at most once per key: with a key, in one transaction
// with the key (change gets the service working on that transaction's
// store), and a repeat returns the first result.
func (s *Service) once(ctx context.Context, v Viewer, key Key, op string, req any, change func(s *Service) (Record, error)) (Changed, error) {
	if key.Value == "" {
		rec, err := change(s)
		return Changed{Record: rec}, err
	}
	if err := key.Validate(); err != nil {
		return Changed{}, err
	}
	hash, err := Fingerprint(op, req)
	if err != nil {
		return Changed{}, err
	}
	rec, replayed, err := s.store.ClaimOnce(ctx, key.Scope(v), key.Value, hash, func(tx Store) (Record, error) {
		return change(s.on(tx))
	})
	if err != nil {
		return Changed{}, err
	}
	return Changed{Record: rec, Replayed: replayed}, nil
}

// on returns the service working on st: a store bound to one transaction.
func (s *Service) on(st Store) *Service {
	c := *s
	c.store = st
	return &c
}

// FileClaim is a claim as a shopper files it through a front door; the
// shopper is the viewer.
type FileClaim struct {
	OrderID     string           `json:"order_id"`
	Reason      string           `json:"reason"`
	Items       []claim.Item     `json:"items,omitempty"`
	Amount      *int64           `json:"amount,omitempty"`
	Description string           `json:"description"`
	Evidence    []claim.Evidence `json:"evidence,omitempty"`
}

// Validate checks what can be checked without the order: the order's id
// and the reason. Submit checks the rest against the order. Errors are
// *validation.Error naming the field.
func (r FileClaim) Validate() error {
	if err := validation.CheckID("order_id", r.OrderID); err != nil {
		return err
	}
	if _, err := claim.ParseReason(r.Reason); err != nil {
		return validation.New("reason", "unknown_reason", "must be one of counterfeit, not_as_described, damaged, not_received")
	}
	return nil
}

func (r FileClaim) request(v Viewer) claim.Request {
	return claim.Request{ShopperID: v.Subject, Reason: r.Reason, Items: r.Items, Amount: r.Amount,
		Description: r.Description, Evidence: r.Evidence}
}

// RateLimitedError says the caller has used their turns for now.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many requests; retry in %s", e.RetryAfter.Round(time.Second))
}

// File files a shopper's claim as every front door does: within the
// shopper's rate limit, at most once per key, decided at once (Submit).
// A request that filed nothing new gives its turn back: a replay, or one
// that failed on our side (a shopper retrying through an outage is not
// flooding); one refused for what it asked spends it.
//
//	changed, err := svc.File(ctx, v, claimflow.FileClaim{OrderID: "ord_1", Reason: "counterfeit", Description: "…"},
//		claimflow.Key{Door: claimflow.DoorAPI, Value: idempotencyKey})
//
// Errors: *RateLimitedError; *validation.Error (the request or the key);
// Submit's; ErrIdempotencyKeyReused.
func (s *Service) File(ctx context.Context, v Viewer, req FileClaim, key Key) (changed Changed, err error) {
	if s.limiter != nil {
		ok, wait, giveBack := s.limiter.Reserve(v)
		if !ok {
			return Changed{}, &RateLimitedError{RetryAfter: wait}
		}
		defer func() {
			if changed.Replayed || (err != nil && !IsRefusal(err)) {
				giveBack()
			}
		}()
	}
	if err := key.Validate(); err != nil {
		return Changed{}, err
	}
	if err := req.Validate(); err != nil {
		return Changed{}, err
	}
	return s.once(ctx, v, key, "file claim", req, func(s *Service) (Record, error) {
		return s.Submit(ctx, req.OrderID, req.request(v))
	})
}

// OverrideOnce is Override at most once per key.
func (s *Service) OverrideOnce(ctx context.Context, v Viewer, id string, req OverrideRequest, key Key) (Changed, error) {
	return s.once(ctx, v, key, "override "+id, req, func(s *Service) (Record, error) {
		return s.Override(ctx, v, id, req)
	})
}

// ContestOnce is Contest at most once per key.
func (s *Service) ContestOnce(ctx context.Context, v Viewer, id string, req ContestRequest, key Key) (Changed, error) {
	return s.once(ctx, v, key, "contest "+id, req, func(s *Service) (Record, error) {
		return s.Contest(ctx, v, id, req)
	})
}

// ResolutionRequest is an agent's settlement of a seller's contest:
// ContestUphold or ContestReverse, with a note, on the claim version the
// agent looked at.
type ResolutionRequest struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
	Version int64  `json:"version"`
}

// ResolveContestOnce is ResolveContest at most once per key.
func (s *Service) ResolveContestOnce(ctx context.Context, v Viewer, id string, req ResolutionRequest, key Key) (Changed, error) {
	return s.once(ctx, v, key, "resolve contest "+id, req, func(s *Service) (Record, error) {
		return s.ResolveContest(ctx, v, id, req.Outcome, req.Note, req.Version)
	})
}

// IsRefusal reports whether err refuses a request for what it asked (bad
// input, something not found or not allowed now, a key reused, too many
// requests), as opposed to a failure on our side (the database away, a
// fault) after which the same request may succeed.
func IsRefusal(err error) bool {
	var (
		ve *validation.Error
		nf *NotFoundError
		ce *ConflictError
		re *claim.RefusedError
		rl *RateLimitedError
	)
	return errors.As(err, &ve) || errors.As(err, &nf) || errors.As(err, &ce) || errors.As(err, &re) ||
		errors.As(err, &rl) || errors.Is(err, ErrIdempotencyKeyReused) || errors.Is(err, ErrOrderHasClaims)
}
