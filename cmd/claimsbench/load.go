package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/workflows/claimflow"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/jackc/pgx/v5"
)

// bench is one benchmark run against one engine.
type bench struct {
	o      options
	logf   func(string, ...any)
	engine *engine // nil when loading a running engine
	base   string
	secret []byte
	// issuer and audience tokens carry for a running engine ("": defaults)
	issuer, audience string
	dbURL            string
	client           *http.Client
	run_             string // this run's prefix for ids
	nextID           atomic.Int64
	svcTok           string
	agent            string
}

// order is one order seeded for one claim, with its shopper's token.
type order struct {
	id, shopper, token, reason string
}

func (b *bench) token(role claimflow.Role, sub string) string {
	tok, err := auth.Keys{Secret: b.secret, Issuer: b.issuer, Audience: b.audience}.Mint(role, sub, 24*time.Hour, time.Now())
	if err != nil {
		panic(err) // role and subject are ours and valid
	}
	return tok
}

// do sends one request and returns the status and body.
func (b *bench) do(ctx context.Context, method, path, token string, body any, headers ...string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

const sellers = 100

// seedSellers puts sellers with a spread of risk scores.
func (b *bench) seedSellers(ctx context.Context) error {
	for i := range sellers {
		code, body, err := b.do(ctx, http.MethodPut, fmt.Sprintf("/v1/sellers/%s_sel_%d", b.run_, i), b.svcTok,
			map[string]any{"name": fmt.Sprintf("Seller %d", i), "risk_score": (i * 37) % 100, "verified": i%2 == 0})
		if err != nil {
			return err
		}
		if code != http.StatusCreated && code != http.StatusOK {
			return fmt.Errorf("seed seller: %d %s", code, body)
		}
	}
	return nil
}

// seedOrders puts n paid, delivered orders, each of its own shopper, 32
// at a time, and returns them ready to be claimed.
func (b *bench) seedOrders(ctx context.Context, n int) ([]order, error) {
	out := make([]order, n)
	now := time.Now().UTC()
	err := parallel(n, 32, func(i int) error {
		k := b.nextID.Add(1)
		id := fmt.Sprintf("%s_ord_%d", b.run_, k)
		shopper := fmt.Sprintf("%s_shp_%d", b.run_, k)
		amount := 500 + rand.Int64N(4000)
		code, body, err := b.do(ctx, http.MethodPut, "/v1/orders/"+id, b.svcTok, map[string]any{
			"buyer_id": shopper, "seller_id": fmt.Sprintf("%s_sel_%d", b.run_, rand.IntN(sellers)), "currency": "EUR", "amount": amount,
			"items":   []map[string]any{{"sku": "sku_" + strconv.Itoa(int(k%50)), "name": "Item", "quantity": 1, "unit_amount": amount}},
			"payment": map[string]any{"provider": "sandbox", "reference": "pay_" + id},
			"paid_at": now.Add(-10 * 24 * time.Hour).Format(time.RFC3339), "delivered_at": now.Add(-3 * 24 * time.Hour).Format(time.RFC3339),
		})
		if err == nil && code != http.StatusCreated {
			err = fmt.Errorf("seed order: %d %s", code, body)
		}
		if err != nil {
			return err
		}
		reason := "damaged"
		if k%10 == 0 {
			reason = "counterfeit"
		}
		out[i] = order{id: id, shopper: shopper, token: b.token("shopper", shopper), reason: reason}
		return nil
	})
	return out, err
}

// parallel calls fn for 0..n-1 from the given number of goroutines and
// returns the first error (after which no new call starts).
func parallel(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var failed atomic.Bool
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// submit files the claim on o; ok is a 201 with a decision.
func (b *bench) submit(ctx context.Context, o order) (id string, ok bool, err error) {
	code, body, err := b.do(ctx, http.MethodPost, "/v1/claims", o.token,
		map[string]any{"order_id": o.id, "reason": o.reason, "description": "The item arrived broken in two places."},
		"Idempotency-Key", "claim-"+o.id)
	if err != nil {
		return "", false, err
	}
	if code != http.StatusCreated {
		return "", false, nil
	}
	var c struct {
		ID       string `json:"id"`
		Decision struct {
			Outcome string `json:"outcome"`
		} `json:"decision"`
	}
	if err := json.Unmarshal(body, &c); err != nil || c.Decision.Outcome == "" {
		return "", false, nil
	}
	return c.ID, true, nil
}

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(60*time.Second/time.Microsecond), 3) // microseconds
}

