//go:build chaos

package main

// The fault suite: real claimsd processes (one API, two workers) under a
// steady load of shoppers, agents, sellers and finance, while the engine
// is killed, its database restarted or cut off, and its payment provider
// fails. After each scenario the money must add up.
//
//	make chaos   # go test -tags chaos -run '^TestChaos' ./cmd/claimsd/
//
// CHAOS_SEED fixes the random choices (fault moments, which process dies,
// which orders decline); the seed in use is logged.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/embeddedpg"
	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/payments/stripe/stripemock"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
)

// recoveryLimit is how soon after a fault ends the API must answer again.
const recoveryLimit = 10 * time.Second

// TestChaosProcessKills: the API process and the two workers are each
// liable to be killed with SIGKILL; three kills at random moments, each
// process restarted a second later, while the sandbox fails 20 % of calls
// (some after recording the refund), spikes its latency and declines some
// cards. Then a worker is killed while the webhook receiver holds one of
// its deliveries unanswered: it is sent again (after the attempt's lease,
// a minute), under the same webhook-id.
func TestChaosProcessKills(t *testing.T) {
	rig := newChaosRig(t, "kills", chaosOptions{})
	rig.run(func(ctx context.Context) {
		// Each process once, in a random order, at a random moment.
		for i, n := range rig.rng.Perm(3) {
			victim := rig.procs()[n]
			rig.inject(ctx, time.Duration(3000+rig.rng.IntN(4000))*time.Millisecond,
				fmt.Sprintf("SIGKILL %d: %s", i+1, victim.name),
				func(f *fault) { rig.kill(victim); rig.inFlight(f) }, time.Second, func() { rig.restart(victim) })
		}
		rig.killMidDelivery(ctx, time.Duration(2000+rig.rng.IntN(3000))*time.Millisecond)
	})
}

// TestChaosDatabase: the engine's connections to PostgreSQL are cut (and
// new ones refused) for 5 s, then 300 ms of latency is added to every
// packet for 5 s, then PostgreSQL itself is restarted, down for 5 s.
func TestChaosDatabase(t *testing.T) {
	rig := newChaosRig(t, "database", chaosOptions{privatePostgres: true})
	rig.run(func(ctx context.Context) {
		p := rig.pgProxy
		rig.inject(ctx, 4*time.Second, "connections cut for 5 s", func(*fault) { p.cut() }, 5*time.Second, p.restore)
		rig.inject(ctx, 4*time.Second, "300 ms latency for 5 s",
			func(*fault) { p.setLatency(300 * time.Millisecond) }, 5*time.Second, func() { p.setLatency(0) })
		rig.inject(ctx, 4*time.Second, "PostgreSQL restarted, down 5 s",
			func(*fault) { rig.stopPostgres() }, 5*time.Second, rig.startPostgres)
	})
}

// TestChaosStripe: refunds go through the real Stripe SDK to stripe-mock
// behind a proxy that answers 500 before forwarding, loses the answer
// after forwarding (Stripe refunded, the engine heard nothing), or delays,
// each for some requests; it is also cut off entirely for 4 s, and a
// worker is killed.
func TestChaosStripe(t *testing.T) {
	rig := newChaosRig(t, "stripe", chaosOptions{stripe: true})
	rig.run(func(ctx context.Context) {
		rig.inject(ctx, 4*time.Second, "Stripe unreachable for 4 s",
			func(*fault) { rig.stripe.setDown(true) }, 4*time.Second, func() { rig.stripe.setDown(false) })
		victim := rig.workers[rig.rng.IntN(2)]
		rig.inject(ctx, 3*time.Second, "SIGKILL: "+victim.name,
			func(f *fault) { rig.kill(victim); rig.inFlight(f) }, time.Second, func() { rig.restart(victim) })
	})
}

type chaosOptions struct {
	privatePostgres bool // a PostgreSQL of the test's own, so it can be restarted
	stripe          bool // pay through stripe-mock instead of the sandbox
}

// chaosRig is one scenario: its database, its processes, its load, what
// the load saw, and where its events went (a webhook receiver, the NATS
// stream when a server answers on 127.0.0.1:4222).
type chaosRig struct {
	t    *testing.T
	name string
	opts chaosOptions
	rng  *rand.Rand
	seed uint64

	directURL string // for the checks, bypassing the proxy
	pgDir     string
	pg        *embeddedpg.Server
	pgProxy   *tcpProxy
	stripe    *stripeProxy

	env      map[string]string
	apiAddr  string
	api      *procChild
	workers  []*procChild
	addrs    map[*procChild]string
	args     map[*procChild][]string
	restarts int

	client *chaosClient
	obs    *observations

	mu     sync.Mutex
	faults []*fault
	claims map[string]string // order id -> claim id, as the API reported

	orders  []chaosOrder
	sellers []string
	pool    *pgxpool.Pool
	// runTag makes the run's seller ids, and so their events' ids, its
	// own: the stream's server drops a message id it has seen (2 h).
	runTag string

	hooks        *hookReceiver
	hookEndpoint string
	hookStart    int64        // the endpoint takes events numbered after this
	nats         *streamWatch // nil: no NATS server
	killedMid    []string     // deliveries held when their worker was killed
}

