package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/queue"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParse(t *testing.T) {
	t.Parallel()
	o, _, err := parse([]string{"-rates", "50, 200", "-duration", "3s", "-concurrency", "8"}, &bytes.Buffer{},
		env(map[string]string{"DATABASE_URL": "postgres://x/y"}))
	require.NoError(t, err)
	require.Equal(t, []int{50, 200}, o.rates)
	require.Equal(t, 3*time.Second, o.duration)
	require.Equal(t, "postgres://x/y", o.db, "-db defaults to DATABASE_URL")
	require.False(t, o.webhook, "no webhooks unless asked")
	require.Empty(t, o.nats, "no NATS unless asked")
	o, _, err = parse([]string{"-db", "postgres://x/y", "-webhook", "-nats", "nats://127.0.0.1:4222"}, &bytes.Buffer{}, env(nil))
	require.NoError(t, err)
	require.True(t, o.webhook)
	require.Equal(t, "nats://127.0.0.1:4222", o.nats)
	o, _, err = parse([]string{"-db", "postgres://x/y", "-backtest", "2000"}, &bytes.Buffer{}, env(nil))
	require.NoError(t, err)
	require.Equal(t, 2000, o.backtest)

	for _, give := range [][]string{
		{"-rates", "fast"},
		{"-rates", "0"},
		{"-duration", "10ms"},
		{"-concurrency", "-1"},
		{"-floor"},
		{"-preload", "10"},
		{"-webhook"},
		{"-nats", "nats://127.0.0.1:4222"},
		{"-db", "postgres://x/y", "-nats", "127.0.0.1:4222"},
		{"-backtest", "1000"},
		{"-backtest", "-1", "-db", "postgres://x/y"},
		{"-backtest", "1000", "-db", "postgres://x/y", "-preload", "10"},
		{"-backtest", "1000", "-db", "postgres://x/y", "-floor"},
		{"surplus"},
	} {
		_, _, err := parse(give, &bytes.Buffer{}, env(nil))
		require.Error(t, err, "%v", give)
	}
}

func TestSampleProcReadsThisProcess(t *testing.T) {
	t.Parallel()
	s, err := sampleProc(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, s.rssBytes)
	require.GreaterOrEqual(t, s.cpu, time.Duration(0))
}

func TestSummaryPicksTheHeadlineRate(t *testing.T) {
	t.Parallel()
	r := &result{Preloaded: 1000, Open: []openStep{
		{Rate: 50, P99ms: 1, Errors: 1},
		{Rate: 200, P50ms: 2, P99ms: 4},
		{Rate: 400, P99ms: 9},
		{Rate: 200, P99ms: 5, Preloaded: true, Errors: 2},
	}}
	r.summarise()
	require.Equal(t, 2.0, r.DecisionP50ms)
	require.Equal(t, 4.0, r.DecisionP99ms)
	require.Equal(t, 5.0, r.DecisionP99msPreloaded)
	require.Equal(t, 1.25, r.PreloadedP99Ratio)
	require.Equal(t, 3, r.Errors)

	var out bytes.Buffer
	require.NoError(t, r.writeJSON(&out))
	var m map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &m))
	for _, k := range []string{"decision_p50_ms", "decision_p99_ms", "e2e_claims_per_s", "e2e_p99_ms", "engine_rss_mb",
		"commits_per_claim", "wal_bytes_per_claim", "errors"} {
		require.Contains(t, m, k)
	}
	require.ErrorContains(t, r.check(), "3 requests failed")
	require.ErrorContains(t, (&result{Concurrency: 4, ClosedLoopClaims: 9}).check(), "closed none")
	require.NoError(t, (&result{Concurrency: 4, ClosedLoopClaims: 9, ClosedLoopClosed: 9}).check())
	out.Reset()
	r.writeTable(&out)
	require.True(t, strings.Contains(out.String(), "+1000"), out.String())
}

