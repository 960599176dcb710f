package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// dbCounters are the database's cumulative commits and WAL position.
type dbCounters struct {
	commits int64
	walLSN  int64
}

// readCounters reads the engine database's commits (pg_stat_database) and
// the WAL's position. Statistics reach pg_stat_database within a second
// of a transaction's end, so callers wait that long after the load.
func readCounters(ctx context.Context, url string) (dbCounters, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return dbCounters{}, err
	}
	defer func() { _ = conn.Close(ctx) }()
	var c dbCounters
	err = conn.QueryRow(ctx, `SELECT xact_commit, pg_current_wal_lsn() - '0/0'::pg_lsn
		FROM pg_stat_database WHERE datname = current_database()`).Scan(&c.commits, &c.walLSN)
	return c, err
}

// relayLag waits until the relay has numbered every outbound event of the
// claims ids, then returns how many there are and the 50th and 99th
// percentiles of the wait between an event's writing and its numbering.
func relayLag(ctx context.Context, url string, ids []string) (events int, p50ms, p99ms float64, err error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, 0, 0, err
	}
	defer func() { _ = conn.Close(ctx) }()
	for {
		var waiting int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM events WHERE claim_id = ANY($1) AND position IS NULL`, ids).Scan(&waiting); err != nil {
			return 0, 0, 0, err
		}
		if waiting == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return 0, 0, 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	err = conn.QueryRow(ctx, `
		SELECT count(*),
		       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM published_at - created_at)), 0) * 1000,
		       coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM published_at - created_at)), 0) * 1000
		  FROM events WHERE claim_id = ANY($1)`, ids).Scan(&events, &p50ms, &p99ms)
	return events, p50ms, p99ms, err
}

// preload inserts n historical claims, closed long ago, each on an order
// of its own with its two first timeline events, in batches of 100,000
// rows of plain SQL, so the engine's indexes hold a large history.
func preload(ctx context.Context, url, sellerPrefix string, n int, logf func(string, ...any)) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	const batch = 100_000
	start := time.Now()
	for from := 0; from < n; from += batch {
		to := min(from+batch, n)
		_, err := conn.Exec(ctx, `
			WITH o AS (
			    INSERT INTO orders (id, buyer_id, seller_id, currency, amount, items, payment_provider, payment_reference,
			                        paid_at, delivered_at, created_at, updated_at)
			    SELECT 'hist_ord_' || g, 'hist_shp_' || (g % 200000), $3 || '_sel_' || (g % 100), 'EUR', 1000 + g % 4000,
			           jsonb_build_array(jsonb_build_object('sku', 'sku_h', 'name', 'Item', 'quantity', 1, 'unit_amount', 1000 + g % 4000)),
			           'sandbox', 'pay_hist_' || g,
			           now() - interval '800 days' + (g % 600) * interval '1 day',
			           now() - interval '795 days' + (g % 600) * interval '1 day',
			           now() - interval '800 days', now() - interval '800 days'
			      FROM generate_series($1::int, $2::int - 1) g
			    RETURNING id, buyer_id, seller_id, amount, items, delivered_at),
			c AS (
			    INSERT INTO claims (id, order_id, shopper_id, seller_id, reason, status, amount, currency, items, description, evidence,
			                        decision_outcome, decision_reasons, decision_policy_version, decision_tier, decision_facts, decided_at,
			                        version, created_at, updated_at, refund_id, refund_provider, refunded_at)
			    SELECT 'clm_hist_' || substr(o.id, 10), o.id, o.buyer_id, o.seller_id, 'damaged', 'closed', o.amount, 'EUR',
			           '[{"sku":"sku_h","quantity":1}]', 'Arrived broken.', '[]',
			           'instant_refund', '[]', 'history', 'new', '{}', o.delivered_at + interval '2 days',
			           6, o.delivered_at + interval '2 days', o.delivered_at + interval '2 days',
			           're_hist_' || o.id, 'sandbox', o.delivered_at + interval '2 days'
			      FROM o
			    RETURNING id, created_at)
			INSERT INTO claim_events (claim_id, seq, type, from_status, to_status, actor_kind, actor_id, created_at)
			SELECT c.id, s.seq, s.type, s.from_status, s.to_status, s.actor_kind, s.actor_id, c.created_at
			  FROM c, (VALUES (1, 'submitted', NULL, 'submitted', 'shopper', 'history'),
			                  (2, 'decided', 'submitted', 'approved', 'system', 'claimsd')) s(seq, type, from_status, to_status, actor_kind, actor_id)`,
			from, to, sellerPrefix)
		if err != nil {
			return fmt.Errorf("preload claims %d–%d: %w", from, to, err)
		}
		logf("preloaded %d of %d historical claims (%s)", to, n, time.Since(start).Round(time.Second))
	}
	// Settle what the bulk load left behind (autovacuum's first pass over
	// a million new rows, dirty pages awaiting a checkpoint), so the runs
	// that follow measure the engine with a history, not the load's
	// aftermath.
	logf("vacuuming and checkpointing after the preload")
	if _, err := conn.Exec(ctx, `VACUUM (ANALYZE) orders, claims, claim_events`); err != nil {
		return fmt.Errorf("vacuum after preload: %w", err)
	}
	if _, err := conn.Exec(ctx, `CHECKPOINT`); err != nil {
		logf("no checkpoint after the preload (%v); the first runs may pay for it", err)
	}
	return nil
}

// runFloor runs the SQL floor's pgbench script against the engine's
// database server and returns its claims per second.
func runFloor(ctx context.Context, dir, url string, secs int, logf func(string, ...any)) (float64, error) {
	script := filepath.Join(dir, "run_floor.sh")
	logf("running the SQL floor for %ds", secs)
	out, err := exec.CommandContext(ctx, "bash", script, url, strconv.Itoa(secs), "8").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("SQL floor (%s): %v\n%s", script, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "floor_claims_per_s "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("SQL floor printed no floor_claims_per_s:\n%s", out)
}
