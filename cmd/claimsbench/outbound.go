package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimsd/claimsd/adapters/stream"
)

// webhookResult is what reached the bench's webhook receiver: every
// delivery, and for the events of the run's claims whether each arrived
// and how long after it was written.
type webhookResult struct {
	// Deliveries is every POST the receiver answered, Duplicates those
	// whose webhook-id had come before.
	Deliveries int `json:"deliveries"`
	Duplicates int `json:"duplicates"`
	// Events are the outbound events of the run's claims, Delivered how
	// many of them arrived; AllDelivered when that is every one.
	Events       int  `json:"events"`
	Delivered    int  `json:"delivered"`
	AllDelivered bool `json:"all_delivered"`
	// Lag is the first arrival minus the event's created_at.
	LagP50ms float64 `json:"lag_p50_ms"`
	LagP99ms float64 `json:"lag_p99_ms"`
	LagMaxms float64 `json:"lag_max_ms"`
	// WaitS is how long the bench waited for the last of them once the
	// load and its other figures were done.
	WaitS float64 `json:"wait_s"`
}

// natsResult is what the JetStream stream holds of the run.
type natsResult struct {
	Stream string `json:"stream"`
	// Published is how many messages the stream took during the run,
	// from any publisher (its last sequence's rise).
	Published uint64 `json:"published"`
	// Events and Messages as for webhooks: the events of the run's claims
	// and how many of them are in the stream (Duplicates: a message id
	// seen twice).
	Events       int     `json:"events"`
	Messages     int     `json:"messages"`
	Duplicates   int     `json:"duplicates"`
	AllPublished bool    `json:"all_published"`
	LagP50ms     float64 `json:"lag_p50_ms"`
	LagP99ms     float64 `json:"lag_p99_ms"`
	LagMaxms     float64 `json:"lag_max_ms"`
	WaitS        float64 `json:"wait_s"`
}

// arrival is an event's first delivery.
type arrival struct {
	at, created time.Time
}

// receiver is a webhook endpoint on the loopback interface that answers
// every POST with 204 and notes when each event first arrived.
type receiver struct {
	srv        *http.Server
	url        string
	mu         sync.Mutex
	seen       map[string]arrival
	deliveries int
	duplicates int
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("webhook receiver: %w", err)
	}
	r := &receiver{seen: map[string]arrival{}, url: "http://" + ln.Addr().String() + "/hook"}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	if req.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	var ev struct {
		ID        string    `json:"id"`
		CreatedAt time.Time `json:"created_at"`
	}
	_ = json.Unmarshal(body, &ev) // a body without created_at still counts, with no lag
	id := req.Header.Get("webhook-id")
	if id == "" {
		id = ev.ID
	}
	r.mu.Lock()
	r.deliveries++
	if _, dup := r.seen[id]; dup {
		r.duplicates++
	} else {
		r.seen[id] = arrival{at: at, created: ev.CreatedAt}
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
}

// registerEndpoint makes the receiver an endpoint for every event type
// and returns its id.
func (b *bench) registerEndpoint(ctx context.Context, url string) (string, error) {
	code, body, err := b.do(ctx, http.MethodPost, "/v1/webhook-endpoints", b.svcTok,
		map[string]any{"url": url, "event_types": []string{"*"}, "description": "claimsbench " + b.run_})
	if err != nil {
		return "", err
	}
	if code != http.StatusCreated {
		return "", fmt.Errorf("register the webhook endpoint (a running engine needs CLAIMSD_WEBHOOK_ALLOW_PRIVATE=true): %d %s", code, body)
	}
	var e struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.ID == "" {
		return "", fmt.Errorf("register the webhook endpoint: no id in %s", body)
	}
	return e.ID, nil
}

// deleteEndpoint removes the bench's endpoint, so a running engine stops
// calling a receiver that is gone.
func (b *bench) deleteEndpoint(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if code, body, err := b.do(ctx, http.MethodDelete, "/v1/webhook-endpoints/"+id, b.svcTok, nil); err != nil || code >= 300 {
		b.logf("could not delete webhook endpoint %s: %d %s %v", id, code, body, err)
	}
}

