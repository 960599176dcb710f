package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
)

// The tests in this file run the real binary as child processes, the way
// it runs in production, and judge it by what it leaves in the database.

// procSecret is the JWT secret every child is started with.
const procSecret = "process-test-secret-process-test-secret"

// settledStatuses are where a claim stops without a person: the workflow
// has nothing left to do for it.
var settledStatuses = []string{"closed", "rejected", "refund_failed", "in_review"}

// procBinary is the claimsd binary the tests share: built by the first test
// that needs it and removed when the last one using it ends. (A sync.Once
// would build it once too, but nothing could remove it without a TestMain.)
var procBinary struct {
	mu    sync.Mutex
	users int
	dir   string
	path  string
}

// claimsdBinary builds ./cmd/claimsd once for the tests running at the
// moment and returns the binary's path.
func claimsdBinary(t *testing.T) string {
	t.Helper()
	procBinary.mu.Lock()
	defer procBinary.mu.Unlock()
	if procBinary.users == 0 {
		goBin, err := exec.LookPath("go")
		require.NoError(t, err, "the go command is needed to build the binary under test")
		dir, err := os.MkdirTemp("", "claimsd-bin-")
		require.NoError(t, err)
		path := filepath.Join(dir, "claimsd")
		// The test's working directory is cmd/claimsd.
		if out, err := exec.Command(goBin, "build", "-o", path, ".").CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			t.Fatalf("go build: %v\n%s", err, out)
		}
		procBinary.dir, procBinary.path = dir, path
	}
	procBinary.users++
	t.Cleanup(func() {
		procBinary.mu.Lock()
		defer procBinary.mu.Unlock()
		procBinary.users--
		if procBinary.users == 0 {
			os.RemoveAll(procBinary.dir)
		}
	})
	return procBinary.path
}

// procChild is one running claimsd process.
type procChild struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // Wait's result, set before done closes
}

// startChild starts `claimsd serve args...` with the environment variables
// in env (and none of the caller's CLAIMSD_* or DATABASE_URL), its output in
// a file that is printed when the test fails. The process is killed when
// the test ends, if it still runs.
func startChild(t *testing.T, name string, env map[string]string, args ...string) *procChild {
	t.Helper()
	bin := claimsdBinary(t)
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	defer logFile.Close() // the child holds its own descriptor

	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CLAIMSD_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())

	c := &procChild{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		if !c.exited() {
			_ = cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			t.Logf("--- last lines of %s (pid %d, %v):\n%s", name, cmd.Process.Pid, c.err, tail(logPath, 60))
		}
	})
	return c
}

func (c *procChild) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// kill ends the process with SIGKILL, as a crash or an OOM kill would, and
// waits for it.
func (c *procChild) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Kill())
	<-c.done
}

// stop asks the process to shut down with SIGINT and requires a clean exit.
func (c *procChild) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(os.Interrupt))
	<-c.done
	require.NoError(t, c.err, "%s did not shut down cleanly:\n%s", c.name, tail(c.logPath, 30))
}

