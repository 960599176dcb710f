package claimflow

import (
	"context"

	"github.com/claimsd/claimsd/domain/validation"
)

// MaxContestQueue is the most contested charges one call returns.
const MaxContestQueue = 200

// ContestQueueReader reads the contested charges waiting for an agent; it
// is part of Store.
type ContestQueueReader interface {
	// ContestQueue returns up to limit claims whose charge is contested:
	// protected charges first (a creditable seller's contest is worked
	// first, since the platform carries the cost until it is settled),
	// then the earliest contest window, then by id; and whether there are
	// more.
	ContestQueue(ctx context.Context, limit int) ([]Record, bool, error)
}

// ContestQueue returns the contested charges an agent settles, protected
// ones first, at most limit (1 to MaxContestQueue), and whether there are
// more. Only staff see it.
//
//	recs, more, err := svc.ContestQueue(ctx, claimflow.Viewer{Role: claimflow.RoleAgent, Subject: "agt_1"}, 50)
//
// Errors: *NotFoundError for a viewer who is not staff, *validation.Error
// for a limit out of range, the store's.
func (s *Service) ContestQueue(ctx context.Context, v Viewer, limit int) ([]Record, bool, error) {
	if !v.IsStaff() {
		return nil, false, &NotFoundError{Resource: "contest queue"}
	}
	if limit < 1 || limit > MaxContestQueue {
		return nil, false, validation.Newf("limit", "invalid_limit", "must be from 1 to %d", MaxContestQueue)
	}
	return s.store.ContestQueue(ctx, limit)
}