type chaosOrder struct {
	id, shopper, seller string
	amount              int64
	currency            string
}

type fault struct {
	name       string
	start, end time.Time
	recovered  time.Duration // first successful API call after end
	ok         bool
}

func newChaosRig(t *testing.T, name string, opts chaosOptions) *chaosRig {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "CHAOS_SEED")
		seed = n
	}
	t.Logf("scenario %s, CHAOS_SEED=%d", name, seed)
	r := &chaosRig{
		t: t, name: name, opts: opts, seed: seed,
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		addrs:  map[*procChild]string{},
		args:   map[*procChild][]string{},
		obs:    newObservations(),
		claims: map[string]string{},
		runTag: strconv.FormatInt(time.Now().UnixNano(), 36),
	}
	ctx := t.Context()

	var target string
	if opts.privatePostgres {
		tmp := t.TempDir()
		require.NoError(t, os.Chmod(tmp, 0o755))
		require.NoError(t, os.Chmod(filepath.Dir(tmp), 0o755))
		r.pgDir = filepath.Join(tmp, "pg")
		pg, err := embeddedpg.Start(ctx, embeddedpg.Config{Dir: r.pgDir})
		require.NoError(t, err)
		r.pg = pg
		t.Cleanup(func() { _ = r.pg.Stop(context.Background()) })
		r.directURL = pg.URL()
	} else {
		u, cleanup, err := pgtest.Database(ctx, "chaos_"+name)
		require.NoError(t, err)
		t.Cleanup(cleanup)
		r.directURL = u
	}
	du, err := url.Parse(r.directURL)
	require.NoError(t, err)
	target = du.Host
	r.pgProxy = startTCPProxy(t, target)
	proxied := *du
	proxied.Host = r.pgProxy.addr()
	r.pool = openTestPool(t, r.directURL)
	r.hooks = startHookReceiver(t, seed)
	r.nats = openStreamWatch(t)

	r.env = map[string]string{
		"DATABASE_URL":                  proxied.String(),
		"CLAIMSD_JWT_SECRET":            procSecret,
		"CLAIMSD_DATA_DIR":              t.TempDir(),
		"CLAIMSD_DB_MAX_CONNS":          "10",
		"CLAIMSD_JOB_TIMEOUT":           "3s",
		"CLAIMSD_JOB_RESCUE_AFTER":      "4s",
		"CLAIMSD_LOG_FORMAT":            "text",
		"CLAIMSD_SANDBOX_FAIL_RATE":     "0.2",
		"CLAIMSD_SANDBOX_LATENCY":       "20ms",
		"CLAIMSD_SANDBOX_SPIKE_RATE":    "0.05",
		"CLAIMSD_SANDBOX_SPIKE_LATENCY": "2s",
		"CLAIMSD_WEBHOOK_ALLOW_PRIVATE": "true",
	}
	if r.nats != nil {
		r.env["CLAIMSD_NATS_URL"] = chaosNATSURL
	}
	if opts.stripe {
		r.stripe = startStripeProxy(t, stripemock.URL(t), r.rng.Uint64())
		r.env["CLAIMSD_PAYMENTS"] = "stripe"
		r.env["STRIPE_API_KEY"] = "sk_test_123"
		r.env["STRIPE_API_BASE"] = r.stripe.url()
		r.env["CLAIMSD_STRIPE_TIMEOUT"] = "2s"
		// Paced well above the load, so steps fail from the faults, not
		// from waiting their turn past the step's budget.
		r.env["CLAIMSD_STRIPE_RATE"] = "200"
	}

	r.apiAddr = freeAddr(t)
	r.api = r.start("claimsd-api", r.apiAddr, "--role", "api")
	for i := range 2 {
		addr := freeAddr(t)
		r.workers = append(r.workers, r.start(fmt.Sprintf("claimsd-worker-%d", i+1), addr, "--role", "worker"))
	}
	r.client = newChaosClient(r.apiAddr, r.obs)
	r.registerHooks()
	r.seed0()
	return r
}

// start starts one claimsd process and waits until it is ready.
func (r *chaosRig) start(name, addr string, args ...string) *procChild {
	c := startChild(r.t, name, childEnv(r.env, addr), args...)
	r.addrs[c], r.args[c] = addr, args
	c.waitReady(r.t, addr)
	return c
}

func (r *chaosRig) procs() []*procChild { return append([]*procChild{r.api}, r.workers...) }

func (r *chaosRig) kill(c *procChild) { c.kill(r.t) }