func TestBacktestReport(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	points := []rssPoint{{at, 40 << 20}, {at.Add(3 * time.Second), 50 << 20}, {at.Add(7 * time.Second), 45 << 20}}
	require.Equal(t, []float64{40, 40, 40, 50, 50, 50, 50, 45, 45, 45, 45}, tenths(points, at, at.Add(10*time.Second)))
	require.Nil(t, tenths(nil, at, at.Add(time.Second)))

	r := &result{Backtest: &backtestResult{
		Self:      backtestRun{Claims: 1000, Changed: 0, Status: "completed"},
		Candidate: backtestRun{Claims: 1000, Changed: 120, Status: "completed"},
		Intake: []intakeStep{{Rate: 100, Without: openStep{P50ms: 7, P99ms: 30}, During: openStep{P50ms: 9, P99ms: 41, Errors: 1},
			Covered: true}},
		SelfChangedNone: true,
	}}
	r.summarise()
	require.Equal(t, 1, r.Errors, "errors during a backtest count")
	require.Equal(t, 30.0, r.DecisionP99ms, "the headline is the open loop without a backtest")
	require.ErrorContains(t, r.check(), "1 requests failed")
	r.Errors = 0
	require.NoError(t, r.check())
	var out bytes.Buffer
	r.writeTable(&out)
	require.Contains(t, out.String(), "running (covered: true)")
	require.Contains(t, out.String(), "self-backtest changed none: true")

	r.Backtest.SelfChangedNone, r.Backtest.Self.Changed = false, 3
	require.ErrorContains(t, r.check(), "changed 3 of 1000 claims")
}

func TestReceiverCountsDeliveriesByWebhookID(t *testing.T) {
	t.Parallel()
	r, err := startReceiver()
	require.NoError(t, err)
	defer r.close()
	created := time.Now().Add(-30 * time.Millisecond).UTC()
	post := func(id string) {
		body := fmt.Sprintf(`{"id":%q,"type":"claim.submitted","created_at":%q,"position":1}`, id, created.Format(time.RFC3339Nano))
		req, err := http.NewRequest(http.MethodPost, r.url, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("webhook-id", id)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
	}
	post("evt_a")
	post("evt_b")
	post("evt_a")
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Equal(t, 3, r.deliveries)
	require.Equal(t, 1, r.duplicates)
	require.Len(t, r.seen, 2)
	a := r.seen["evt_a"]
	require.True(t, a.created.Equal(created), "created_at is read from the body")
	require.GreaterOrEqual(t, a.at.Sub(a.created), 30*time.Millisecond)

	p50, p99, most := lagQuantiles([]time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond})
	require.InDelta(t, 20, p50, 0.1)
	require.InDelta(t, 30, p99, 0.1)
	require.InDelta(t, 30, most, 0.1)
}

func TestReportShowsOutboundOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := &result{}
	require.NoError(t, r.writeJSON(&out))
	require.NotContains(t, out.String(), "webhooks")
	require.NotContains(t, out.String(), "nats")

	r = &result{Webhooks: &webhookResult{Deliveries: 12, Duplicates: 1, Events: 11, Delivered: 11, AllDelivered: true, LagP50ms: 40, LagP99ms: 90},
		NATS: &natsResult{Stream: "CLAIMSD_EVENTS", Published: 11, Events: 11, Messages: 11, AllPublished: true}}
	out.Reset()
	require.NoError(t, r.writeJSON(&out))
	var m map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &m))
	require.Contains(t, m, "webhooks")
	require.Contains(t, m, "nats")
	require.Contains(t, out.String(), `"lag_p99_ms": 90`)
	require.Contains(t, out.String(), `"all_published": true`)
	out.Reset()
	r.writeTable(&out)
	require.Contains(t, out.String(), "12 deliveries, 1 duplicates; 11 of 11 events")
	require.Contains(t, out.String(), "NATS CLAIMSD_EVENTS")
	require.NoError(t, r.check())
	r.Webhooks.AllDelivered, r.Webhooks.Delivered = false, 10
	require.ErrorContains(t, r.check(), "10 of 11")
}