// waitReady polls GET /readyz on addr until it answers 200, failing at once
// if the process exits.
func (c *procChild) waitReady(t *testing.T, addr string) {
	t.Helper()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := hc.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-c.done:
			t.Fatalf("%s exited before it was ready: %v", c.name, c.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// childEnv is the environment a child runs with: the shared settings plus
// its own HTTP address.
func childEnv(shared map[string]string, addr string) map[string]string {
	env := map[string]string{"CLAIMSD_HTTP_ADDR": addr}
	for k, v := range shared {
		env[k] = v
	}
	return env
}

// procAPI calls a child's HTTP API with freshly minted tokens.
type procAPI struct {
	base string
	hc   *http.Client
}

func newProcAPI(addr string) procAPI {
	return procAPI{base: "http://" + addr, hc: &http.Client{Timeout: 30 * time.Second}}
}

// do sends body as JSON with a token for role and sub and decodes the JSON
// answer. It returns errors rather than failing the test, so it is safe
// to call from any goroutine.
func (a procAPI) do(method, path, role, sub string, body any) (int, map[string]any, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(raw))
	if err != nil {
		return 0, nil, err
	}
	tok, err := auth.MintToken([]byte(procSecret), claimflow.Role(role), sub, time.Hour, time.Now())
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return resp.StatusCode, out, nil
}

// procOrder is an order seeded for one shopper.
type procOrder struct {
	id, shopper, seller string
	amount              int64
}

// seedOrders creates sellers high-risk enough for instant refunds and one
// paid, delivered order per distinct shopper, spread over the sellers.
func seedOrders(t *testing.T, a procAPI, prefix string, sellers, orders int) []procOrder {
	t.Helper()
	var sellerIDs []string
	for i := range sellers {
		id := fmt.Sprintf("sel_%s_%d", prefix, i)
		code, body, err := a.do(http.MethodPut, "/v1/sellers/"+id, "service", "platform",
			map[string]any{"name": "Seller " + id, "risk_score": 80, "verified": true})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, code, body)
		sellerIDs = append(sellerIDs, id)
	}
	now := time.Now().UTC()
	var out []procOrder
	for i := range orders {
		o := procOrder{
			id:      fmt.Sprintf("ord_%s_%d", prefix, i),
			shopper: fmt.Sprintf("shp_%s_%d", prefix, i),
			seller:  sellerIDs[i%len(sellerIDs)],
			amount:  1000 + int64(i*337)%3001, // 10.00 to 40.00 EUR
		}
		code, body, err := a.do(http.MethodPut, "/v1/orders/"+o.id, "service", "platform", map[string]any{
			"buyer_id": o.shopper, "seller_id": o.seller, "currency": "EUR", "amount": o.amount,
			"items":        []map[string]any{{"sku": "sku_bag", "name": "Leather bag", "quantity": 1, "unit_amount": o.amount}},
			"payment":      map[string]any{"provider": "sandbox", "reference": fmt.Sprintf("pay_ok_%d", i)},
			"paid_at":      now.Add(-72 * time.Hour).Format(time.RFC3339),
			"delivered_at": now.Add(-24 * time.Hour).Format(time.RFC3339),
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, code, body)
		out = append(out, o)
	}
	return out
}

// submitClaim files a counterfeit claim on o as its shopper and returns the
// claim's id; the seeding makes every such claim an instant refund.
func submitClaim(a procAPI, o procOrder) (string, error) {
	code, body, err := a.do(http.MethodPost, "/v1/claims", "shopper", o.shopper, map[string]any{
		"order_id": o.id, "reason": "counterfeit", "description": "The logo is misprinted and the stitching is loose."})
	if err != nil {
		return "", err
	}
	if code != http.StatusCreated || body["status"] != "approved" {
		return "", fmt.Errorf("claim on %s: %d %v, want 201 approved", o.id, code, body)
	}
	id, _ := body["id"].(string)
	if id == "" {
		return "", fmt.Errorf("claim on %s: no id in %v", o.id, body)
	}
	return id, nil
}

func openTestPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// unsettled counts the claims among ids the workflow still works on.
func unsettled(t *testing.T, pool *pgxpool.Pool, ids []string) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM claims WHERE id = ANY($1) AND NOT status = ANY($2)`, ids, settledStatuses).Scan(&n))
	return n
}

// waitSettled polls until every claim in ids is settled. It has no deadline
// of its own (go test's -timeout is the backstop) but fails as soon as one
// of the children exits; every 10 s it logs where the claims and jobs are.
func waitSettled(t *testing.T, pool *pgxpool.Pool, ids []string, children ...*procChild) {
	t.Helper()
	lastReport := time.Now()
	for {
		if unsettled(t, pool, ids) == 0 {
			return
		}
		for _, c := range children {
			if c.exited() {
				t.Fatalf("%s exited while claims were still in flight: %v", c.name, c.err)
			}
		}
		if time.Since(lastReport) > 10*time.Second {
			lastReport = time.Now()
			t.Logf("still waiting: claims %s; jobs %s",
				groupCounts(t, pool, `SELECT status, count(*) FROM claims GROUP BY 1 ORDER BY 1`),
				groupCounts(t, pool, `SELECT kind || ':' || state, count(*) FROM river_job GROUP BY 1 ORDER BY 1`))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitEventsNumbered waits until the relay has numbered every outbound
// event written so far.
func waitEventsNumbered(t *testing.T, pool *pgxpool.Pool, children ...*procChild) {
	t.Helper()
	lastReport := time.Now()
	for {
		var waiting int
		require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE position IS NULL`).Scan(&waiting))
		if waiting == 0 {
			return
		}
		for _, c := range children {
			if c.exited() {
				t.Fatalf("%s exited while %d events waited for the relay: %v", c.name, waiting, c.err)
			}
		}
		if time.Since(lastReport) > 10*time.Second {
			lastReport = time.Now()
			t.Logf("still waiting: %d events not numbered", waiting)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// groupCounts formats a "label, count" query's rows as "a=1 b=2".
func groupCounts(t *testing.T, pool *pgxpool.Pool, query string) string {
	t.Helper()
	rows, err := pool.Query(context.Background(), query)
	require.NoError(t, err)
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var label string
		var n int64
		require.NoError(t, rows.Scan(&label, &n))
		parts = append(parts, fmt.Sprintf("%s=%d", label, n))
	}
	require.NoError(t, rows.Err())
	return strings.Join(parts, " ")
}