// restart starts a killed process again on its address, in its place.
func (r *chaosRig) restart(old *procChild) {
	r.restarts++
	addr, args := r.addrs[old], r.args[old]
	c := startChild(r.t, fmt.Sprintf("%s-r%d", strings.SplitN(old.name, "-r", 2)[0], r.restarts), childEnv(r.env, addr), args...)
	r.addrs[c], r.args[c] = addr, args
	if old == r.api {
		r.api = c
	}
	for i, w := range r.workers {
		if w == old {
			r.workers[i] = c
		}
	}
}

// stopPostgres stops the private PostgreSQL (fast mode: sessions are
// ended, open transactions rolled back); startPostgres starts it again on
// the same port.
func (r *chaosRig) stopPostgres() { require.NoError(r.t, r.pg.Stop(context.Background())) }

func (r *chaosRig) startPostgres() {
	pg, err := embeddedpg.Start(context.Background(), embeddedpg.Config{Dir: r.pgDir})
	require.NoError(r.t, err)
	r.pg = pg
}

// inject waits calm, starts a fault, holds it for hold and ends it.
func (r *chaosRig) inject(ctx context.Context, calm time.Duration, name string, start func(*fault), hold time.Duration, stop func()) {
	r.sleep(ctx, calm)
	f := r.beginFault(name)
	start(f)
	r.sleep(ctx, hold)
	stop()
	r.endFault(f)
}

// inFlight notes, at a kill, how much work the dead process may have
// held: claims between decision and close, and jobs marked running.
func (r *chaosRig) inFlight(f *fault) {
	var claims, running int
	err := r.pool.QueryRow(context.Background(), `
		SELECT (SELECT count(*) FROM claims WHERE status IN ('approved', 'refunded', 'seller_charged')),
		       (SELECT count(*) FROM river_job WHERE state = 'running')`).Scan(&claims, &running)
	require.NoError(r.t, err)
	f.name += fmt.Sprintf(" (%d claims in flight, %d jobs running)", claims, running)
}

func (r *chaosRig) sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func (r *chaosRig) beginFault(name string) *fault {
	f := &fault{name: name, start: time.Now()}
	r.mu.Lock()
	r.faults = append(r.faults, f)
	r.mu.Unlock()
	r.obs.setFault(true)
	r.t.Logf("fault: %s", name)
	return f
}

func (r *chaosRig) endFault(f *fault) {
	r.mu.Lock()
	f.end = time.Now()
	r.mu.Unlock()
	r.obs.setFault(false)
}

// seed0 creates the scenario's sellers and orders: most claims are instant
// refunds, some go to review (above the instant limit), some are paid
// with a card whose refunds are declined.
func (r *chaosRig) seed0() {
	t := r.t
	currency, provider := "EUR", "sandbox"
	if r.opts.stripe {
		currency, provider = "USD", "stripe"
	}
	for i := range 4 {
		id := fmt.Sprintf("sel_%s_%s_%d", r.name, r.runTag, i)
		code, body, err := r.client.call(http.MethodPut, "/v1/sellers/"+id, "service", "platform", "",
			map[string]any{"name": "Seller " + id, "risk_score": 80, "verified": true})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, code, body)
		r.sellers = append(r.sellers, id)
	}
	now := time.Now().UTC()
	for i := range 1500 {
		o := chaosOrder{
			id:       fmt.Sprintf("ord_%s_%d", r.name, i),
			shopper:  fmt.Sprintf("shp_%s_%d", r.name, i),
			seller:   r.sellers[i%len(r.sellers)],
			amount:   1000 + int64(i*337)%3001,
			currency: currency,
		}
		ref := fmt.Sprintf("pay_ok_%d", i)
		switch {
		case r.opts.stripe:
			o.amount = 100 // stripe-mock answers every refund with 1.00 USD
			ref = "pi_" + o.id
		case i%10 == 3:
			ref = fmt.Sprintf("pay_decline_%d", i)
		case i%10 == 7:
			o.amount = 20000 // above the instant limit: reviewed
		}
		code, body, err := r.client.call(http.MethodPut, "/v1/orders/"+o.id, "service", "platform", "", map[string]any{
			"buyer_id": o.shopper, "seller_id": o.seller, "currency": currency, "amount": o.amount,
			"items":        []map[string]any{{"sku": "sku_bag", "name": "Leather bag", "quantity": 1, "unit_amount": o.amount}},
			"payment":      map[string]any{"provider": provider, "reference": ref},
			"paid_at":      now.Add(-72 * time.Hour).Format(time.RFC3339),
			"delivered_at": now.Add(-24 * time.Hour).Format(time.RFC3339),
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, code, body)
		r.orders = append(r.orders, o)
	}
	r.obs.reset() // seeding is not part of the record
}