// TestSmokeWithOutbound starts an engine on TEST_DATABASE_URL's server
// and runs a second of load with the webhook receiver, and the NATS
// stream when a server answers at 127.0.0.1:4222 (or TEST_NATS_URL).
func TestSmokeWithOutbound(t *testing.T) {
	dbURL := os.Getenv("TEST_DATABASE_URL")
	if dbURL == "" || testing.Short() {
		t.Skip("needs TEST_DATABASE_URL, and not -short")
	}
	bin := filepath.Join(t.TempDir(), "claimsd")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/claimsd/claimsd/cmd/claimsd").CombinedOutput()
	require.NoError(t, err, "%s", out)
	args := []string{"-claimsd", bin, "-db", dbURL, "-warmup", "0s", "-duration", "1s", "-rates", "5", "-concurrency", "2",
		"-check", "-json", "-webhook"}
	natsURL := os.Getenv("TEST_NATS_URL")
	if natsURL == "" {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second); err == nil {
			_ = c.Close()
			natsURL = "nats://127.0.0.1:4222"
		}
	}
	if natsURL != "" {
		args = append(args, "-nats", natsURL)
	}
	// The bench waits for the webhooks with no limit, printing progress.
	var stdout, stderr bytes.Buffer
	err = run(t.Context(), args, &stdout, &stderr, env(nil))
	require.NoError(t, err, "%s", stderr.String())
	var res result
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &res), stdout.String())
	require.NotNil(t, res.Webhooks)
	require.True(t, res.Webhooks.AllDelivered)
	require.Positive(t, res.Webhooks.Events)
	require.Positive(t, res.Webhooks.LagP50ms)
	if natsURL != "" {
		require.NotNil(t, res.NATS)
		require.True(t, res.NATS.AllPublished)
		require.GreaterOrEqual(t, res.NATS.Published, uint64(res.NATS.Events))
	} else {
		require.Nil(t, res.NATS)
	}
}

func TestParseLSN(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		give string
		want int64
	}{
		{give: "0/0", want: 0},
		{give: "0/16B3748", want: 0x16B3748},
		{give: "16/B374D848", want: 0x16<<32 | 0xB374D848},
	} {
		got, err := parseLSN(tt.give)
		require.NoError(t, err, tt.give)
		require.Equal(t, tt.want, got, tt.give)
	}
	for _, give := range []string{"", "16", "x/1", "1/100000000"} {
		_, err := parseLSN(give)
		require.Error(t, err, give)
	}
}

func TestTransactionControl(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		give, want string
	}{
		{give: "begin", want: "begin"},
		{give: "BEGIN ISOLATION LEVEL SERIALIZABLE", want: "begin"},
		{give: "start transaction read only", want: "begin"},
		{give: "commit", want: "commit"},
		{give: " COMMIT; ", want: "commit"},
		{give: "end", want: "commit"},
		{give: "rollback", want: "rollback"},
		{give: "abort", want: "rollback"},
		{give: "rollback to savepoint sp1", want: ""},
		{give: "savepoint sp1", want: ""},
		{give: "commit prepared 'x'", want: ""},
		{give: "SELECT begin FROM t", want: ""},
		{give: "", want: ""},
	} {
		require.Equal(t, tt.want, transactionControl(tt.give), tt.give)
	}
}

func TestCostBetweenLeavesClaimsbenchOut(t *testing.T) {
	t.Parallel()
	read := normaliseSQL(countersWithStatementsSQL)
	before := dbCounters{commits: 100, walLSN: "0/1000", statements: map[statementKey]statementCalls{
		{10, 1}: {query: "begin", calls: 50},
		{10, 2}: {query: "commit", calls: 48},
		{10, 3}: {query: "INSERT INTO claims VALUES ($1)", calls: 40},
		{10, 4}: {query: watchSQL, calls: 7},
		{10, 5}: {query: read, calls: 1},
	}}
	after := dbCounters{commits: 100 + 23 + 30 + 1 + 2, walLSN: "0/3000", statements: map[statementKey]statementCalls{
		{10, 1}: {query: "begin", calls: 70},
		{10, 2}: {query: "commit", calls: 66},
		{10, 3}: {query: "INSERT INTO claims VALUES ($1)", calls: 80},
		{10, 4}: {query: watchSQL, calls: 37},
		{10, 5}: {query: read, calls: 2},
		{10, 6}: {query: "rollback", calls: 2},
		{10, 7}: {query: "SELECT * FROM orders WHERE id = $1", calls: 20},
		{11, 3}: {query: "INSERT INTO claims VALUES ($1)", calls: 3}, // another user: its own entry
	}}
	watched := ownWork{connections: 1, statements: 30}
	got, err := costBetween(before, after, watched)
	require.NoError(t, err)
	require.Equal(t, int64(23), got.commits, "the watcher's connection and 30 polls, and the readings, are no commits of the engine")
	require.Equal(t, int64(0x2000), got.walBytes)
	require.True(t, got.hasStatements)
	require.Equal(t, int64(18), got.transactions)
	require.Equal(t, int64(40+20+3), got.statements, "no BEGIN, COMMIT, ROLLBACK, poll or reading")
	require.Equal(t, []statementCost{
		{query: "INSERT INTO claims VALUES ($1)", calls: 40},
		{query: "SELECT * FROM orders WHERE id = $1", calls: 20},
		{query: "begin", calls: 20},
		{query: "commit", calls: 18},
		{query: "INSERT INTO claims VALUES ($1)", calls: 3},
		{query: "rollback", calls: 2},
	}, got.byStatement, "most called first, then by text")

	// An entry evicted and made anew counts its new calls.
	after.statements[statementKey{10, 3}] = statementCalls{query: "INSERT INTO claims VALUES ($1)", calls: 5}
	got, err = costBetween(before, after, watched)
	require.NoError(t, err)
	require.Equal(t, int64(5+20+3), got.statements)

	// Without pg_stat_statements on either side, commits and WAL only.
	before.statements = nil
	got, err = costBetween(before, after, watched)
	require.NoError(t, err)
	require.False(t, got.hasStatements)
	require.Equal(t, int64(23), got.commits)
	require.Nil(t, got.byStatement)

	_, err = costBetween(dbCounters{walLSN: "0/0"}, dbCounters{walLSN: "nowhere"}, ownWork{})
	require.Error(t, err)
}

