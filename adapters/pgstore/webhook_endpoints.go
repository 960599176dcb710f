package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/webhookflow"
)

var _ webhookflow.Store = (*Store)(nil)

// fanOutLockKey lets one process fan events out at a time.
const fanOutLockKey = 0x636c6d7366616e6f // "clmsfano"

const endpointColumns = `id, url, description, event_types, enabled, coalesce(disabled_reason, ''), disabled_at,
	failing_since, previous_until, created_by, created_at, updated_at, delivered_count, failed_count,
	(SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = webhook_endpoints.id AND d.state = 'pending')`

func scanEndpoint(r pgx.Row) (webhookflow.Endpoint, error) {
	var e webhookflow.Endpoint
	err := r.Scan(&e.ID, &e.URL, &e.Description, &e.EventTypes, &e.Enabled, &e.DisabledReason, &e.DisabledAt,
		&e.FailingSince, &e.PreviousUntil, &e.CreatedBy, &e.CreatedAt, &e.UpdatedAt, &e.Delivered, &e.Failed, &e.Pending)
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	for _, t := range []**time.Time{&e.DisabledAt, &e.FailingSince, &e.PreviousUntil} {
		if *t != nil {
			u := (*t).UTC()
			*t = &u
		}
	}
	return e, err
}

func endpointNotFound(id string) error {
	return &claimflow.NotFoundError{Resource: "webhook_endpoint", ID: id}
}

// CreateEndpoint implements webhookflow.Store: the endpoint takes the
// events numbered after the last one numbered now.
func (s *Store) CreateEndpoint(ctx context.Context, e webhookflow.Endpoint) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO webhook_endpoints (id, url, description, event_types, enabled, secret, start_position,
		                               created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, true, $5, (SELECT coalesce(max(position), 0) FROM events), $6, $7, $7)`,
		e.ID, e.URL, e.Description, e.EventTypes, e.Secret, e.CreatedBy, e.CreatedAt)
	if err != nil {
		return storeError(err, "create webhook endpoint")
	}
	return nil
}

// Endpoints implements webhookflow.Store.
func (s *Store) Endpoints(ctx context.Context) ([]webhookflow.Endpoint, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints ORDER BY created_at, id`)
	if err != nil {
		return nil, storeError(err, "list webhook endpoints")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhookflow.Endpoint, error) { return scanEndpoint(r) })
	if err != nil {
		return nil, storeError(err, "list webhook endpoints")
	}
	return out, nil
}

// Endpoint implements webhookflow.Store.
func (s *Store) Endpoint(ctx context.Context, id string) (webhookflow.Endpoint, error) {
	e, err := scanEndpoint(s.pool.QueryRow(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return e, endpointNotFound(id)
	}
	if err != nil {
		return e, storeError(err, "webhook endpoint %s", id)
	}
	return e, nil
}

// UpdateEndpoint implements webhookflow.Store. Enabling an endpoint
// clears its failures and brings its pending deliveries' next attempt
// forward to now.
func (s *Store) UpdateEndpoint(ctx context.Context, id string, p webhookflow.Patch, reason string, now time.Time) (webhookflow.Endpoint, error) {
	var out webhookflow.Endpoint
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var was bool
		err := tx.QueryRow(ctx, `SELECT enabled FROM webhook_endpoints WHERE id = $1 FOR UPDATE`, id).Scan(&was)
		if errors.Is(err, pgx.ErrNoRows) {
			return endpointNotFound(id)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE webhook_endpoints SET
			       url = coalesce($2, url), description = coalesce($3, description),
			       event_types = coalesce($4, event_types),
			       enabled = coalesce($5, enabled),
			       disabled_reason = CASE WHEN enabled AND $5 = false THEN $6 ELSE disabled_reason END,
			       disabled_at = CASE WHEN enabled AND $5 = false THEN $7 ELSE disabled_at END,
			       failing_since = CASE WHEN NOT enabled AND $5 = true THEN NULL ELSE failing_since END,
			       updated_at = $7
			 WHERE id = $1`, id, p.URL, p.Description, p.EventTypes, p.Enabled, reason, now)
		if err != nil {
			return err
		}
		if !was && p.Enabled != nil && *p.Enabled {
			if _, err := tx.Exec(ctx, `
				UPDATE webhook_deliveries SET next_attempt_at = $2
				 WHERE endpoint_id = $1 AND state = 'pending' AND next_attempt_at > $2`, id, now); err != nil {
				return err
			}
		}
		out, err = scanEndpoint(tx.QueryRow(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = $1`, id))
		return err
	})
	if err != nil {
		var nf *claimflow.NotFoundError
		if errors.As(err, &nf) {
			return out, err
		}
		return out, storeError(err, "update webhook endpoint %s", id)
	}
	return out, nil
}

