package claimflow

import (
	"context"
	"time"

	"github.com/claimsd/claimsd/domain/validation"
)

// MaxContestWindows is the most open contest windows one call returns.
const MaxContestWindows = 200

// ContestWindowReader reads the charges a seller may still contest; it is
// part of Store.
type ContestWindowReader interface {
	// OpenContestWindows returns up to limit claims of sellerID whose
	// charge is open and whose contest window ends after now, the soonest
	// end first (then by id), and whether there are more.
	OpenContestWindows(ctx context.Context, sellerID string, now time.Time, limit int) ([]Record, bool, error)
}

// OpenContestWindows returns the charges of sellerID the viewer may see
// that are still open to contest by the service's clock, the soonest
// deadline first, at most limit (1 to MaxContestWindows), and whether
// there are more. A seller sees only their own.
//
//	recs, more, err := svc.OpenContestWindows(ctx, claimflow.Viewer{Role: "seller", Subject: "sel_1"}, "sel_1", 20)
//
// Errors: *NotFoundError for another seller's (or a malformed id),
// *validation.Error for a limit out of range, the store's.
func (s *Service) OpenContestWindows(ctx context.Context, v Viewer, sellerID string, limit int) ([]Record, bool, error) {
	if validation.CheckID("id", sellerID) != nil || (v.IsSeller() && v.Subject != sellerID) || v.IsShopper() {
		return nil, false, &NotFoundError{Resource: "seller", ID: sellerID}
	}
	if limit < 1 || limit > MaxContestWindows {
		return nil, false, validation.Newf("limit", "invalid_limit", "must be from 1 to %d", MaxContestWindows)
	}
	return s.store.OpenContestWindows(ctx, sellerID, s.now().UTC(), limit)
}