func TestTopStatements(t *testing.T) {
	t.Parallel()
	long := "SELECT " + strings.Repeat("a_column, ", 20) + "\n\t  last FROM t"
	stmts := []statementCost{{query: long, calls: 200}, {query: "commit", calls: 100}, {query: "begin", calls: 100}}
	require.Nil(t, topStatements(stmts, 0, 100))
	require.Nil(t, topStatements(stmts, 3, 0))
	got := topStatements(stmts, 2, 100)
	require.Len(t, got, 2)
	require.Equal(t, 2.0, got[0].CallsPerClaim)
	require.Equal(t, int64(200), got[0].Calls)
	require.Len(t, []rune(got[0].Query), 120)
	require.True(t, strings.HasPrefix(got[0].Query, "SELECT a_column, a_column,"))
	require.True(t, strings.HasSuffix(got[0].Query, "…"))
	require.Equal(t, topStatement{Query: "commit", Calls: 100, CallsPerClaim: 1}, got[1])
	require.Len(t, topStatements(stmts, 10, 100), 3)
	require.Equal(t, "short", shorten("short", 120))
}

func TestReportShowsDatabaseFiguresMeasured(t *testing.T) {
	t.Parallel()
	r := &result{Concurrency: 8, EngineCPUmsPerClaim: 3.5, CommitsPerClaim: 6, WALBytesPerClaim: 9000}
	var out bytes.Buffer
	require.NoError(t, r.writeJSON(&out))
	var m map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &m))
	require.Equal(t, 3.5, m["engine_cpu_ms_per_claim"])
	for _, k := range []string{"statements_per_claim", "transactions_per_claim", "wal_commits_per_claim", "top_statements"} {
		require.NotContains(t, m, k, "left out when not measured")
	}
	out.Reset()
	r.writeTable(&out)
	require.Contains(t, out.String(), "3.50 ms of CPU")
	require.Contains(t, out.String(), "6.00 commits, 9000 bytes of WAL")

	r.WALCommitsPerClaim, r.StatementsPerClaim, r.TransactionsPerClaim = 4, 31.5, 5
	r.TopStatements = []topStatement{{Query: "SELECT 1", Calls: 10, CallsPerClaim: 1}}
	out.Reset()
	require.NoError(t, r.writeJSON(&out))
	require.Contains(t, out.String(), `"statements_per_claim": 31.5`)
	require.Contains(t, out.String(), `"wal_commits_per_claim": 4`)
	require.Contains(t, out.String(), `"calls_per_claim": 1`)
	out.Reset()
	r.writeTable(&out)
	require.Contains(t, out.String(), "6.00 commits (4.00 that wrote), 31.5 statements in 5.00 transactions, 9000 bytes of WAL")
}