// runEvents returns the ids of the outbound events of the claims filed
// on this run's orders.
func runEvents(ctx context.Context, conn *pgx.Conn, run string) ([]string, error) {
	rows, err := conn.Query(ctx, `
		SELECT e.id FROM events e
		 WHERE e.claim_id IN (SELECT id FROM claims WHERE starts_with(order_id, $1))`, run+"_ord_")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// waitFor polls have (how many of the run's events have arrived, out of
// how many) every 200 ms until all have, logging progress every five
// seconds; there is no time limit but ctx.
func waitFor(ctx context.Context, what string, dbURL, run string, have func(ids []string) (int, error), logf func(string, ...any)) (events, got int, waited time.Duration, err error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, 0, 0, err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	start := time.Now()
	lastLog, lastMove, prev := start, start, -1
	for {
		ids, err := runEvents(ctx, conn, run)
		if err != nil {
			return 0, 0, 0, err
		}
		if got, err = have(ids); err != nil {
			return 0, 0, 0, err
		}
		if got == len(ids) {
			return len(ids), got, time.Since(start), nil
		}
		if got != prev {
			prev, lastMove = got, time.Now()
		}
		if time.Since(lastLog) >= 5*time.Second {
			lastLog = time.Now()
			stalled := ""
			if d := time.Since(lastMove); d >= 30*time.Second {
				stalled = fmt.Sprintf("; none new for %s, the engine's log may say why", d.Round(time.Second))
			}
			logf("%s: %d of %d events of the run's claims so far (%s after the load%s)", what, got, len(ids), time.Since(start).Round(time.Second), stalled)
		}
		select {
		case <-ctx.Done():
			return len(ids), got, time.Since(start), ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// lagQuantiles returns p50, p99 and max of the waits in milliseconds.
func lagQuantiles(lags []time.Duration) (p50, p99, maxMs float64) {
	if len(lags) == 0 {
		return 0, 0, 0
	}
	h := newHistogram()
	for _, l := range lags {
		_ = h.RecordValue(max(l.Microseconds(), 0))
	}
	return float64(h.ValueAtQuantile(50)) / 1000, float64(h.ValueAtQuantile(99)) / 1000, float64(h.Max()) / 1000
}

// webhookReport waits until every event of the run's claims has reached
// the receiver and sums up what did.
func (b *bench) webhookReport(ctx context.Context, r *receiver) (*webhookResult, error) {
	b.logf("waiting for the webhooks of the run's claims")
	var arrived []arrival
	events, got, waited, err := waitFor(ctx, "webhooks", b.dbURL, b.run_, func(ids []string) (int, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		arrived = arrived[:0]
		for _, id := range ids {
			if a, ok := r.seen[id]; ok {
				arrived = append(arrived, a)
			}
		}
		return len(arrived), nil
	}, b.logf)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	res := &webhookResult{Events: events, Delivered: got, AllDelivered: got == events, WaitS: waited.Seconds()}
	r.mu.Lock()
	res.Deliveries, res.Duplicates = r.deliveries, r.duplicates
	r.mu.Unlock()
	lags := make([]time.Duration, 0, len(arrived))
	for _, a := range arrived {
		if !a.created.IsZero() {
			lags = append(lags, a.at.Sub(a.created))
		}
	}
	res.LagP50ms, res.LagP99ms, res.LagMaxms = lagQuantiles(lags)
	return res, nil
}

// natsWatch is the stream as the run began.
type natsWatch struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	lastSeq uint64
}

func watchNATS(ctx context.Context, url string) (*natsWatch, error) {
	nc, err := nats.Connect(url, nats.Name("claimsbench"))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	w := &natsWatch{nc: nc, js: js}
	w.lastSeq, err = w.last(ctx)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return w, nil
}

// last is the stream's last sequence (0 when there is no stream yet).
func (w *natsWatch) last(ctx context.Context) (uint64, error) {
	s, err := w.js.Stream(ctx, stream.DefaultStreamName)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", stream.DefaultStreamName, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", stream.DefaultStreamName, err)
	}
	return info.State.LastSeq, nil
}

func (w *natsWatch) close() { w.nc.Close() }

// natsReport reads the stream from where it stood when the run began
// until every event of the run's claims is there, and sums up.
func (b *bench) natsReport(ctx context.Context, w *natsWatch) (*natsResult, error) {
	b.logf("waiting for the run's claims' events on NATS stream %s", stream.DefaultStreamName)
	seen := map[string]arrival{}
	dups := 0
	var cons jetstream.Consumer
	read := func() error {
		if cons == nil {
			c, err := w.js.OrderedConsumer(ctx, stream.DefaultStreamName, jetstream.OrderedConsumerConfig{
				DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: w.lastSeq + 1})
			if errors.Is(err, jetstream.ErrStreamNotFound) {
				return nil // not made yet: nothing published
			}
			if err != nil {
				return err
			}
			cons = c
		}
		for {
			batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(100*time.Millisecond))
			if err != nil {
				return err
			}
			n := 0
			for m := range batch.Messages() {
				n++
				var ev struct {
					ID        string    `json:"id"`
					CreatedAt time.Time `json:"created_at"`
				}
				_ = json.Unmarshal(m.Data(), &ev)
				id := m.Headers().Get(nats.MsgIdHdr)
				if id == "" {
					id = ev.ID
				}
				at := time.Time{}
				if md, err := m.Metadata(); err == nil {
					at = md.Timestamp
				}
				if _, dup := seen[id]; dup {
					dups++
				} else {
					seen[id] = arrival{at: at, created: ev.CreatedAt}
				}
			}
			if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
				return err
			}
			if n == 0 {
				return nil
			}
		}
	}
	var arrived []arrival
	events, got, waited, err := waitFor(ctx, "NATS", b.dbURL, b.run_, func(ids []string) (int, error) {
		if err := read(); err != nil {
			return 0, fmt.Errorf("read stream %s: %w", stream.DefaultStreamName, err)
		}
		arrived = arrived[:0]
		for _, id := range ids {
			if a, ok := seen[id]; ok {
				arrived = append(arrived, a)
			}
		}
		return len(arrived), nil
	}, b.logf)
	if err != nil {
		return nil, fmt.Errorf("NATS: %w", err)
	}
	last, err := w.last(ctx)
	if err != nil {
		return nil, err
	}
	res := &natsResult{Stream: stream.DefaultStreamName, Published: last - w.lastSeq, Events: events, Messages: got,
		Duplicates: dups, AllPublished: got == events, WaitS: waited.Seconds()}
	lags := make([]time.Duration, 0, len(arrived))
	for _, a := range arrived {
		if !a.created.IsZero() && !a.at.IsZero() {
			lags = append(lags, a.at.Sub(a.created))
		}
	}
	res.LagP50ms, res.LagP99ms, res.LagMaxms = lagQuantiles(lags)
	return res, nil
}
