package pgstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/eventflow"
)

// relayUntil runs the relay until the events of ids are all numbered.
func relayUntil(t *testing.T, relay *eventflow.Relay, ids ...string) map[string]int64 {
	t.Helper()
	return relayUntilOn(t, store, relay, ids...)
}

// relayUntilOn is relayUntil on st: any transaction open on the server,
// another package's test's too, holds numbering back until it ends.
func relayUntilOn(t *testing.T, st *pgstore.Store, relay *eventflow.Relay, ids ...string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	for {
		_, err := relay.RunOnce(ctx)
		require.NoError(t, err)
		pos := map[string]int64{}
		rows, err := st.DB().QueryContext(ctx, `SELECT id, position FROM events WHERE id = ANY($1) AND position IS NOT NULL`, ids)
		require.NoError(t, err)
		for rows.Next() {
			var id string
			var p int64
			require.NoError(t, rows.Scan(&id, &p))
			pos[id] = p
		}
		require.NoError(t, rows.Err())
		if len(pos) == len(ids) {
			return pos
		}
		time.Sleep(10 * time.Millisecond) // another test's transaction is still open
	}
}

// TestEventsOfAClaimsJourney: every step of a counterfeit claim (filed,
// decided, refunded, charged, final) is an event, numbered in the claim's
// order, carrying the claim as the API shows it to the platform.
func TestEventsOfAClaimsJourney(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := claimflow.NewService(store, policyfile.Default(), func() time.Time { return now })
	relay := eventflow.NewRelay(store, httpapi.ClaimDocuments{Service: svc}, time.Now)
	sel := intelSeller(t, svc, nil)
	id := counterfeitClaim(t, svc, sel, []order.Item{{SKU: "a", Name: "A", Quantity: 1, UnitAmount: 1500}}, nil, nil, true)

	var ids []string
	rows, err := store.DB().QueryContext(ctx, `SELECT id FROM events WHERE claim_id = $1 ORDER BY sequence, id`, id)
	require.NoError(t, err)
	for rows.Next() {
		var e string
		require.NoError(t, rows.Scan(&e))
		ids = append(ids, e)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, ids)
	relayUntil(t, relay, ids...)

	// Read back as a consumer does, from just before the first.
	var first int64
	require.NoError(t, store.DB().QueryRowContext(ctx, `SELECT min(position) FROM events WHERE claim_id = $1`, id).Scan(&first))
	var mine []eventflow.Event
	for at := first - 1; len(mine) < len(ids); {
		evs, err := store.EventsAfter(ctx, at, nil, 100)
		require.NoError(t, err)
		require.NotEmpty(t, evs, "events after %d", at)
		for _, e := range evs {
			require.Greater(t, e.Position, at, "in order, each once")
			at = e.Position
			if e.ClaimID == id {
				mine = append(mine, e)
			}
		}
	}
	var types []string
	for i, e := range mine {
		types = append(types, e.Type)
		require.Equal(t, i+1, e.Sequence, "the claim's events in its order")
		var doc map[string]any
		require.NoError(t, json.Unmarshal(e.Data, &doc))
		require.Equal(t, id, doc["id"])
		require.NotContains(t, doc["decision"], "facts", "the platform does not read the decision's facts")
	}
	require.Equal(t, []string{eventflow.ClaimSubmitted, eventflow.ClaimDecided, eventflow.ClaimRefunded,
		eventflow.ClaimSellerCharged, eventflow.ClaimClosed, eventflow.ChargebackSettled}, types)

	// Only some types.
	evs, err := store.EventsAfter(ctx, first-1, []string{eventflow.ChargebackSettled}, 1000)
	require.NoError(t, err)
	found := false
	for _, e := range evs {
		require.Equal(t, eventflow.ChargebackSettled, e.Type)
		found = found || e.ClaimID == id
	}
	require.True(t, found)
}

// TestRelayNeverSkipsALateCommit: an event written by a transaction that
// commits after a later one is numbered all the same, and numbers have no
// gaps.
func TestRelayNeverSkipsALateCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := claimflow.NewService(store, policyfile.Default(), func() time.Time { return now })
	relay := eventflow.NewRelay(store, httpapi.ClaimDocuments{Service: svc}, time.Now)
	late, early := uniq("evt_late"), uniq("evt_early")
	slow, err := store.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = slow.ExecContext(ctx, `INSERT INTO events (id, type, subject_id, created_at, data) VALUES ($1, 'test.late', $1, now(), '{}')`, late)
	require.NoError(t, err)
	_, err = store.DB().ExecContext(ctx, `INSERT INTO events (id, type, subject_id, created_at, data) VALUES ($1, 'test.early', $1, now(), '{}')`, early)
	require.NoError(t, err)

	_, err = relay.RunOnce(ctx)
	require.NoError(t, err)
	var numbered int
	require.NoError(t, store.DB().QueryRowContext(ctx, `SELECT count(*) FROM events WHERE id = $1 AND position IS NOT NULL`, early).Scan(&numbered))
	require.Zero(t, numbered, "not numbered while an older transaction may still commit behind it")

	require.NoError(t, slow.Commit())
	pos := relayUntil(t, relay, late, early)
	require.NotEqual(t, pos[late], pos[early])

	var maxPos, count int64
	require.NoError(t, store.DB().QueryRowContext(ctx, `SELECT coalesce(max(position), 0), count(position) FROM events`).Scan(&maxPos, &count))
	require.Equal(t, count, maxPos, "positions run from 1 without gaps")

	// A consumer's cursor only moves forward.
	consumer := uniq("test_consumer")
	require.NoError(t, store.SetCursor(ctx, consumer, pos[early], time.Now()))
	require.NoError(t, store.SetCursor(ctx, consumer, pos[early]-1, time.Now()))
	at, err := store.Cursor(ctx, consumer)
	require.NoError(t, err)
	require.Equal(t, pos[early], at)
}