// TestCountersLeaveClaimsbenchOut reads the counters of a database of
// its own on TEST_DATABASE_URL's server around what an engine would run
// and the watcher's polls, and finds the engine's work alone.
func TestCountersLeaveClaimsbenchOut(t *testing.T) {
	t.Parallel()
	server := os.Getenv("TEST_DATABASE_URL")
	if server == "" {
		t.Skip("needs TEST_DATABASE_URL")
	}
	ctx := t.Context()
	url, drop, err := freshDatabase(ctx, server)
	require.NoError(t, err)
	t.Cleanup(drop)
	addStatsExtensions(ctx, url)
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	// No autovacuum on the table, whose workers' commits would count.
	_, err = conn.Exec(ctx, `CREATE TABLE claims (id text PRIMARY KEY, status text NOT NULL) WITH (autovacuum_enabled = false);
		INSERT INTO claims VALUES ('clm_done', 'closed')`)
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	time.Sleep(1500 * time.Millisecond) // the setup's statistics land

	before, err := readCounters(ctx, url, true)
	if err != nil {
		t.Skipf("no pg_stat_statements on the test server: %v", err)
	}
	require.NotNil(t, before.statements)

	// What the engine would run: a transaction of two statements, and one
	// statement alone.
	eng, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	tx, err := eng.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `INSERT INTO claims VALUES ($1, 'submitted')`, "clm_new")
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `UPDATE claims SET status = 'closed' WHERE id = $1`, "clm_new")
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))
	var n int
	require.NoError(t, eng.QueryRow(ctx, `SELECT count(*) FROM claims`).Scan(&n))
	require.NoError(t, eng.Close(ctx))

	b := &bench{dbURL: url, logf: t.Logf}
	w := b.newWatcher(ctx)
	require.True(t, w.wait(ctx, "clm_done", ""))
	time.Sleep(30 * time.Millisecond) // polls with nothing to wait for run no query
	own := w.stop()
	require.Equal(t, ownWork{connections: 1, statements: 1}, own)

	time.Sleep(1500 * time.Millisecond) // the closed connections' statistics land
	after, err := readCounters(ctx, url, true)
	require.NoError(t, err)
	cost, err := costBetween(before, after, own)
	require.NoError(t, err)
	// The connection's start, the transaction, and the statement alone,
	// which pgx prepares in a transaction of its own first.
	require.Equal(t, int64(4), cost.commits)
	require.True(t, cost.hasStatements)
	require.Equal(t, int64(3), cost.statements, "insert, update and count")
	require.Equal(t, int64(1), cost.transactions)
	require.Positive(t, cost.walBytes)
	var queries []string
	for _, st := range cost.byStatement {
		queries = append(queries, st.query)
	}
	require.ElementsMatch(t, []string{"begin", "commit", `INSERT INTO claims VALUES ($1, $2)`,
		`UPDATE claims SET status = $2 WHERE id = $1`, `SELECT count(*) FROM claims`}, queries)

	commits, err := walCommits(ctx, url, before.walLSN, after.walLSN)
	if err != nil {
		t.Skipf("no pg_walinspect on the test server: %v", err)
	}
	// The WAL is the whole cluster's: other databases' commits count too.
	require.GreaterOrEqual(t, commits, int64(1), "the transaction that wrote")
}

// TestPreloadLeavesNothingBehind: the history is loaded as a restore
// would: the claims are there, and neither the relay's queue nor the
// standing job's notes hold anything of it.
func TestPreloadLeavesNothingBehind(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("needs TEST_DATABASE_URL")
	}
	ctx := t.Context()
	url, cleanup, err := pgtest.Database(ctx, "claimsbench_preload")
	require.NoError(t, err)
	t.Cleanup(cleanup)
	st, err := pgstore.Open(ctx, url, pgstore.PoolConfig{MaxConns: 2})
	require.NoError(t, err)
	t.Cleanup(st.Close)
	_, err = st.Migrate(ctx, func(ctx context.Context) ([]string, error) { return queue.Migrate(ctx, st.Pool()) })
	require.NoError(t, err)

	require.NoError(t, preload(ctx, url, "pre", 25, t.Logf))

	var claims, timeline, events, notes int
	require.NoError(t, st.DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM claims), (SELECT count(*) FROM claim_events),
		(SELECT count(*) FROM events), (SELECT count(*) FROM seller_standing_changes)`).Scan(&claims, &timeline, &events, &notes))
	require.Equal(t, 25, claims)
	require.Equal(t, 50, timeline)
	require.Zero(t, events, "no old event waits for the relay")
	require.Zero(t, notes, "no old claim waits for the standing job")
}