// DeleteEndpoint implements webhookflow.Store.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id)
	if err != nil {
		return storeError(err, "delete webhook endpoint %s", id)
	}
	if tag.RowsAffected() == 0 {
		return endpointNotFound(id)
	}
	return nil
}

// RotateSecret implements webhookflow.Store.
func (s *Store) RotateSecret(ctx context.Context, id, secret string, previousUntil, now time.Time) (webhookflow.Endpoint, error) {
	e, err := scanEndpoint(s.pool.QueryRow(ctx, `
		UPDATE webhook_endpoints SET previous_secret = secret, secret = $2, previous_until = $3, updated_at = $4
		 WHERE id = $1
		RETURNING `+endpointColumns, id, secret, previousUntil, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return e, endpointNotFound(id)
	}
	if err != nil {
		return e, storeError(err, "rotate the secret of webhook endpoint %s", id)
	}
	return e, nil
}

// Deliveries implements webhookflow.Store.
func (s *Store) Deliveries(ctx context.Context, endpointID string, before int64, state string, limit int) ([]webhookflow.Delivery, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, endpoint_id, event_id, event_type, coalesce(claim_id, ''), position, replay, state, attempts,
		       CASE WHEN state = 'pending' THEN next_attempt_at END, coalesce(last_status, 0),
		       coalesce(last_error, ''), coalesce(last_latency_ms, 0), created_at, finished_at
		  FROM webhook_deliveries
		 WHERE endpoint_id = $1 AND ($2::bigint = 0 OR id < $2) AND ($3::text = '' OR state = $3)
		 ORDER BY id DESC LIMIT $4`, endpointID, before, state, limit)
	if err != nil {
		return nil, storeError(err, "deliveries of %s", endpointID)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhookflow.Delivery, error) {
		var d webhookflow.Delivery
		var ms int
		err := r.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &d.ClaimID, &d.Position, &d.Replay, &d.State,
			&d.Attempts, &d.NextAttemptAt, &d.LastStatus, &d.LastError, &ms, &d.CreatedAt, &d.FinishedAt)
		d.LastLatency, d.CreatedAt = time.Duration(ms)*time.Millisecond, d.CreatedAt.UTC()
		return d, err
	})
	if err != nil {
		return nil, storeError(err, "deliveries of %s", endpointID)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]int64, len(out))
	at := make(map[int64]int, len(out))
	for i, d := range out {
		ids[i], at[d.ID] = d.ID, i
	}
	rows, err = s.pool.Query(ctx, `
		SELECT delivery_id, n, at, coalesce(status, 0), latency_ms, coalesce(error, ''), coalesce(response, '')
		  FROM webhook_attempts WHERE delivery_id = ANY($1) ORDER BY delivery_id, n`, ids)
	if err != nil {
		return nil, storeError(err, "attempts of %s", endpointID)
	}
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		var id int64
		var a webhookflow.Attempt
		var ms int
		if err := r.Scan(&id, &a.N, &a.At, &a.Status, &ms, &a.Error, &a.Response); err != nil {
			return struct{}{}, err
		}
		a.At, a.Latency = a.At.UTC(), time.Duration(ms)*time.Millisecond
		out[at[id]].History = append(out[at[id]].History, a)
		return struct{}{}, nil
	})
	if err != nil {
		return nil, storeError(err, "attempts of %s", endpointID)
	}
	return out, nil
}

// Replay implements webhookflow.Store: the kept, numbered events of the
// endpoint's types written from from up to to, in position order, but
// those already waiting for it.
func (s *Store) Replay(ctx context.Context, endpointID string, from, to, now time.Time) (webhookflow.ReplayResult, error) {
	var res webhookflow.ReplayResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var types []string
		err := tx.QueryRow(ctx, `SELECT event_types FROM webhook_endpoints WHERE id = $1 FOR SHARE`, endpointID).Scan(&types)
		if errors.Is(err, pgx.ErrNoRows) {
			return endpointNotFound(endpointID)
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, claim_id, position, replay, next_attempt_at, created_at)
			SELECT $1, e.id, e.type, e.claim_id, e.position, true, $4, $4
			  FROM events e
			 WHERE e.position IS NOT NULL AND e.created_at >= $2 AND e.created_at <= $3
			   AND ('*' = ANY($5::text[]) OR e.type = ANY($5::text[]))
			   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
			                    WHERE p.endpoint_id = $1 AND p.event_id = e.id AND p.state = 'pending')
			 ORDER BY e.position`, endpointID, from, to, now, types)
		if err != nil {
			return err
		}
		res.Queued = int(tag.RowsAffected())
		return tx.QueryRow(ctx, `SELECT min(created_at) FROM events WHERE position IS NOT NULL`).Scan(&res.OldestKept)
	})
	if err != nil {
		var nf *claimflow.NotFoundError
		if errors.As(err, &nf) {
			return res, err
		}
		return res, storeError(err, "replay to %s", endpointID)
	}
	if res.OldestKept != nil {
		t := res.OldestKept.UTC()
		res.OldestKept = &t
	}
	return res, nil
}