// queryStrings returns the first column of every row, as text.
func queryStrings(t *testing.T, pool *pgxpool.Pool, query string, args ...any) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// requireMoneyInvariants checks what must hold once every claim has
// settled, whatever crashed or was retried on the way: each claim among
// ids is closed; each closed claim was refunded exactly once, for its
// amount, and has exactly one ledger transaction of each kind; no money
// moved for a claim that is not closed; every ledger transaction balances;
// each seller owes exactly the sum of their closed claims.
func requireMoneyInvariants(t *testing.T, pool *pgxpool.Pool, ids []string) {
	t.Helper()
	require.Empty(t, queryStrings(t, pool,
		`SELECT id || ' is ' || status FROM claims WHERE id = ANY($1) AND status <> 'closed'`, ids),
		"with no faults that stop a refund, every claim closes")

	require.Empty(t, queryStrings(t, pool, `
		SELECT claim_id || ' has ' || count(*) || ' sandbox refunds'
		  FROM sandbox_refunds GROUP BY claim_id HAVING count(*) > 1`))
	require.Empty(t, queryStrings(t, pool, `
		SELECT c.id || ': ' || count(r.id) || ' sandbox refunds, ' || coalesce(sum(r.amount), 0) || ' refunded of ' || c.amount
		  FROM claims c LEFT JOIN sandbox_refunds r ON r.claim_id = c.id
		 WHERE c.status = 'closed'
		 GROUP BY c.id, c.amount, c.currency, c.refund_id
		HAVING count(r.id) <> 1 OR sum(r.amount) <> c.amount
		    OR bool_or(r.currency <> c.currency OR r.idempotency_key <> 'claim/' || c.id || '/refund'
		               OR r.id IS DISTINCT FROM c.refund_id)`))
	require.Empty(t, queryStrings(t, pool, `
		SELECT r.claim_id || ' was refunded but is ' || coalesce(c.status, 'missing')
		  FROM sandbox_refunds r LEFT JOIN claims c ON c.id = r.claim_id
		 WHERE c.status IS DISTINCT FROM 'closed'`),
		"money left through the sandbox for a claim the engine does not record as refunded")

	require.Empty(t, queryStrings(t, pool, `
		SELECT c.id || ': ' || count(*) FILTER (WHERE t.kind = 'refund') || ' refund and '
		       || count(*) FILTER (WHERE t.kind = 'seller_charge') || ' seller_charge ledger transactions'
		  FROM claims c LEFT JOIN ledger_transactions t ON t.claim_id = c.id
		 WHERE c.status = 'closed'
		 GROUP BY c.id
		HAVING count(*) FILTER (WHERE t.kind = 'refund') <> 1
		    OR count(*) FILTER (WHERE t.kind = 'seller_charge') <> 1
		    OR count(t.id) <> 2`))
	require.Empty(t, queryStrings(t, pool, `
		SELECT t.key || ' belongs to a claim that is ' || c.status
		  FROM ledger_transactions t JOIN claims c ON c.id = t.claim_id
		 WHERE c.status <> 'closed'`))
	require.Empty(t, queryStrings(t, pool, `
		SELECT t.key || ' moves ' || sum(p.amount) FILTER (WHERE p.amount > 0) || ' ' || min(p.currency)
		       || ', the claim is for ' || c.amount || ' ' || c.currency
		  FROM ledger_transactions t JOIN claims c ON c.id = t.claim_id JOIN ledger_postings p ON p.transaction_id = t.id
		 GROUP BY t.id, t.key, c.amount, c.currency
		HAVING sum(p.amount) FILTER (WHERE p.amount > 0) <> c.amount OR bool_or(p.currency <> c.currency)`))
	require.Empty(t, queryStrings(t, pool, `
		SELECT transaction_id || ' ' || currency FROM ledger_postings
		 GROUP BY transaction_id, currency HAVING sum(amount) <> 0`),
		"unbalanced ledger transactions")

	require.Empty(t, queryStrings(t, pool, `
		SELECT s.id || ' owes ' || coalesce(l.owed, 0) || ' but its closed claims total ' || coalesce(c.total, 0)
		  FROM sellers s
		  LEFT JOIN (SELECT account, sum(amount) AS owed FROM ledger_postings WHERE currency = 'EUR' GROUP BY account) l
		         ON l.account = 'seller_receivable:' || s.id
		  LEFT JOIN (SELECT seller_id, sum(amount) AS total FROM claims WHERE status = 'closed' AND currency = 'EUR' GROUP BY seller_id) c
		         ON c.seller_id = s.id
		 WHERE coalesce(l.owed, 0) <> coalesce(c.total, 0)`))
	var owed int64
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT coalesce(sum(amount), 0) FROM ledger_postings WHERE account LIKE 'seller_receivable:%'`).Scan(&owed))
	require.Positive(t, owed)
}

// TestCrashSafety kills claimsd with SIGKILL while refunds are in flight,
// starts it again, and requires that every claim still ends where it
// should with its money moved exactly once.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, cleanup, err := pgtest.Database(ctx, "cmd_crash")
	require.NoError(t, err)
	t.Cleanup(cleanup)

	addr := freeAddr(t)
	env := childEnv(map[string]string{
		"DATABASE_URL":             url,
		"CLAIMSD_JWT_SECRET":       procSecret,
		"CLAIMSD_DATA_DIR":         t.TempDir(),
		"CLAIMSD_DB_MAX_CONNS":     "10",
		"CLAIMSD_SANDBOX_LATENCY":  "300ms",
		"CLAIMSD_JOB_TIMEOUT":      "2s",
		"CLAIMSD_JOB_RESCUE_AFTER": "3s",
		"CLAIMSD_LOG_FORMAT":       "text",
	}, addr)
	first := startChild(t, "claimsd-1", env)
	first.waitReady(t, addr)

	api := newProcAPI(addr)
	orders := seedOrders(t, api, "crash", 3, 30)
	var ids []string
	for _, o := range orders {
		id, err := submitClaim(api, o)
		require.NoError(t, err)
		ids = append(ids, id)
	}
	// Each refund takes 300 ms at the sandbox, so the last claims are
	// mid-refund now.
	first.kill(t)

	pool := openTestPool(t, url)
	inFlight := unsettled(t, pool, ids)
	require.Positive(t, inFlight, "the crash came after every claim had settled; it tested nothing")
	var refundedUnrecorded int
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT count(*) FROM claims c JOIN sandbox_refunds r ON r.claim_id = c.id WHERE c.status = 'approved'`).Scan(&refundedUnrecorded))
	t.Logf("killed with %d of %d claims in flight (%d refunded at the sandbox but not yet recorded); jobs: %s",
		inFlight, len(ids), refundedUnrecorded,
		groupCounts(t, pool, `SELECT kind || ':' || state, count(*) FROM river_job GROUP BY 1 ORDER BY 1`))

	restarted := time.Now()
	second := startChild(t, "claimsd-2", env)
	second.waitReady(t, addr)
	waitSettled(t, pool, ids, second)
	t.Logf("the restarted process settled the stranded claims %s after it was started",
		time.Since(restarted).Round(100*time.Millisecond))

	requireMoneyInvariants(t, pool, ids)
	second.stop(t)
}