// run puts the load on while faults runs, waits for the claims to settle
// and checks everything.
func (r *chaosRig) run(faults func(ctx context.Context)) {
	t := r.t
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var next atomic.Int64
	started := time.Now()

	// Shoppers: four at a time, one claim each, every claim retried with
	// its Idempotency-Key until the API answers.
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(r.orders) {
					return
				}
				r.fileClaim(ctx, r.orders[i])
				r.sleep(ctx, 150*time.Millisecond)
			}
		})
	}
	wg.Go(func() { r.agent(ctx) })
	wg.Go(func() { r.contests(ctx) })
	wg.Go(func() { r.recoveries(ctx) })
	wg.Go(func() { r.probe(ctx) })

	faults(ctx)
	r.sleep(ctx, 3*time.Second) // load after the last fault
	stop()
	wg.Wait()
	loadTime := time.Since(started)

	for _, c := range r.procs() {
		if c.exited() {
			t.Fatalf("%s exited: %v", c.name, c.err)
		}
	}
	ids := r.claimIDs()
	require.NotEmpty(t, ids)
	settleStart := time.Now()
	waitSettled(t, r.pool, ids, r.procs()...)
	settled := time.Since(settleStart)

	r.report(loadTime, settled, ids)
	r.checkAPI()
	r.checkInvariants(ids)
	r.checkOutbound()
	for _, c := range r.procs() {
		c.stop(t)
	}
}

