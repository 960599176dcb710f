package pgstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/claimsd/claimsd/domain/evidence"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

var _ evidenceflow.Store = (*Store)(nil)

const evidenceColumns = `id, claim_id, party, kind, content_type, size, sha256, caption,
	coalesce(width, 0), coalesce(height, 0), blob_key, coalesce(thumb_key, ''), coalesce(thumb_size, 0), created_by, created_at`

func scanEvidence(r pgx.Row) (evidence.File, error) {
	var f evidence.File
	var party, kind string
	err := r.Scan(&f.ID, &f.ClaimID, &party, &kind, &f.ContentType, &f.Size, &f.SHA256, &f.Caption,
		&f.Width, &f.Height, &f.BlobKey, &f.ThumbKey, &f.ThumbSize, &f.CreatedBy, &f.CreatedAt)
	f.Party, f.Kind, f.CreatedAt = evidence.Party(party), evidence.Kind(kind), f.CreatedAt.UTC()
	return f, err
}

// ClaimEvidence implements evidenceflow.Store.
func (s *Store) ClaimEvidence(ctx context.Context, claimID string) ([]evidence.File, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+evidenceColumns+` FROM evidence WHERE claim_id = $1 ORDER BY created_at, id`, claimID)
	if err != nil {
		return nil, storeError(err, "evidence of claim %s", claimID)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (evidence.File, error) { return scanEvidence(r) })
	if err != nil {
		return nil, storeError(err, "evidence of claim %s", claimID)
	}
	return out, nil
}

// Evidence implements evidenceflow.Store.
func (s *Store) Evidence(ctx context.Context, claimID, id string) (evidence.File, error) {
	f, err := scanEvidence(s.pool.QueryRow(ctx, `SELECT `+evidenceColumns+` FROM evidence WHERE claim_id = $1 AND id = $2`, claimID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return f, &claimflow.NotFoundError{Resource: "evidence", ID: id}
	}
	if err != nil {
		return f, storeError(err, "evidence %s", id)
	}
	return f, nil
}

// NoteUpload implements evidenceflow.Store.
func (s *Store) NoteUpload(ctx context.Context, keys []string, now time.Time) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO evidence_blob_gc (blob_key, reason, since)
		SELECT k, 'pending', $2::timestamptz FROM unnest($1::text[]) AS k
		ON CONFLICT (blob_key) DO NOTHING`, keys, now)
	if err != nil {
		return storeError(err, "note upload")
	}
	return nil
}

// AddEvidence implements evidenceflow.Store.
func (s *Store) AddEvidence(ctx context.Context, f evidence.File, maxFiles int) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return storeError(err, "add evidence")
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// The claim's row, locked as a change of the claim locks it: uploads
	// to one claim queue here, so two cannot both take its last place,
	// and the timeline's next number is this transaction's to take.
	var status string
	if err := tx.QueryRow(ctx, `SELECT status FROM claims WHERE id = $1 FOR NO KEY UPDATE`, f.ClaimID).Scan(&status); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return &claimflow.NotFoundError{Resource: "claim", ID: f.ClaimID}
		}
		return storeError(err, "lock claim %s", f.ClaimID)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM evidence WHERE claim_id = $1`, f.ClaimID).Scan(&n); err != nil {
		return storeError(err, "count evidence of claim %s", f.ClaimID)
	}
	if n >= maxFiles {
		return &evidence.TooManyError{Limit: maxFiles}
	}
	var thumbKey *string
	var thumbSize *int64
	if f.ThumbKey != "" {
		thumbKey, thumbSize = &f.ThumbKey, &f.ThumbSize
	}
	var width, height *int
	if f.Width > 0 {
		width, height = &f.Width, &f.Height
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO evidence (id, claim_id, party, kind, content_type, size, sha256, caption, width, height,
		                      blob_key, thumb_key, thumb_size, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		f.ID, f.ClaimID, string(f.Party), string(f.Kind), f.ContentType, f.Size, f.SHA256, f.Caption, width, height,
		f.BlobKey, thumbKey, thumbSize, f.CreatedBy, f.CreatedAt); err != nil {
		return storeError(err, "add evidence %s", f.ID)
	}
	// On the claim's timeline (and so, by the outbox trigger, the
	// outbound claim.evidence_added): who added what, never its bytes.
	kind, id, _ := strings.Cut(f.CreatedBy, ":")
	data := map[string]any{"evidence_id": f.ID, "kind": string(f.Kind), "party": string(f.Party), "content_type": f.ContentType, "size": f.Size}
	if _, err := tx.Exec(ctx, `
		INSERT INTO claim_events (claim_id, seq, type, from_status, to_status, actor_kind, actor_id, note, data, created_at)
		SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $3, $4, $5, '', $6, $7 FROM claim_events WHERE claim_id = $1`,
		f.ClaimID, claimflow.EventEvidenceAdded, status, kind, id, data, f.CreatedAt); err != nil {
		return storeError(err, "note evidence %s on the timeline", f.ID)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM evidence_blob_gc WHERE blob_key = $1 OR blob_key = $2`, f.BlobKey, f.ThumbKey); err != nil {
		return storeError(err, "add evidence %s", f.ID)
	}
	if err := tx.Commit(ctx); err != nil {
		return storeError(err, "add evidence %s", f.ID)
	}
	return nil
}

// BlobsToDelete implements evidenceflow.Store.
func (s *Store) BlobsToDelete(ctx context.Context, pendingBefore time.Time, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT blob_key FROM evidence_blob_gc
		WHERE reason = 'deleted' OR since < $1
		ORDER BY since LIMIT $2`, pendingBefore, limit)
	if err != nil {
		return nil, storeError(err, "blobs to delete")
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, storeError(err, "blobs to delete")
	}
	return keys, nil
}

// ForgetBlobs implements evidenceflow.Store.
func (s *Store) ForgetBlobs(ctx context.Context, keys []string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM evidence_blob_gc WHERE blob_key = ANY($1)`, keys); err != nil {
		return storeError(err, "forget blobs")
	}
	return nil
}

// HolderSeesClaim implements evidenceflow.Store.
func (s *Store) HolderSeesClaim(ctx context.Context, claimID, subject string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `
		SELECT EXISTS (
			SELECT 1 FROM counterfeit_lines l
			JOIN brand_rights_holders h ON h.brand_id = l.brand_id AND h.subject = $2
			LEFT JOIN authentication_verdicts v ON v.claim_id = l.claim_id AND v.brand_id = l.brand_id
			WHERE l.claim_id = $1 AND `+lineStatusSQL+` = 'confirmed')`, claimID, subject).Scan(&ok)
	if err != nil {
		return false, storeError(err, "rights holder's claim %s", claimID)
	}
	return ok, nil
}