// TestTwoWorkerProcesses runs an API process and two worker processes on
// one database, with a flaky, slow sandbox, and requires that both workers
// share the work and that no refund is made twice.
func TestTwoWorkerProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, cleanup, err := pgtest.Database(ctx, "cmd_workers")
	require.NoError(t, err)
	t.Cleanup(cleanup)

	shared := map[string]string{
		"DATABASE_URL":              url,
		"CLAIMSD_JWT_SECRET":        procSecret,
		"CLAIMSD_DATA_DIR":          t.TempDir(),
		"CLAIMSD_DB_MAX_CONNS":      "10",
		"CLAIMSD_SANDBOX_LATENCY":   "50ms",
		"CLAIMSD_SANDBOX_FAIL_RATE": "0.2",
		"CLAIMSD_LOG_FORMAT":        "text",
	}
	// The API process migrates first; the workers migrate again, which
	// finds nothing to do.
	apiAddr := freeAddr(t)
	apiProc := startChild(t, "claimsd-api", childEnv(shared, apiAddr), "--role", "api")
	apiProc.waitReady(t, apiAddr)
	var workers []*procChild
	for i := range 2 {
		addr := freeAddr(t)
		w := startChild(t, fmt.Sprintf("claimsd-worker-%d", i+1), childEnv(shared, addr), "--role", "worker")
		w.waitReady(t, addr)
		workers = append(workers, w)
	}

	api := newProcAPI(apiAddr)
	orders := seedOrders(t, api, "workers", 4, 40)
	// One after another, as shoppers would file them: both workers are
	// woken by each insert and race for the jobs.
	var ids []string
	for _, o := range orders {
		id, err := submitClaim(api, o)
		require.NoError(t, err)
		ids = append(ids, id)
	}

	pool := openTestPool(t, url)
	waitSettled(t, pool, ids, apiProc, workers[0], workers[1])
	requireMoneyInvariants(t, pool, ids)

	var retried int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE attempt > 1`).Scan(&retried))
	t.Logf("jobs attempted more than once: %d; completed jobs per worker: %s", retried,
		groupCounts(t, pool, `SELECT attempted_by[array_length(attempted_by, 1)], count(*) FROM river_job
			WHERE state = 'completed' GROUP BY 1 ORDER BY 1`))
	var workersUsed int
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT count(DISTINCT attempted_by[array_length(attempted_by, 1)]) FROM river_job WHERE state = 'completed'`).Scan(&workersUsed))
	require.GreaterOrEqual(t, workersUsed, 2, "one worker process did all the work")

	for _, c := range append(workers, apiProc) {
		c.stop(t)
	}
}
