package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/claimsd/claimsd/workflows/eventflow"
)

var _ eventflow.Store = (*Store)(nil)

// relayLockKey lets one relay number events at a time across processes.
const relayLockKey = 0x636c6d7372656c79 // "clmsrely"

// NumberPending implements eventflow.Store. In one transaction, under
// the relay's lock: the events whose transactions are older than every
// transaction still running, by claim and sequence (see migration 0016),
// numbered after the last number given, with their rendered data.
func (s *Store) NumberPending(ctx context.Context, limit int, render func(context.Context, []eventflow.Pending) (map[string]json.RawMessage, error), now time.Time) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(relayLockKey)).Scan(&locked); err != nil || !locked {
			return err // another relay is at it
		}
		// The oldest transactions' events, and every other event ready of
		// the claims among them: a claim's later event may have the older
		// transaction id (it waited for the claim's lock), and must not
		// be numbered in one batch while its earlier one waits for the
		// next.
		rows, err := tx.Query(ctx, `
			WITH head AS (
			         SELECT id, claim_id FROM events
			          WHERE position IS NULL AND txid < pg_snapshot_xmin(pg_current_snapshot())
			          ORDER BY txid, id LIMIT $1)
			SELECT id, type, coalesce(claim_id, ''), coalesce(sequence, 0), data IS NOT NULL
			  FROM events WHERE id IN (SELECT id FROM head)
			UNION
			SELECT id, type, claim_id, sequence, data IS NOT NULL
			  FROM events
			 WHERE position IS NULL AND txid < pg_snapshot_xmin(pg_current_snapshot())
			   AND claim_id IN (SELECT claim_id FROM head WHERE claim_id IS NOT NULL)`, limit)
		if err != nil {
			return err
		}
		pending, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (eventflow.Pending, error) {
			var p eventflow.Pending
			return p, r.Scan(&p.ID, &p.Type, &p.ClaimID, &p.Sequence, &p.HasData)
		})
		if err != nil || len(pending) == 0 {
			return err
		}
		data, err := render(ctx, pending)
		if err != nil {
			return err
		}
		ids := make([]string, len(pending))
		docs := make([]*string, len(pending))
		for i, p := range pending {
			ids[i] = p.ID
			if d, ok := data[p.ID]; ok {
				s := string(d)
				docs[i] = &s
			}
		}
		// Numbered by claim and sequence within the batch, so a claim's
		// events keep their order; the rest by transaction.
		tag, err := tx.Exec(ctx, `
			WITH base AS (SELECT coalesce(max(position), 0) AS last FROM events),
			     batch AS (
			         SELECT b.id, b.doc, row_number() OVER (
			                    ORDER BY coalesce(e.claim_id, e.subject_id), coalesce(e.sequence, 0), e.txid, e.id) AS n
			           FROM unnest($1::text[], $2::jsonb[]) AS b(id, doc) JOIN events e ON e.id = b.id)
			UPDATE events e SET position = base.last + batch.n, published_at = $3, data = coalesce(e.data, batch.doc)
			  FROM base, batch WHERE e.id = batch.id`, ids, docs, now)
		n = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return 0, storeError(err, "number events")
	}
	return n, nil
}

// EventsAfter implements eventflow.Store.
func (s *Store) EventsAfter(ctx context.Context, position int64, types []string, limit int) ([]eventflow.Event, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, type, subject_id, coalesce(claim_id, ''), coalesce(sequence, 0), created_at, position, coalesce(data, 'null')
		  FROM events
		 WHERE position > $1 AND ($2::text[] IS NULL OR type = ANY($2))
		 ORDER BY position LIMIT $3`, position, types, limit)
	if err != nil {
		return nil, storeError(err, "events after %d", position)
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (eventflow.Event, error) {
		var e eventflow.Event
		var data []byte
		err := r.Scan(&e.ID, &e.Type, &e.SubjectID, &e.ClaimID, &e.Sequence, &e.CreatedAt, &e.Position, &data)
		e.CreatedAt, e.Data = e.CreatedAt.UTC(), data
		return e, err
	})
	if err != nil {
		return nil, storeError(err, "events after %d", position)
	}
	return evs, nil
}

// PruneEvents implements eventflow.Store: by position, oldest first, up
// to the lowest consumer's cursor.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `
		DELETE FROM events WHERE id IN (
		    SELECT id FROM events
		     WHERE position IS NOT NULL AND created_at < $1
		       AND position <= coalesce((SELECT min(position) FROM event_cursors), position)
		       -- the newest numbered event stays, so numbering goes on after it
		       AND position < (SELECT max(position) FROM events)
		     ORDER BY position LIMIT $2)`, before, limit)
	if err != nil {
		return 0, storeError(err, "prune events")
	}
	return int(tag.RowsAffected()), nil
}

// EventsStatus implements eventflow.Store: index reads only.
func (s *Store) EventsStatus(ctx context.Context) (eventflow.Status, error) {
	var st eventflow.Status
	err := s.pool.QueryRow(ctx, `
		SELECT (SELECT coalesce(max(position), 0) FROM events),
		       (SELECT count(*) FROM events WHERE position IS NULL),
		       (SELECT min(created_at) FROM events WHERE position IS NULL)`).Scan(&st.Last, &st.Waiting, &st.OldestWaiting)
	if err != nil {
		return st, storeError(err, "events status")
	}
	if st.OldestWaiting != nil {
		at := st.OldestWaiting.UTC()
		st.OldestWaiting = &at
	}
	rows, err := s.pool.Query(ctx, `SELECT consumer, position, updated_at FROM event_cursors ORDER BY consumer`)
	if err != nil {
		return st, storeError(err, "events status")
	}
	st.Consumers, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (eventflow.ConsumerStatus, error) {
		var c eventflow.ConsumerStatus
		err := r.Scan(&c.Name, &c.Position, &c.UpdatedAt)
		c.Behind, c.UpdatedAt = max(st.Last-c.Position, 0), c.UpdatedAt.UTC()
		return c, err
	})
	if err != nil {
		return st, storeError(err, "events status")
	}
	return st, nil
}

// OldestPending implements eventflow.Store.
func (s *Store) OldestPending(ctx context.Context) (time.Time, bool, error) {
	var at *time.Time
	err := s.pool.QueryRow(ctx, `SELECT min(created_at) FROM events WHERE position IS NULL`).Scan(&at)
	if err != nil {
		return time.Time{}, false, storeError(err, "oldest pending event")
	}
	if at == nil {
		return time.Time{}, false, nil
	}
	return at.UTC(), true, nil
}

// Cursor implements eventflow.Store.
func (s *Store) Cursor(ctx context.Context, consumer string) (int64, error) {
	var pos int64
	err := s.pool.QueryRow(ctx, `SELECT position FROM event_cursors WHERE consumer = $1`, consumer).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, storeError(err, "cursor of %s", consumer)
	}
	return pos, nil
}

// SetCursor implements eventflow.Store. A cursor only moves forward.
func (s *Store) SetCursor(ctx context.Context, consumer string, position int64, now time.Time) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO event_cursors (consumer, position, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (consumer) DO UPDATE SET position = greatest(event_cursors.position, EXCLUDED.position),
		                                     updated_at = EXCLUDED.updated_at`, consumer, position, now)
	if err != nil {
		return storeError(err, "set cursor of %s", consumer)
	}
	return nil
}
