package evidenceflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/claimsd/claimsd/domain/evidence"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// sees reports which of a claim's files v may read, once v may see the
// claim: staff every file; a shopper their own (never the seller's
// contest papers); a seller their own contest evidence, never the
// shopper's; a rights holder the shopper's photos.
func sees(v claimflow.Viewer, f evidence.File) bool {
	switch {
	case v.IsStaff():
		return true
	case v.IsShopper():
		return f.Party == evidence.PartyShopper
	case v.IsSeller():
		return f.Party == evidence.PartySeller
	case v.Role == claimflow.RoleRightsHolder:
		return f.Party == evidence.PartyShopper && f.Kind == evidence.KindPhoto && evidence.IsImage(f.ContentType)
	}
	return false
}

// claimFor checks v may see the claim's evidence at all: staff, its
// shopper and seller as claimflow says; a rights holder when the claim is
// a confirmed counterfeit of a brand they hold. Anything else is the same
// not-found as a claim that does not exist.
func (s *Service) claimFor(ctx context.Context, v claimflow.Viewer, claimID string) error {
	notFound := &claimflow.NotFoundError{Resource: "claim", ID: claimID}
	if validation.CheckID("id", claimID) != nil {
		return notFound
	}
	if v.Role == claimflow.RoleRightsHolder {
		ok, err := s.store.HolderSeesClaim(ctx, claimID, v.Subject)
		if err != nil {
			return err
		}
		if !ok {
			return notFound
		}
		return nil
	}
	_, err := s.claims.Get(ctx, v, claimID)
	return err
}

// audit records a rights holder's read; staff's and the parties' own
// reads are not intelligence.
func (s *Service) audit(ctx context.Context, v claimflow.Viewer, action, claimID string, detail map[string]any) error {
	if v.Role != claimflow.RoleRightsHolder || s.cfg.Audit == nil {
		return nil
	}
	if err := s.cfg.Audit(ctx, v, action, "claim:"+claimID, detail); err != nil {
		return fmt.Errorf("record the read of claim %s's evidence: %w", claimID, err)
	}
	return nil
}

// List returns the claim's files v may see, oldest first. Errors:
// *claimflow.NotFoundError, also for a claim v may not see.
func (s *Service) List(ctx context.Context, v claimflow.Viewer, claimID string) ([]evidence.File, error) {
	if err := s.claimFor(ctx, v, claimID); err != nil {
		return nil, err
	}
	all, err := s.store.ClaimEvidence(ctx, claimID)
	if err != nil {
		return nil, err
	}
	out := make([]evidence.File, 0, len(all))
	for _, f := range all {
		if sees(v, f) {
			out = append(out, f)
		}
	}
	if err := s.audit(ctx, v, AuditList, claimID, map[string]any{"files": len(out)}); err != nil {
		return nil, err
	}
	return out, nil
}

// Open returns one file v may see and its bytes, or its thumbnail's (a
// JPEG) when thumb is set; the caller closes the reader. Errors:
// *claimflow.NotFoundError (a file v may not see is not found, as is an
// image's missing thumbnail or a PDF's).
func (s *Service) Open(ctx context.Context, v claimflow.Viewer, claimID, id string, thumb bool) (evidence.File, io.ReadCloser, error) {
	if err := s.claimFor(ctx, v, claimID); err != nil {
		return evidence.File{}, nil, err
	}
	notFound := &claimflow.NotFoundError{Resource: "evidence", ID: id}
	if validation.CheckID("evidence_id", id) != nil {
		return evidence.File{}, nil, notFound
	}
	f, err := s.store.Evidence(ctx, claimID, id)
	if err != nil {
		return evidence.File{}, nil, err
	}
	if !sees(v, f) {
		return evidence.File{}, nil, notFound
	}
	if err := s.audit(ctx, v, AuditFile, claimID, map[string]any{"evidence_id": f.ID, "thumbnail": thumb, "sha256": f.SHA256}); err != nil {
		return evidence.File{}, nil, err
	}
	key := f.BlobKey
	if thumb {
		if f.ThumbKey == "" {
			return evidence.File{}, nil, notFound
		}
		key = f.ThumbKey
	}
	rc, err := s.blobs.Open(ctx, key)
	if errors.Is(err, ErrBlobNotFound) {
		return evidence.File{}, nil, fmt.Errorf("evidence %s is recorded but its blob %s is missing: %w", id, key, err)
	}
	if err != nil {
		return evidence.File{}, nil, fmt.Errorf("open evidence %s: %w", id, err)
	}
	return f, rc, nil
}

// SweepPendingAfter is how long an upload's noted blobs may wait for
// their row before the sweep deletes them.
const SweepPendingAfter = time.Hour

// Sweep deletes the blobs of failed uploads (noted over an hour ago and
// never recorded) and of deleted evidence rows, batch by batch, and
// returns how many it deleted. The hourly job runs it.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		keys, err := s.store.BlobsToDelete(ctx, s.now().Add(-SweepPendingAfter), 100)
		if err != nil || len(keys) == 0 {
			return total, err
		}
		for _, k := range keys {
			if err := s.blobs.Delete(ctx, k); err != nil {
				return total, fmt.Errorf("sweep blob %s: %w", k, err)
			}
		}
		if err := s.store.ForgetBlobs(ctx, keys); err != nil {
			return total, err
		}
		total += len(keys)
	}
}
