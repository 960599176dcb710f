package webhookflow

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/claimsd/claimsd/domain/webhook"
	"github.com/claimsd/claimsd/workflows/eventflow"
)

// Sender makes one HTTP attempt: POST body to url with header, within
// webhook.Timeout, reading at most webhook.MaxResponse of the answer,
// following no redirect, refusing addresses the engine may not call.
// status is 0 when there was no answer, and err says why.
type Sender interface {
	Send(ctx context.Context, url string, header http.Header, body []byte) (status int, response string, err error)
}

// DispatcherOptions configure a Dispatcher; zero fields take defaults.
type DispatcherOptions struct {
	// Batch is how many due deliveries one turn leases (default 256).
	Batch int
	// Concurrency is how many attempts run at once (default 32).
	Concurrency int
	// Lease is how long an attempt holds its delivery (default a minute,
	// four times the attempt's timeout): a process killed mid-attempt
	// leaves it to be taken up again then.
	Lease time.Duration
	// Observe hears of every attempt (for /metrics); nil is silent.
	Observe func(outcome webhook.Outcome, d time.Duration)
	Log     *slog.Logger
	Now     func() time.Time
}

// Dispatcher fans the numbered events out to endpoints and delivers
// them. Every worker process runs one; leases keep two from sending the
// same delivery at once.
type Dispatcher struct {
	store  Store
	sender Sender
	opts   DispatcherOptions
}

// NewDispatcher returns a Dispatcher on store sending with sender.
func NewDispatcher(store Store, sender Sender, opts DispatcherOptions) *Dispatcher {
	if opts.Batch <= 0 {
		opts.Batch = 256
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 32
	}
	if opts.Lease <= 0 {
		opts.Lease = 4 * webhook.Timeout
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Dispatcher{store: store, sender: sender, opts: opts}
}

// FanOut queues the events numbered since the last turn for the
// endpoints that take them; it returns how many events it took.
func (d *Dispatcher) FanOut(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := d.store.FanOut(ctx, eventflow.Batch, d.opts.Now().UTC())
		total += n
		if err != nil || n < eventflow.Batch {
			return total, err
		}
	}
}

// RunOnce fans out, then attempts what is due, a batch at a time, until
// nothing is; it returns how many attempts it made.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	if _, err := d.FanOut(ctx); err != nil {
		return 0, err
	}
	total := 0
	for {
		due, err := d.store.LeaseDue(ctx, d.opts.Batch, d.opts.Lease, d.opts.Now().UTC())
		if err != nil || len(due) == 0 {
			return total, err
		}
		results := d.attempt(ctx, due)
		// The results are recorded even when ctx ends mid-turn: the
		// receivers have them.
		disabled, err := d.store.RecordResults(context.WithoutCancel(ctx), results, webhook.DisableAfter, d.opts.Now().UTC())
		if err != nil {
			return total, err
		}
		total += len(results)
		for _, e := range disabled {
			d.opts.Log.WarnContext(ctx, "webhook endpoint disabled; its events are kept for a replay",
				"endpoint", e.ID, "url", e.URL, "reason", e.Reason, "failing_since", e.FailingSince)
		}
		// Round again even after a short batch: a claim's next delivery
		// is due as soon as the one before it was delivered.
	}
}

// attempt sends each due delivery, Concurrency at a time, and says what
// became of each.
func (d *Dispatcher) attempt(ctx context.Context, due []Due) []Result {
	results := make([]Result, len(due))
	sem := make(chan struct{}, d.opts.Concurrency)
	var wg sync.WaitGroup
	for i, u := range due {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = d.send(ctx, u)
		}()
	}
	wg.Wait()
	return results
}

// errEventMissing: the event was pruned before its delivery was sent.
var errEventMissing = errors.New("the event is no longer kept (pruned after CLAIMSD_EVENTS_KEEP)")

// send makes one attempt at u and decides what follows it.
func (d *Dispatcher) send(ctx context.Context, u Due) Result {
	start := d.opts.Now()
	r := Result{DeliveryID: u.DeliveryID, EndpointID: u.EndpointID, Attempt: u.Attempt, At: start.UTC()}
	var status int
	var err error
	if u.Missing {
		err = errEventMissing
	} else {
		status, r.Response, err = d.sendEvent(ctx, u, start)
	}
	r.Latency = d.opts.Now().Sub(start)
	r.Status = status
	if err != nil {
		r.Error = err.Error()
	}
	outcome := webhook.Classify(status, err)
	switch {
	case outcome == webhook.Delivered:
		r.State, r.Success = StateDelivered, true
	case outcome == webhook.Gone:
		// The receiver says it is gone for good: the endpoint is disabled
		// and this delivery stays pending, sent if it is enabled again.
		r.State, r.Gone = StatePending, true
		r.NextAttemptAt = r.At
	case u.Missing:
		r.State = StateFailed
	default:
		if next, ok := webhook.NextAttempt(u.Attempt, r.At); ok {
			r.State, r.NextAttemptAt = StatePending, next
		} else {
			r.State = StateFailed
		}
	}
	if d.opts.Observe != nil {
		d.opts.Observe(outcome, r.Latency)
	}
	return r
}

func (d *Dispatcher) sendEvent(ctx context.Context, u Due, at time.Time) (int, string, error) {
	body, err := eventflow.Envelope(u.Event)
	if err != nil {
		return 0, "", err
	}
	sig, err := webhook.Sign(u.Secrets, u.Event.ID, at, body)
	if err != nil {
		return 0, "", err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(webhook.HeaderID, u.Event.ID)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(webhook.HeaderSignature, sig)
	h.Set("User-Agent", "claimsd-webhooks/"+eventflow.Version)
	return d.sender.Send(ctx, u.URL, h, body)
}

// Loop runs the dispatcher every interval until ctx ends, logging
// failures and carrying on: what was not attempted now is on a later
// turn.
func (d *Dispatcher) Loop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := d.RunOnce(ctx); err != nil && ctx.Err() == nil {
			d.opts.Log.WarnContext(ctx, "webhook dispatcher", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Status counts endpoints and deliveries.
func (d *Dispatcher) Status(ctx context.Context) (Status, error) {
	return d.store.WebhookStatus(ctx, d.opts.Now().UTC())
}

// Prune deletes the deliveries finished longer than keep ago (the events'
// own retention), a batch at a time; it returns how many. Pending ones
// stay whatever their age.
func Prune(ctx context.Context, store Store, keep time.Duration, now time.Time) (int, error) {
	total := 0
	for {
		n, err := store.PruneDeliveries(ctx, now.Add(-keep), eventflow.PruneBatch)
		total += n
		if err != nil || n < eventflow.PruneBatch {
			return total, err
		}
	}
}
