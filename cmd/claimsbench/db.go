package main

import (
	"cmp"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// dbCounters are the engine database's cumulative commits, the WAL's
// position and, where pg_stat_statements is at hand, the calls of each
// statement run there.
type dbCounters struct {
	commits int64
	// walLSN is the position up to which the WAL has reached the disk,
	// as PostgreSQL writes it: pg_walinspect reads no further.
	walLSN string
	// statements are pg_stat_statements' top-level entries of the
	// database; nil without it.
	statements map[statementKey]statementCalls
}

// statementKey tells pg_stat_statements' entries of one database apart.
type statementKey struct {
	user uint32
	id   int64
}

// statementCalls is one entry of pg_stat_statements.
type statementCalls struct {
	query string
	calls int64
}

// The two forms of readCounters' one statement. Neither holds a
// constant, so pg_stat_statements keeps their text as written. It counts
// as top-level the statements a deferred trigger runs at COMMIT (the
// ledger's balance check), so those count as the engine's.
const (
	countersSQL = `SELECT xact_commit, pg_current_wal_flush_lsn()::text
		FROM pg_stat_database WHERE datname = current_database()`
	countersWithStatementsSQL = `SELECT d.xact_commit, pg_current_wal_flush_lsn()::text, s.userid, s.queryid, s.calls, s.query
		FROM pg_stat_database d LEFT JOIN pg_stat_statements s ON s.dbid = d.datid AND s.toplevel
		WHERE d.datname = current_database()`
)

// readCounters reads the engine database's commits (pg_stat_database),
// the WAL's position and, with statements, pg_stat_statements' entries of
// the database, on a connection of its own in one statement without a
// prepared statement, so that what the first of two readings adds to
// what the second sees is known (readStatements, readCommits).
// Statistics reach pg_stat_database within a second of a transaction's
// end, so callers wait that long after the load. Without
// pg_stat_statements in the database (or its library not loaded),
// reading statements fails.
func readCounters(ctx context.Context, url string, statements bool) (dbCounters, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return dbCounters{}, err
	}
	defer func() { _ = conn.Close(ctx) }()
	var c dbCounters
	if !statements {
		err = conn.QueryRow(ctx, countersSQL, pgx.QueryExecModeSimpleProtocol).Scan(&c.commits, &c.walLSN)
		return c, err
	}
	rows, err := conn.Query(ctx, countersWithStatementsSQL, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return dbCounters{}, err
	}
	c.statements = map[statementKey]statementCalls{}
	for rows.Next() {
		var (
			user    *uint32
			queryID *int64
			calls   *int64
			query   *string
		)
		if err := rows.Scan(&c.commits, &c.walLSN, &user, &queryID, &calls, &query); err != nil {
			rows.Close()
			return dbCounters{}, err
		}
		// A row of NULLs is the database without statements yet; a NULL
		// query id is another user's statement, hidden from ours.
		if user == nil || calls == nil {
			continue
		}
		k := statementKey{user: *user}
		if queryID != nil {
			k.id = *queryID
		}
		e := c.statements[k]
		e.calls += *calls
		if query != nil && e.query == "" {
			e.query = *query
		}
		c.statements[k] = e
	}
	rows.Close()
	return c, rows.Err()
}

// What the first of two readCounters adds to what the second reads: its
// statement, counted once it has ended, and two commits, that statement's
// and the second reading's connection start, which reads the catalogue
// in a transaction of its own.
const (
	readStatements = 1
	readCommits    = 2
)

// ownWork is what claimsbench ran on the engine's database between two
// readCounters besides the readings: connections opened, each of which
// commits a transaction as it starts, and statements, each outside a
// transaction and so a commit too.
type ownWork struct {
	connections, statements int
}

// dbCost is what the engine's database did between two readings, less
// what claimsbench itself ran there.
type dbCost struct {
	commits  int64
	walBytes int64
	// With pg_stat_statements on both readings: the statements other
	// than BEGIN, COMMIT and ROLLBACK, the COMMITs among them, and each
	// statement's calls, most first.
	statements, transactions int64
	byStatement              []statementCost
	hasStatements            bool
}

// statementCost is one statement's calls between two readings.
type statementCost struct {
	query string
	calls int64
}