// openStep is one open-loop rate's result.
type openStep struct {
	Rate      int     `json:"rate"`
	Sent      int     `json:"sent"`
	Errors    int     `json:"errors"`
	Achieved  float64 `json:"achieved_per_s"`
	KeptRate  bool    `json:"kept_rate"`
	P50ms     float64 `json:"p50_ms"`
	P95ms     float64 `json:"p95_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	MaxLagMs  float64 `json:"max_send_lag_ms"`
	Preloaded bool    `json:"preloaded"`
}

// openLoop files claims at a fixed rate, each at its due time whatever
// the earlier ones are doing, and measures each decision from its due
// time, so a stall shows as latency rather than as fewer requests.
func (b *bench) openLoop(ctx context.Context, rate int, orders []order) openStep {
	h := newHistogram()
	var mu sync.Mutex
	var errs atomic.Int64
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now().Add(50 * time.Millisecond)
	var maxLag time.Duration
	for i, o := range orders {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		if lag := time.Since(due); lag > maxLag {
			maxLag = lag
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := b.submit(ctx, o)
			lat := time.Since(due)
			if err != nil || !ok {
				errs.Add(1)
			}
			mu.Lock()
			_ = h.RecordValue(lat.Microseconds())
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	ms := func(us int64) float64 { return float64(us) / 1000 }
	achieved := float64(len(orders)) / elapsed.Seconds()
	return openStep{Rate: rate, Sent: len(orders), Errors: int(errs.Load()), Achieved: achieved,
		KeptRate: achieved >= 0.95*float64(rate) && maxLag < 100*time.Millisecond,
		P50ms:    ms(h.ValueAtQuantile(50)), P95ms: ms(h.ValueAtQuantile(95)), P99ms: ms(h.ValueAtQuantile(99)),
		MaxMs: ms(h.Max()), MaxLagMs: float64(maxLag.Microseconds()) / 1000}
}

// closedLoop runs c shoppers, each filing its next claim once the last
// one has reached the end of the workflow (closed, or waiting for a
// person), until d has passed or the orders run out; it returns the ids
// of the claims filed, how many requests failed and what the watcher ran
// on the engine's database, which the database's figures leave out.
func (b *bench) closedLoop(ctx context.Context, c int, d time.Duration, orders []order) (ids []string, failed int, own ownWork) {
	w := b.newWatcher(ctx)
	var mu sync.Mutex
	var errs atomic.Int64
	next := atomic.Int64{}
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(orders) {
					return
				}
				id, ok, err := b.submit(ctx, orders[i])
				if err != nil || !ok {
					errs.Add(1)
					continue
				}
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
				if !w.wait(ctx, id, orders[i].token) {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return ids, int(errs.Load()), w.stop()
}

// settled are the statuses where the workflow stops on its own.
var settled = []string{"closed", "in_review", "rejected", "refund_failed"}

// watcher tells shoppers when their claim has settled: with the engine's
// database at hand, one query every 5 ms for every claim being waited
// on; otherwise each shopper reads its claim through the API every 25 ms.
type watcher struct {
	b       *bench
	mu      sync.Mutex
	waiting map[string]chan struct{}
	done    chan struct{}
	conn    *pgx.Conn
	// polled is closed when poll has returned; polls is how many of its
	// queries completed, each one statement and one transaction.
	polled chan struct{}
	polls  int
}

// watchSQL is the watcher's query. It runs without a prepared statement,
// so that each poll is one statement and one transaction on the server
// and the database's figures can leave the watcher out exactly.
const watchSQL = `SELECT id FROM claims WHERE id = ANY($1) AND status = ANY($2)`

func (b *bench) newWatcher(ctx context.Context) *watcher {
	w := &watcher{b: b, waiting: map[string]chan struct{}{}, done: make(chan struct{})}
	if b.dbURL == "" {
		return w
	}
	conn, err := pgx.Connect(ctx, b.dbURL)
	if err != nil {
		b.logf("watching claims through the API: %v", err)
		return w
	}
	w.conn, w.polled = conn, make(chan struct{})
	go w.poll(ctx)
	return w
}

func (w *watcher) poll(ctx context.Context) {
	defer close(w.polled)
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		w.mu.Lock()
		ids := make([]string, 0, len(w.waiting))
		for id := range w.waiting {
			ids = append(ids, id)
		}
		w.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		rows, err := w.conn.Query(ctx, watchSQL, pgx.QueryExecModeExec, ids, settled)
		if err != nil {
			continue
		}
		var done []string
		for rows.Next() {
			var id string
			if rows.Scan(&id) == nil {
				done = append(done, id)
			}
		}
		rows.Close()
		if rows.Err() == nil {
			w.polls++
		}
		w.mu.Lock()
		for _, id := range done {
			if ch, ok := w.waiting[id]; ok {
				close(ch)
				delete(w.waiting, id)
			}
		}
		w.mu.Unlock()
	}
}

// wait returns once the claim has settled (true), or after a minute or
// when ctx ends (false).
func (w *watcher) wait(ctx context.Context, id, token string) bool {
	deadline := time.After(time.Minute)
	if w.conn == nil {
		for {
			code, body, err := w.b.do(ctx, http.MethodGet, "/v1/claims/"+id, token, nil)
			if err == nil && code == http.StatusOK {
				var c struct {
					Status string `json:"status"`
				}
				if json.Unmarshal(body, &c) == nil && slices.Contains(settled, c.Status) {
					return true
				}
			}
			select {
			case <-ctx.Done():
				return false
			case <-deadline:
				return false
			case <-time.After(25 * time.Millisecond):
			}
		}
	}
	ch := make(chan struct{})
	w.mu.Lock()
	w.waiting[id] = ch
	w.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
	case <-deadline:
	}
	w.mu.Lock()
	delete(w.waiting, id)
	w.mu.Unlock()
	return false
}

// stop ends the polling and returns what it ran on the database. The
// connection is closed only once poll has returned, as a pgx.Conn is not
// safe for use by two goroutines.
func (w *watcher) stop() ownWork {
	close(w.done)
	if w.conn == nil {
		return ownWork{}
	}
	<-w.polled
	_ = w.conn.Close(context.Background())
	return ownWork{connections: 1, statements: w.polls}
}

// waiting reports whether any claim still waits for the workflow's next
// step (approved, refunded, seller charged or refund pending).
func (b *bench) waiting(ctx context.Context) (bool, error) {
	for _, st := range []string{"approved", "refunded", "seller_charged", "refund_pending"} {
		code, body, err := b.do(ctx, http.MethodGet, "/v1/claims?limit=1&status="+st, b.agent, nil)
		if err != nil {
			return false, err
		}
		if code != http.StatusOK {
			return false, fmt.Errorf("list %s claims: %d %s", st, code, body)
		}
		var page struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return false, err
		}
		if len(page.Data) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// drain waits until no claim waits for a step, or two minutes.
func (b *bench) drain(ctx context.Context) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		busy, err := b.waiting(ctx)
		if err != nil || !busy {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("claims still waiting for the workflow after two minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// journey is when a claim was filed and when it closed (zero if not).
type journey struct {
	submitted, closed time.Time
}

// journeys reads the claims' timelines, 16 at a time.
func (b *bench) journeys(ctx context.Context, ids []string) ([]journey, error) {
	out := make([]journey, len(ids))
	err := parallel(len(ids), 16, func(i int) error {
		code, body, err := b.do(ctx, http.MethodGet, "/v1/claims/"+ids[i]+"/events", b.agent, nil)
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("timeline of %s: %d %s", ids[i], code, body)
		}
		if err != nil {
			return err
		}
		var page struct {
			Data []struct {
				Type string    `json:"type"`
				To   string    `json:"to"`
				At   time.Time `json:"at"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return err
		}
		for _, ev := range page.Data {
			switch {
			case ev.Type == "submitted":
				out[i].submitted = ev.At
			case ev.To == "closed" && out[i].closed.IsZero():
				out[i].closed = ev.At
			}
		}
		return nil
	})
	return out, err
}