// FanOut implements webhookflow.Store, in one transaction under the
// fan-out's lock: the next events after the cursor, a delivery for each
// enabled endpoint that takes it (and was made before it was numbered),
// the cursor moved past them. A first turn starts where the oldest
// endpoint starts, or at the last event numbered.
func (s *Store) FanOut(ctx context.Context, limit int, now time.Time) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(fanOutLockKey)).Scan(&locked); err != nil || !locked {
			return err
		}
		var cur, last int64
		err := tx.QueryRow(ctx, `
			SELECT coalesce((SELECT position FROM event_cursors WHERE consumer = $1),
			                least((SELECT min(start_position) FROM webhook_endpoints),
			                      (SELECT coalesce(max(position), 0) FROM events))),
			       (SELECT coalesce(max(position), 0) FROM events)`, webhookflow.Consumer).Scan(&cur, &last)
		if err != nil || last <= cur {
			return err
		}
		upto := min(cur+int64(limit), last)
		if _, err := tx.Exec(ctx, `
			INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, claim_id, position, next_attempt_at, created_at)
			SELECT w.id, e.id, e.type, e.claim_id, e.position, $3, $3
			  FROM events e
			  JOIN webhook_endpoints w ON w.enabled AND e.position > w.start_position
			                          AND ('*' = ANY(w.event_types) OR e.type = ANY(w.event_types))
			 WHERE e.position > $1 AND e.position <= $2
			 ORDER BY e.position, w.id`, cur, upto, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO event_cursors (consumer, position, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (consumer) DO UPDATE SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at`,
			webhookflow.Consumer, upto, now); err != nil {
			return err
		}
		n = int(upto - cur)
		return nil
	})
	if err != nil {
		return 0, storeError(err, "fan events out to webhook endpoints")
	}
	return n, nil
}

// LeaseDue implements webhookflow.Store: due deliveries of enabled
// endpoints not held by an attempt, a claim's only when no earlier one of
// the claim waits for the same endpoint; locked rows are skipped, so two
// processes lease apart.
func (s *Store) LeaseDue(ctx context.Context, limit int, lease time.Duration, now time.Time) ([]webhookflow.Due, error) {
	rows, err := s.pool.Query(ctx, `
		WITH due AS (
		    SELECT d.id FROM webhook_deliveries d
		      JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.enabled
		     WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1)
		       AND (d.claim_id IS NULL OR NOT EXISTS (
		            SELECT 1 FROM webhook_deliveries p
		             WHERE p.endpoint_id = d.endpoint_id AND p.claim_id = d.claim_id AND p.state = 'pending'
		               AND (p.position, p.id) < (d.position, d.id)))
		     ORDER BY d.next_attempt_at, d.id
		     LIMIT $2
		       FOR UPDATE OF d SKIP LOCKED)
		UPDATE webhook_deliveries d SET attempts = d.attempts + 1, lease_until = $3
		  FROM due WHERE d.id = due.id
		RETURNING d.id, d.attempts, d.endpoint_id, d.event_id`, now, limit, now.Add(lease))
	if err != nil {
		return nil, storeError(err, "lease webhook deliveries")
	}
	type leased struct {
		id       int64
		attempt  int
		endpoint string
		event    string
	}
	ls, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (leased, error) {
		var l leased
		return l, r.Scan(&l.id, &l.attempt, &l.endpoint, &l.event)
	})
	if err != nil {
		return nil, storeError(err, "lease webhook deliveries")
	}
	if len(ls) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(ls))
	for i, l := range ls {
		ids[i] = l.id
	}
	rows, err = s.pool.Query(ctx, `
		SELECT d.id, w.url, w.secret, CASE WHEN w.previous_until > $2 THEN w.previous_secret END,
		       e.id IS NULL, coalesce(e.type, ''), coalesce(e.subject_id, ''), coalesce(e.claim_id, ''),
		       coalesce(e.sequence, 0), coalesce(e.created_at, $2), coalesce(e.position, 0), coalesce(e.data, 'null')
		  FROM webhook_deliveries d
		  JOIN webhook_endpoints w ON w.id = d.endpoint_id
		  LEFT JOIN events e ON e.id = d.event_id
		 WHERE d.id = ANY($1)
		 ORDER BY d.next_attempt_at, d.id`, ids, now)
	if err != nil {
		return nil, storeError(err, "read leased webhook deliveries")
	}
	byID := make(map[int64]leased, len(ls))
	for _, l := range ls {
		byID[l.id] = l
	}
	due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhookflow.Due, error) {
		var d webhookflow.Due
		var secret string
		var prev *string
		var data []byte
		err := r.Scan(&d.DeliveryID, &d.URL, &secret, &prev, &d.Missing, &d.Event.Type, &d.Event.SubjectID,
			&d.Event.ClaimID, &d.Event.Sequence, &d.Event.CreatedAt, &d.Event.Position, &data)
		l := byID[d.DeliveryID]
		d.Attempt, d.EndpointID, d.Event.ID = l.attempt, l.endpoint, l.event
		d.Event.CreatedAt, d.Event.Data = d.Event.CreatedAt.UTC(), data
		d.Secrets = []string{secret}
		if prev != nil {
			d.Secrets = append(d.Secrets, *prev)
		}
		return d, err
	})
	if err != nil {
		return nil, storeError(err, "read leased webhook deliveries")
	}
	return due, nil
}

// RecordResults implements webhookflow.Store, in one transaction: each
// attempt kept; each delivery moved on, unless a later attempt took it up
// meanwhile (its lease ran out); endpoints' failures counted from the
// first failure after a success; an endpoint that answered 410, or has
// failed since before disableAfter ago, disabled.
func (s *Store) RecordResults(ctx context.Context, results []webhookflow.Result, disableAfter time.Duration, now time.Time) ([]webhookflow.Disabled, error) {
	if len(results) == 0 {
		return nil, nil
	}
	n := len(results)
	var (
		ids      = make([]int64, n)
		attempts = make([]int32, n)
		ats      = make([]time.Time, n)
		statuses = make([]*int32, n)
		lat      = make([]int32, n)
		errs     = make([]*string, n)
		answers  = make([]*string, n)
		states   = make([]string, n)
		nexts    = make([]time.Time, n)
	)
	succeeded, failed, gone := map[string]bool{}, map[string]time.Time{}, map[string]bool{}
	for i, r := range results {
		ids[i], attempts[i], ats[i], lat[i], states[i] = r.DeliveryID, int32(r.Attempt), r.At, int32(min(r.Latency.Milliseconds(), 1<<30)), r.State
		if r.Status != 0 {
			st := int32(r.Status)
			statuses[i] = &st
		}
		if r.Error != "" {
			e := r.Error
			errs[i] = &e
		}
		if r.Response != "" {
			a := r.Response
			answers[i] = &a
		}
		nexts[i] = r.NextAttemptAt
		if r.State != webhookflow.StatePending {
			nexts[i] = r.At
		}
		switch {
		case r.Success:
			succeeded[r.EndpointID] = true
		case r.Gone:
			gone[r.EndpointID] = true
		}
		if !r.Success {
			if t, ok := failed[r.EndpointID]; !ok || r.At.Before(t) {
				failed[r.EndpointID] = r.At
			}
		}
	}
	var okIDs, goneIDs, failIDs []string
	var failAts []time.Time
	for id := range succeeded {
		okIDs = append(okIDs, id)
	}
	for id := range gone {
		goneIDs = append(goneIDs, id)
	}
	for id, at := range failed {
		if !succeeded[id] {
			failIDs, failAts = append(failIDs, id), append(failAts, at)
		}
	}
	var disabled []webhookflow.Disabled
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO webhook_attempts (delivery_id, n, at, status, latency_ms, error, response)
			SELECT u.* FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::text[])
			            AS u(id, n, at, status, latency, error, response)
			 -- an endpoint deleted meanwhile took its deliveries with it
			 WHERE EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = u.id)
			ON CONFLICT DO NOTHING`, ids, attempts, ats, statuses, lat, errs, answers); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			WITH r AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::timestamptz[], $5::int[], $6::text[], $7::int[])
			                AS r(id, attempt, state, next, status, error, latency)),
			     moved AS (
			         UPDATE webhook_deliveries d
			            SET state = r.state, next_attempt_at = r.next, lease_until = NULL,
			                last_status = r.status, last_error = r.error, last_latency_ms = r.latency,
			                finished_at = CASE WHEN r.state = 'pending' THEN NULL ELSE $8::timestamptz END
			           FROM r WHERE d.id = r.id AND d.attempts = r.attempt AND d.state = 'pending'
			         RETURNING d.endpoint_id, d.state)
			UPDATE webhook_endpoints w
			   SET delivered_count = delivered_count + c.delivered, failed_count = failed_count + c.failed
			  FROM (SELECT endpoint_id, count(*) FILTER (WHERE state = 'delivered') AS delivered,
			               count(*) FILTER (WHERE state = 'failed') AS failed
			          FROM moved GROUP BY endpoint_id) c
			 WHERE w.id = c.endpoint_id AND (c.delivered > 0 OR c.failed > 0)`,
			ids, attempts, states, nexts, statuses, errs, lat, now); err != nil {
			return err
		}
		if len(okIDs) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET failing_since = NULL
			                            WHERE id = ANY($1) AND failing_since IS NOT NULL`, okIDs); err != nil {
				return err
			}
		}
		if len(failIDs) > 0 {
			if _, err := tx.Exec(ctx, `
				UPDATE webhook_endpoints w SET failing_since = f.at
				  FROM unnest($1::text[], $2::timestamptz[]) AS f(id, at)
				 WHERE w.id = f.id AND w.failing_since IS NULL`, failIDs, failAts); err != nil {
				return err
			}
		}
		if len(goneIDs) == 0 && len(failIDs) == 0 {
			return nil
		}
		rows, err := tx.Query(ctx, `
			UPDATE webhook_endpoints
			   SET enabled = false, disabled_at = $3, updated_at = $3,
			       disabled_reason = CASE WHEN id = ANY($1) THEN 'gone' ELSE 'failing' END
			 WHERE enabled AND (id = ANY($1) OR (id = ANY($2) AND failing_since <= $4))
			RETURNING id, url, disabled_reason, failing_since`, goneIDs, failIDs, now, now.Add(-disableAfter))
		if err != nil {
			return err
		}
		disabled, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhookflow.Disabled, error) {
			var d webhookflow.Disabled
			return d, r.Scan(&d.ID, &d.URL, &d.Reason, &d.FailingSince)
		})
		return err
	})
	if err != nil {
		return nil, storeError(err, "record webhook attempts")
	}
	return disabled, nil
}