// fileClaim files o's claim, retrying on 503 or a dropped connection with
// the same key, as a shopper's app would.
func (r *chaosRig) fileClaim(ctx context.Context, o chaosOrder) {
	body := map[string]any{"order_id": o.id, "reason": "counterfeit",
		"description": "The logo is misprinted and the stitching is loose."}
	for attempt := 0; ; attempt++ {
		code, resp, err := r.client.call(http.MethodPost, "/v1/claims", "shopper", o.shopper, "claim-"+o.id, body)
		if err == nil && code == http.StatusCreated {
			id, _ := resp["id"].(string)
			r.mu.Lock()
			r.claims[o.id] = id
			r.mu.Unlock()
			return
		}
		if err == nil && code != http.StatusServiceUnavailable {
			r.obs.unexpected(fmt.Sprintf("POST /v1/claims (%s): %d %v", o.id, code, resp))
			return
		}
		if ctx.Err() != nil && attempt > 200 {
			r.obs.unexpected(fmt.Sprintf("POST /v1/claims (%s): gave up after %d attempts: %v", o.id, attempt, err))
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// agent works the review queue: approves claims waiting for review.
func (r *chaosRig) agent(ctx context.Context) {
	for ctx.Err() == nil {
		r.sleep(ctx, 500*time.Millisecond)
		code, resp, err := r.client.call(http.MethodGet, "/v1/review-queue?limit=20", "agent", "ana", "", nil)
		if err != nil || code != http.StatusOK {
			r.obs.expect(code, err, http.StatusOK, http.StatusServiceUnavailable)
			continue
		}
		items, _ := resp["data"].([]any)
		for _, it := range items {
			c, _ := it.(map[string]any)
			id, _ := c["id"].(string)
			version, _ := c["version"].(float64)
			if c["status"] != "in_review" || id == "" {
				continue
			}
			code, _, err := r.client.call(http.MethodPost, "/v1/claims/"+id+"/override", "agent", "ana", "",
				map[string]any{"action": "approve", "note": "Checked the photos: counterfeit.", "version": int64(version)})
			r.obs.expect(code, err, http.StatusOK, http.StatusConflict, http.StatusServiceUnavailable)
		}
	}
}

// contests has sellers contest some charges and an agent reverse them.
func (r *chaosRig) contests(ctx context.Context) {
	for ctx.Err() == nil {
		r.sleep(ctx, 700*time.Millisecond)
		ids := r.claimIDs()
		if len(ids) == 0 {
			continue
		}
		id := ids[r.rng.IntN(len(ids))]
		var sellerID string
		if err := r.pool.QueryRow(ctx, `SELECT seller_id FROM claims WHERE id = $1`, id).Scan(&sellerID); err != nil {
			continue
		}
		code, resp, err := r.client.call(http.MethodPost, "/v1/claims/"+id+"/contest", "seller", sellerID, "",
			map[string]any{"statement": "The bag is genuine; invoice attached.", "evidence": []map[string]any{
				{"kind": "document", "url": "https://seller.example/invoice.pdf"}}})
		r.obs.expect(code, err, http.StatusOK, http.StatusConflict, http.StatusServiceUnavailable)
		if err != nil || code != http.StatusOK {
			continue
		}
		version, _ := resp["version"].(float64)
		code, _, err = r.client.call(http.MethodPost, "/v1/claims/"+id+"/contest/resolution", "agent", "ana", "",
			map[string]any{"outcome": "reverse", "note": "The invoice checks out.", "version": int64(version)})
		r.obs.expect(code, err, http.StatusOK, http.StatusConflict, http.StatusServiceUnavailable)
	}
}

// recoveries has finance record part of what a seller owes as recovered.
func (r *chaosRig) recoveries(ctx context.Context) {
	for n := 0; ctx.Err() == nil; n++ {
		r.sleep(ctx, time.Second)
		sellerID := r.sellers[r.rng.IntN(len(r.sellers))]
		currency := "EUR"
		if r.opts.stripe {
			currency = "USD"
		}
		key := fmt.Sprintf("rec-%s-%d", r.name, n)
		body := map[string]any{"seller_id": sellerID, "amount": 500, "currency": currency,
			"method": "payment_received", "reference": key, "note": "bank transfer"}
		for attempt := 0; attempt < 100; attempt++ {
			code, resp, err := r.client.call(http.MethodPost, "/v1/finance/recoveries", "finance", "fin", key, body)
			if code == http.StatusConflict {
				// Refused: the seller owes less than that now.
				e, _ := resp["error"].(map[string]any)
				if e["code"] != "over_recovery" {
					r.obs.unexpected(fmt.Sprintf("recovery refused with %v", resp))
				}
				break
			}
			r.obs.expect(code, err, http.StatusCreated, http.StatusServiceUnavailable)
			if err == nil && code != http.StatusServiceUnavailable {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// probe asks the API a cheap question every 100 ms, so each fault's
// recovery is measured even when the load is between calls.
func (r *chaosRig) probe(ctx context.Context) {
	for ctx.Err() == nil {
		code, _, err := r.client.call(http.MethodGet, "/v1/claims?limit=1", "agent", "probe", "", nil)
		r.obs.expect(code, err, http.StatusOK, http.StatusServiceUnavailable)
		r.sleep(ctx, 100*time.Millisecond)
	}
}

func (r *chaosRig) claimIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, 0, len(r.claims))
	for _, id := range r.claims {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// report logs the scenario's figures.
func (r *chaosRig) report(load, settle time.Duration, ids []string) {
	r.t.Logf("load ran %s; %d claims filed; the last settled %s after the load stopped",
		load.Round(100*time.Millisecond), len(ids), settle.Round(100*time.Millisecond))
	r.t.Logf("claims by status: %s", groupCounts(r.t, r.pool, `SELECT status, count(*) FROM claims GROUP BY 1 ORDER BY 1`))
	r.t.Logf("chargebacks: %s", groupCounts(r.t, r.pool,
		`SELECT chargeback_status, count(*) FROM claims WHERE chargeback_status IS NOT NULL GROUP BY 1 ORDER BY 1`))
	var retried, attempts int
	require.NoError(r.t, r.pool.QueryRow(context.Background(),
		`SELECT count(*) FILTER (WHERE attempt > 1), coalesce(sum(attempt), 0) FROM river_job`).Scan(&retried, &attempts))
	r.t.Logf("jobs tried more than once: %d (attempts in all: %d)", retried, attempts)
	r.t.Logf("API answers: %s", r.obs.summary())
	if r.stripe != nil {
		r.t.Logf("Stripe proxy: %s", r.stripe.summary())
	}
}

// checkAPI: no 5xx but 503, no answer the load did not expect, and the
// API back within recoveryLimit of each fault's end.
func (r *chaosRig) checkAPI() {
	t := r.t
	require.Empty(t, r.obs.failures(), "answers no fault excuses")
	r.mu.Lock()
	defer r.mu.Unlock()
	// A 503 is excused only during a fault or while the API recovers
	// from one.
	r.obs.mu.Lock()
	refusals := slices.Clone(r.obs.refusals)
	r.obs.mu.Unlock()
	for _, at := range refusals {
		excused := slices.ContainsFunc(r.faults, func(f *fault) bool {
			return !at.Before(f.start) && (f.end.IsZero() || at.Before(f.end.Add(recoveryLimit)))
		})
		require.True(t, excused, "a 503 at %s, outside every fault", at.Format("15:04:05.000"))
	}
	for _, f := range r.faults {
		first, ok := r.obs.firstSuccessAfter(f.end)
		require.True(t, ok, "the API never answered after %q", f.name)
		f.recovered, f.ok = first.Sub(f.end), true
		t.Logf("fault %q: %s long; API answered again %s after it ended",
			f.name, f.end.Sub(f.start).Round(10*time.Millisecond), max(f.recovered, 0).Round(10*time.Millisecond))
		require.LessOrEqual(t, f.recovered, recoveryLimit, "after %q the API took too long to answer", f.name)
	}
}

// checkInvariants checks what must hold whatever failed on the way.
func (r *chaosRig) checkInvariants(ids []string) {
	t := r.t
	q := func(msg, query string, args ...any) {
		t.Helper()
		require.Empty(t, queryStrings(t, r.pool, query, args...), msg)
	}
	// No claim lost, none made twice: one claim per order the load filed.
	var n int
	require.NoError(t, r.pool.QueryRow(context.Background(), `SELECT count(*) FROM claims`).Scan(&n))
	require.Equal(t, len(ids), n, "claims in the database vs claims the API said it created")
	q("an order with two claims", `SELECT order_id FROM claims GROUP BY order_id HAVING count(*) > 1`)

	// Every claim finished, or waits for a person with a reason and a deadline.
	q("claims neither finished nor waiting for a person with a reason", `
		SELECT id || ' is ' || status FROM claims
		 WHERE status NOT IN ('closed', 'rejected', 'in_review', 'refund_failed')
		    OR (status IN ('in_review', 'refund_failed') AND review_deadline IS NULL)
		    OR (status = 'refund_failed' AND coalesce(failure_reason, '') = '')
		    OR (status = 'in_review' AND jsonb_array_length(decision_reasons) = 0 AND coalesce(failure_reason, '') = '')`)

	// Ledger: every transaction balances; closed claims carry exactly one
	// refund and one seller charge; nothing moved for a claim that did
	// not close.
	q("unbalanced ledger transactions", `
		SELECT transaction_id || ' ' || currency FROM ledger_postings
		 GROUP BY transaction_id, currency HAVING sum(amount) <> 0`)
	q("closed claims without exactly one refund and one charge", `
		SELECT c.id FROM claims c LEFT JOIN ledger_transactions t ON t.claim_id = c.id
		 WHERE c.status = 'closed'
		 GROUP BY c.id
		HAVING count(*) FILTER (WHERE t.kind = 'refund') <> 1 OR count(*) FILTER (WHERE t.kind = 'seller_charge') <> 1`)
	q("money moved for a claim that did not close", `
		SELECT t.key || ' of a claim that is ' || c.status
		  FROM ledger_transactions t JOIN claims c ON c.id = t.claim_id
		 WHERE c.status <> 'closed' AND t.kind IN ('refund', 'seller_charge')`)

	// Each seller's balance = charges - reversals - recoveries.
	q("seller balances that are not charges minus reversals minus recoveries", `
		WITH charged AS (
		    SELECT seller_id, currency,
		           sum(amount) FILTER (WHERE chargeback_status IS NOT NULL AND chargeback_status <> 'voided') AS charges,
		           sum(amount) FILTER (WHERE chargeback_status IN ('reversed', 'waived')) AS released
		      FROM claims GROUP BY seller_id, currency),
		recovered AS (SELECT seller_id, currency, sum(amount) AS recovered FROM seller_recoveries GROUP BY 1, 2),
		ledger AS (
		    SELECT substr(account, length('seller_receivable:') + 1) AS seller_id, currency, sum(amount) AS balance
		      FROM ledger_postings WHERE account LIKE 'seller_receivable:%' GROUP BY 1, 2)
		SELECT s.id || ' ' || c.currency || ': ledger ' || coalesce(l.balance, 0) || ', charges ' || coalesce(ch.charges, 0)
		       || ' - released ' || coalesce(ch.released, 0) || ' - recovered ' || coalesce(rc.recovered, 0)
		  FROM sellers s
		  CROSS JOIN (SELECT DISTINCT currency FROM claims) c
		  LEFT JOIN charged ch ON ch.seller_id = s.id AND ch.currency = c.currency
		  LEFT JOIN recovered rc ON rc.seller_id = s.id AND rc.currency = c.currency
		  LEFT JOIN ledger l ON l.seller_id = s.id AND l.currency = c.currency
		 WHERE coalesce(l.balance, 0) <> coalesce(ch.charges, 0) - coalesce(ch.released, 0) - coalesce(rc.recovered, 0)`)
	q("a closed claim without a charge", `SELECT id FROM claims WHERE status = 'closed' AND chargeback_status IS NULL`)

	// Outbound events: every timeline entry is an event; the relay, killed
	// and restarted with the workers, numbered every one, without gaps or
	// repeats, each claim's in its sequence, with the claim's data.
	waitEventsNumbered(t, r.pool, r.procs()...)
	q("timeline entries without their event", `
		SELECT ce.claim_id || '#' || ce.seq FROM claim_events ce
		  LEFT JOIN events e ON e.id = 'evt_' || ce.claim_id || '_' || ce.seq WHERE e.id IS NULL`)
	q("event numbers with gaps or repeats", `
		SELECT 'highest ' || max(position) || ', numbered ' || count(position) FROM events
		HAVING max(position) <> count(position) OR count(DISTINCT position) <> count(position)`)
	q("a claim's events numbered out of its sequence", `
		SELECT DISTINCT claim_id FROM (
		    SELECT claim_id, sequence, lag(sequence) OVER (PARTITION BY claim_id ORDER BY position) AS before
		      FROM events WHERE claim_id IS NOT NULL) x
		 WHERE before > sequence`)
	q("claim events without their claim", `
		SELECT id FROM events WHERE claim_id IS NOT NULL AND (data IS NULL OR data ->> 'id' IS DISTINCT FROM claim_id)`)
	q("recoveries without their event", `
		SELECT r.id FROM seller_recoveries r LEFT JOIN events e ON e.id = 'evt_' || r.id WHERE e.id IS NULL`)

	if r.stripe != nil {
		r.checkStripe()
		return
	}
	// The sandbox's records are the provider's: one refund per refunded
	// claim, for its amount, under its key; none for any other claim; an
	// order never refunded beyond what was paid.
	q("claims refunded more than once at the provider", `
		SELECT claim_id || ': ' || count(*) FROM sandbox_refunds GROUP BY claim_id HAVING count(*) > 1`)
	q("closed claims whose provider refund is missing or wrong", `
		SELECT c.id FROM claims c LEFT JOIN sandbox_refunds r ON r.claim_id = c.id
		 WHERE c.status = 'closed'
		   AND (r.id IS NULL OR r.amount <> c.amount OR r.currency <> c.currency OR r.id IS DISTINCT FROM c.refund_id
		        OR r.idempotency_key <> 'claim/' || c.id || '/refund' || CASE WHEN c.refund_attempt > 1 THEN '/' || c.refund_attempt ELSE '' END)`)
	q("provider refunds for claims not recorded as refunded", `
		SELECT r.claim_id || ' is ' || coalesce(c.status, 'missing') FROM sandbox_refunds r LEFT JOIN claims c ON c.id = r.claim_id
		 WHERE c.status IS DISTINCT FROM 'closed'`)
	q("orders refunded beyond what was paid", `
		SELECT o.id FROM orders o JOIN sandbox_refunds r ON r.payment_reference = o.payment_reference
		 GROUP BY o.id, o.amount HAVING sum(r.amount) > o.amount`)
}

// checkStripe: every refund request that reached Stripe for a claim used
// the claim's one key and its amount, so Stripe made one refund; a claim
// closed only if a request reached Stripe.
func (r *chaosRig) checkStripe() {
	t := r.t
	reqs := r.stripe.refundRequests()
	rows, err := r.pool.Query(context.Background(), `SELECT id, status, amount FROM claims`)
	require.NoError(t, err)
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var id, status string
		var amount int64
		require.NoError(t, rows.Scan(&id, &status, &amount))
		got := reqs[id]
		keys := map[string]bool{}
		for _, rq := range got {
			keys[rq.key] = true
			require.LessOrEqual(t, rq.amount, amount, "claim %s: a refund request for more than the claim", id)
		}
		if status == "closed" {
			seen++
			require.NotEmpty(t, got, "claim %s closed but no refund reached Stripe", id)
			require.Len(t, keys, 1, "claim %s: refund requests under more than one key: %v", id, keys)
			require.True(t, keys["claim/"+id+"/refund"], "claim %s: keys %v", id, keys)
		}
	}
	require.NoError(t, rows.Err())
	require.Positive(t, seen)
}

// observations records every answer the load got.
type observations struct {
	mu        sync.Mutex
	inFault   bool
	byStatus  map[string]int
	bad       []string
	successes []time.Time
	refusals  []time.Time // 503s
}

func newObservations() *observations {
	return &observations{byStatus: map[string]int{}}
}

func (o *observations) reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.byStatus, o.bad, o.successes, o.refusals = map[string]int{}, nil, nil, nil
}

func (o *observations) setFault(on bool) {
	o.mu.Lock()
	o.inFault = on
	o.mu.Unlock()
}

// record notes one answer (or transport error) to method path.
func (o *observations) record(method, path string, code int, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case err != nil:
		o.byStatus["no answer"]++
	default:
		o.byStatus[strconv.Itoa(code)]++
		if code >= 500 && code != http.StatusServiceUnavailable {
			o.bad = append(o.bad, fmt.Sprintf("%s %s %s: %d", time.Now().Format("15:04:05.000"), method, path, code))
		}
		if code < 300 {
			o.successes = append(o.successes, time.Now())
		}
		if code == http.StatusServiceUnavailable {
			o.refusals = append(o.refusals, time.Now())
		}
	}
}

// expect notes an answer outside want as a failure. A transport error
// (the API process being killed) is expected.
func (o *observations) expect(code int, err error, want ...int) {
	if err != nil || slices.Contains(want, code) {
		return
	}
	o.unexpected(fmt.Sprintf("status %d, expected one of %v", code, want))
}

func (o *observations) unexpected(msg string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.bad = append(o.bad, msg)
}

func (o *observations) failures() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.bad)
}

func (o *observations) firstSuccessAfter(t time.Time) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := sort.Search(len(o.successes), func(i int) bool { return !o.successes[i].Before(t) })
	if i == len(o.successes) {
		return time.Time{}, false
	}
	return o.successes[i], true
}

func (o *observations) summary() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	keys := make([]string, 0, len(o.byStatus))
	for k := range o.byStatus {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, o.byStatus[k]))
	}
	return strings.Join(parts, " ")
}