// TestPruneEvents: only numbered events past their retention that every
// consumer took are deleted, never the newest, and numbering goes on after
// a prune.
func TestPruneEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "events_prune")
	svc := claimflow.NewService(st, policyfile.Default(), func() time.Time { return now })
	relay := eventflow.NewRelay(st, httpapi.ClaimDocuments{Service: svc}, time.Now)
	old := now.Add(-40 * 24 * time.Hour)
	for i := range 6 {
		_, err := st.DB().ExecContext(ctx, `INSERT INTO events (id, type, subject_id, created_at, data) VALUES ($1, 'test.old', $1, $2, '{}')`,
			fmt.Sprintf("evt_old_%d", i), old.Add(time.Duration(i)*time.Minute))
		require.NoError(t, err)
	}
	_, err := st.DB().ExecContext(ctx, `INSERT INTO events (id, type, subject_id, created_at, data) VALUES ('evt_new', 'test.new', 'x', $1, '{}')`, now)
	require.NoError(t, err)
	_, err = st.DB().ExecContext(ctx, `INSERT INTO events (id, type, subject_id, created_at, data) VALUES ('evt_unnumbered', 'test.old', 'x', $1, '{}')`, old)
	require.NoError(t, err)
	relayUntilOn(t, st, relay, "evt_old_0", "evt_old_1", "evt_old_2", "evt_old_3", "evt_old_4", "evt_old_5", "evt_new", "evt_unnumbered")
	// The one not numbered yet: written after the relay's turn.
	_, err = st.DB().ExecContext(ctx, `UPDATE events SET position = NULL WHERE id = 'evt_unnumbered'`)
	require.NoError(t, err)

	// The stream took the first three only.
	var third int64
	require.NoError(t, st.DB().QueryRowContext(ctx, `SELECT position FROM events WHERE id = 'evt_old_2'`).Scan(&third))
	require.NoError(t, st.SetCursor(ctx, "stream", third, now))
	pruned, err := eventflow.Prune(ctx, st, 30*24*time.Hour, now)
	require.NoError(t, err)
	require.Equal(t, 3, pruned, "old and taken by every consumer")
	left := queryIDs(t, st, `SELECT id FROM events ORDER BY id`)
	require.Equal(t, []string{"evt_new", "evt_old_3", "evt_old_4", "evt_old_5", "evt_unnumbered"}, left)

	// Everything taken: the old ones go, the newest stays, and the next
	// event is numbered after it.
	var newest int64
	require.NoError(t, st.DB().QueryRowContext(ctx, `SELECT max(position) FROM events`).Scan(&newest))
	require.NoError(t, st.SetCursor(ctx, "stream", newest, now))
	_, err = eventflow.Prune(ctx, st, 30*24*time.Hour, now)
	require.NoError(t, err)
	require.Equal(t, []string{"evt_new", "evt_unnumbered"}, queryIDs(t, st, `SELECT id FROM events ORDER BY id`))
	pos := relayUntilOn(t, st, relay, "evt_unnumbered")
	require.Equal(t, newest+1, pos["evt_unnumbered"])
}

func queryIDs(t *testing.T, st *pgstore.Store, q string) []string {
	t.Helper()
	rows, err := st.DB().QueryContext(context.Background(), q)
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestEventsOfARefundFailedAfterTheCharge: a refund that fails after the
// seller was charged voids the charge, and the timeline's one entry
// becomes two outbound events: the failure and the charge's settlement.
func TestEventsOfARefundFailedAfterTheCharge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := claimflow.NewService(store, policyfile.Default(), func() time.Time { return now })
	sel := intelSeller(t, svc, nil)
	id := counterfeitClaim(t, svc, sel, []order.Item{{SKU: "a", Name: "A", Quantity: 1, UnitAmount: 1500}}, nil, nil, true)
	rec, err := store.GetClaim(ctx, id)
	require.NoError(t, err)
	require.Equal(t, claim.StatusClosed, rec.Claim.Status())

	settler := &claimflow.Settler{Store: store, Policy: policyfile.Default(), Now: func() time.Time { return now.Add(time.Hour) }}
	require.NoError(t, settler.Settle(ctx, claimflow.RefundUpdate{Provider: rec.Claim.Refund().Provider,
		RefundID: rec.Claim.Refund().ID, ClaimID: id, Status: "failed", FailureReason: "lost_or_stolen_card"}))

	rows, err := store.DB().QueryContext(ctx, `SELECT e.id, e.type FROM events e
		JOIN claim_events t ON t.claim_id = e.claim_id AND t.seq = e.sequence
		WHERE e.claim_id = $1 AND t.type = 'refund_failed' ORDER BY e.id`, id)
	require.NoError(t, err)
	defer func() { require.NoError(t, rows.Close()) }()
	var got []string
	for rows.Next() {
		var eid, typ string
		require.NoError(t, rows.Scan(&eid, &typ))
		got = append(got, strings.TrimPrefix(eid, "evt_"+id+"_")+" "+typ)
	}
	require.NoError(t, rows.Err())
	require.Len(t, got, 2, "%v", got)
	require.Regexp(t, `^\d+ claim\.refund_failed$`, got[0])
	require.Regexp(t, `^\d+_chargeback chargeback\.settled$`, got[1])
}