// WebhookStatus implements webhookflow.Store.
func (s *Store) WebhookStatus(ctx context.Context, now time.Time) (webhookflow.Status, error) {
	var st webhookflow.Status
	err := s.pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM webhook_endpoints),
		       (SELECT count(*) FROM webhook_endpoints WHERE NOT enabled),
		       (SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'),
		       (SELECT coalesce(sum(failed_count), 0) FROM webhook_endpoints),
		       (SELECT min(d.next_attempt_at) FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.enabled
		         WHERE d.state = 'pending' AND d.next_attempt_at <= $1)`, now).
		Scan(&st.Endpoints, &st.Disabled, &st.Pending, &st.Failed, &st.OldestDue)
	if err != nil {
		return st, storeError(err, "webhook status")
	}
	if st.OldestDue != nil {
		t := st.OldestDue.UTC()
		st.OldestDue = &t
	}
	return st, nil
}

// PruneDeliveries implements webhookflow.Store.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `
		DELETE FROM webhook_deliveries WHERE id IN (
		    SELECT id FROM webhook_deliveries WHERE state <> 'pending' AND finished_at < $1 LIMIT $2)`, before, limit)
	if err != nil {
		return 0, storeError(err, "prune webhook deliveries")
	}
	return int(tag.RowsAffected()), nil
}