// chaosClient calls the API with fresh tokens and records every answer.
type chaosClient struct {
	base string
	hc   *http.Client
	obs  *observations
}

func newChaosClient(addr string, obs *observations) *chaosClient {
	return &chaosClient{base: "http://" + addr, hc: &http.Client{Timeout: 20 * time.Second}, obs: obs}
}

func (c *chaosClient) call(method, path, role, sub, idemKey string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	tok, err := auth.MintToken([]byte(procSecret), claimflow.Role(role), sub, time.Hour, time.Now())
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idemKey != "" {
		req.Header.Set(httpapi.HeaderIdempotencyKey, idemKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.obs.record(method, path, 0, err)
		return 0, nil, err
	}
	defer resp.Body.Close()
	c.obs.record(method, path, resp.StatusCode, nil)
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return resp.StatusCode, out, nil
}

// tcpProxy forwards TCP connections to a target and can cut them all,
// refuse new ones, or delay every chunk it forwards.
type tcpProxy struct {
	ln      net.Listener
	target  string
	latency atomic.Int64 // nanoseconds
	mu      sync.Mutex
	down    bool
	conns   map[net.Conn]struct{}
}

func startTCPProxy(t *testing.T, target string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *tcpProxy) handle(c net.Conn) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	if down {
		c.Close()
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { p.pipe(up, c); done <- struct{}{} }()
	go func() { p.pipe(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

func (p *tcpProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := time.Duration(p.latency.Load()); d > 0 {
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut closes every connection and refuses new ones until restore.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
}

func (p *tcpProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func (p *tcpProxy) setLatency(d time.Duration) { p.latency.Store(int64(d)) }

// stripeProxy stands between the engine and stripe-mock: it records every
// refund request that reaches Stripe and injects faults into some.
type stripeProxy struct {
	srv  *http.Server
	ln   net.Listener
	next *httputil.ReverseProxy

	mu     sync.Mutex
	rng    *rand.Rand
	down   bool
	counts map[string]int
	reqs   map[string][]stripeRefundRequest // claim id -> requests that reached Stripe
}

type stripeRefundRequest struct {
	key    string
	amount int64
}

func startStripeProxy(t *testing.T, mockURL string, seed uint64) *stripeProxy {
	u, err := url.Parse(mockURL)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &stripeProxy{ln: ln, next: httputil.NewSingleHostReverseProxy(u), rng: rand.New(rand.NewPCG(seed, 7)),
		counts: map[string]int{}, reqs: map[string][]stripeRefundRequest{}}
	// The engine hanging up on a slow call is part of the plan.
	p.next.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	t.Cleanup(func() { _ = p.srv.Close() })
	return p
}

func (p *stripeProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *stripeProxy) setDown(on bool) {
	p.mu.Lock()
	p.down = on
	p.mu.Unlock()
}

// ServeHTTP: 5 % of calls get a 500 without reaching Stripe, 5 % reach
// Stripe but the engine gets a 502 instead of the answer, 3 % are held for
// 3 s first (past the engine's 2 s Stripe timeout). A refund is two calls
// (the payment's currency, then the refund), so about a quarter of refund
// attempts meet a fault.
func (p *stripeProxy) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	p.mu.Lock()
	down := p.down
	roll := p.rng.Float64()
	p.mu.Unlock()
	if down {
		p.count("refused while down")
		hj, ok := w.(http.Hijacker)
		if ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		http.Error(w, "down", http.StatusBadGateway)
		return
	}
	switch {
	case roll < 0.05:
		p.count("500 before Stripe")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"error":{"type":"api_error","message":"injected"}}`)
		return
	case roll < 0.08:
		p.count("delayed 3 s")
		select {
		case <-time.After(3 * time.Second):
		case <-req.Context().Done():
			return
		}
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	if req.Method == http.MethodPost && req.URL.Path == "/v1/refunds" {
		form, _ := url.ParseQuery(string(body))
		amount, _ := strconv.ParseInt(form.Get("amount"), 10, 64)
		p.mu.Lock()
		id := form.Get("metadata[claim_id]")
		p.reqs[id] = append(p.reqs[id], stripeRefundRequest{key: req.Header.Get("Idempotency-Key"), amount: amount})
		p.mu.Unlock()
	}
	if roll >= 0.08 && roll < 0.13 {
		// Forward, then lose the answer.
		p.count("answer lost after Stripe")
		p.next.ServeHTTP(discardWriter{h: http.Header{}}, req)
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	p.count("forwarded")
	p.next.ServeHTTP(w, req)
}

func (p *stripeProxy) count(what string) {
	p.mu.Lock()
	p.counts[what]++
	p.mu.Unlock()
}

func (p *stripeProxy) refundRequests() map[string][]stripeRefundRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string][]stripeRefundRequest, len(p.reqs))
	for k, v := range p.reqs {
		out[k] = slices.Clone(v)
	}
	return out
}

func (p *stripeProxy) summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	keys := make([]string, 0, len(p.counts))
	for k := range p.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, p.counts[k]))
	}
	n := 0
	for _, v := range p.reqs {
		n += len(v)
	}
	return strings.Join(parts, ", ") + fmt.Sprintf("; refund requests that reached Stripe: %d for %d claims", n, len(p.reqs))
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}