// costBetween compares two readings taken around the closed loop, less
// claimsbench's own work there. pg_stat_database counts a read-only
// statement outside a transaction as a commit just as it counts one that
// wrote, and a connection's start as one more, so the watcher's polls and
// the readings would otherwise pass for the engine's commits; its
// statements would pass for the engine's in pg_stat_statements.
func costBetween(before, after dbCounters, own ownWork) (dbCost, error) {
	from, err := parseLSN(before.walLSN)
	if err != nil {
		return dbCost{}, err
	}
	to, err := parseLSN(after.walLSN)
	if err != nil {
		return dbCost{}, err
	}
	ownCommits := int64(own.connections+own.statements) + readCommits
	c := dbCost{commits: after.commits - before.commits - ownCommits, walBytes: to - from}
	if before.statements == nil || after.statements == nil {
		return c, nil
	}
	c.hasStatements = true
	ownCalls := map[string]int64{normaliseSQL(watchSQL): int64(own.statements), normaliseSQL(countersWithStatementsSQL): readStatements}
	var all, control int64
	for _, st := range callsBetween(before.statements, after.statements) {
		all += st.calls
		switch transactionControl(st.query) {
		case "commit":
			c.transactions += st.calls
			control += st.calls
		case "begin", "rollback":
			control += st.calls
		}
		// The top list leaves claimsbench's statements out by their text;
		// the totals by their number, which holds even if the engine ran
		// the same statement.
		st.calls -= ownCalls[normaliseSQL(st.query)]
		if st.calls > 0 {
			c.byStatement = append(c.byStatement, st)
		}
	}
	c.statements = all - control - int64(own.statements) - readStatements
	slices.SortFunc(c.byStatement, func(a, b statementCost) int {
		return cmp.Or(cmp.Compare(b.calls, a.calls), strings.Compare(a.query, b.query))
	})
	return c, nil
}

// callsBetween returns the calls of each statement between two readings
// of pg_stat_statements. An entry evicted and made anew in between counts
// its new calls only, and one evicted for good is lost: figures of a
// database with more statements than pg_stat_statements.max fall short.
func callsBetween(before, after map[statementKey]statementCalls) []statementCost {
	var out []statementCost
	for k, a := range after {
		calls := a.calls - before[k].calls
		if calls < 0 {
			calls = a.calls
		}
		if calls > 0 {
			out = append(out, statementCost{query: a.query, calls: calls})
		}
	}
	return out
}

// transactionControl tells a statement that begins ("begin"), commits
// ("commit") or rolls back ("rollback") a transaction from the others
// (""), as drivers send them: pg_stat_statements keeps each spelling
// apart. Savepoints are statements like any other.
func transactionControl(query string) string {
	f := strings.Fields(strings.ToLower(strings.TrimRight(strings.TrimSpace(query), ";")))
	if len(f) == 0 {
		return ""
	}
	switch {
	case f[0] == "begin" || f[0] == "start" && len(f) > 1 && f[1] == "transaction":
		return "begin"
	case (f[0] == "commit" || f[0] == "end") && (len(f) == 1 || f[1] == "work" || f[1] == "transaction" || f[1] == "and"):
		return "commit"
	case (f[0] == "rollback" || f[0] == "abort") && (len(f) == 1 || f[1] == "work" || f[1] == "transaction" || f[1] == "and"):
		return "rollback"
	}
	return ""
}

// normaliseSQL collapses a statement's white space, to compare texts.
func normaliseSQL(query string) string {
	return strings.Join(strings.Fields(query), " ")
}

// parseLSN reads a WAL position as PostgreSQL writes it (hex, "16/B374D848")
// as a byte offset.
func parseLSN(lsn string) (int64, error) {
	hi, lo, ok := strings.Cut(lsn, "/")
	if !ok {
		return 0, fmt.Errorf("WAL position %q: no slash", lsn)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("WAL position %q: %w", lsn, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("WAL position %q: %w", lsn, err)
	}
	return int64(h<<32 | l), nil
}

// walCommits counts the COMMIT records in the WAL from one position to
// another, with pg_walinspect (PostgreSQL 15 or later, in the database
// url names). A transaction writes one when it has written something (or
// must tell other sessions to forget cached catalogue entries), and its
// commit then waits for the WAL to reach the disk; a read-only one writes
// none. The Transaction resource manager also logs aborts, prepared
// transactions, subtransaction assignments and invalidations, hence the
// count per record type. The WAL is the whole cluster's: other
// databases' commits in that span count too.
func walCommits(ctx context.Context, url, from, to string) (int64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer func() { _ = conn.Close(ctx) }()
	var n int64
	err = conn.QueryRow(ctx, `SELECT coalesce(sum(count), 0)::bigint FROM pg_get_wal_stats($1::pg_lsn, $2::pg_lsn, true)
		WHERE "resource_manager/record_type" = 'Transaction/COMMIT'`, from, to).Scan(&n)
	return n, err
}

// addStatsExtensions adds pg_stat_statements and pg_walinspect to a
// database claimsbench made for the engine. Both need a superuser; where
// that fails, reading them later fails too and says why, and the figures
// they give are left out.
func addStatsExtensions(ctx context.Context, url string) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return
	}
	defer func() { _ = conn.Close(ctx) }()
	for _, ext := range []string{"pg_stat_statements", "pg_walinspect"} {
		_, _ = conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS "+ext)
	}
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
// rows of plain SQL, so the engine's indexes hold a large history. It
// loads them as a restore would, with triggers off: outbound events
// delivered long ago do not belong in the relay's queue, nor claims long
// settled in the standing job's notes (with triggers on, the runs that
// follow measured the engine numbering two million old events).
func preload(ctx context.Context, url, sellerPrefix string, n int, logf func(string, ...any)) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		return fmt.Errorf("preloading the history needs a superuser (triggers off, as a restore): %w", err)
	}
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
