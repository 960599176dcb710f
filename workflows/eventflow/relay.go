package eventflow

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// Batch is how many events the relay numbers, and a consumer takes, at a
// time.
const Batch = 500

// Relay numbers the events the store holds and renders their data.
type Relay struct {
	store    Store
	renderer Renderer
	now      func() time.Time
}

// NewRelay returns a Relay on store; renderer renders claim events' data;
// now is the clock.
func NewRelay(store Store, renderer Renderer, now func() time.Time) *Relay {
	return &Relay{store: store, renderer: renderer, now: now}
}

// RunOnce numbers what waits, a batch at a time, until a batch comes back
// short; it returns how many it numbered.
func (r *Relay) RunOnce(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := r.store.NumberPending(ctx, Batch, r.render, r.now().UTC())
		total += n
		if err != nil || n < Batch {
			return total, err
		}
	}
}

// render gives each claim event the claim as the API shows it now: within
// a batch, the claim as it stands when the batch is numbered.
func (r *Relay) render(ctx context.Context, pending []Pending) (map[string]json.RawMessage, error) {
	var ids []string
	seen := map[string]bool{}
	for _, p := range pending {
		if p.ClaimID != "" && !p.HasData && !seen[p.ClaimID] {
			seen[p.ClaimID] = true
			ids = append(ids, p.ClaimID)
		}
	}
	if len(ids) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	claims, err := r.renderer.Claims(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("render claims: %w", err)
	}
	out := make(map[string]json.RawMessage, len(pending))
	for _, p := range pending {
		if d, ok := claims[p.ClaimID]; ok && !p.HasData {
			out[p.ID] = d
		}
	}
	return out, nil
}

// Lag is how long the oldest event not yet numbered has waited (zero when
// none waits).
func (r *Relay) Lag(ctx context.Context) (time.Duration, error) {
	at, ok, err := r.store.OldestPending(ctx)
	if err != nil || !ok {
		return 0, err
	}
	return max(r.now().Sub(at), 0), nil
}

// Loop runs the relay every interval until ctx ends, logging failures and
// carrying on: an event not numbered now is numbered on a later turn.
func (r *Relay) Loop(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "event relay", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PruneBatch is how many events one statement of Prune deletes.
const PruneBatch = 10_000

// Prune deletes the numbered events older than keep that every consumer
// with a cursor has taken, a batch at a time; it returns how many. A feed
// reader keeps no cursor here: keep is how far back it can catch up.
func Prune(ctx context.Context, store Store, keep time.Duration, now time.Time) (int, error) {
	total := 0
	for {
		n, err := store.PruneEvents(ctx, now.Add(-keep), PruneBatch)
		total += n
		if err != nil || n < PruneBatch {
			return total, err
		}
	}
}

// Sink is a consumer that sends events on: the stream, a webhook
// endpoint. Send returns how many of events, from the first, were taken
// for good; the rest are offered again.
type Sink interface {
	Send(ctx context.Context, events []Event) (int, error)
}

// Consume offers sink the numbered events after consumer's cursor, in
// order, a batch at a time, moving the cursor past what it took, until
// none is left or the sink stops short; it returns how many were taken.
func Consume(ctx context.Context, store Store, consumer string, types []string, sink Sink, now func() time.Time) (int, error) {
	total := 0
	for {
		at, err := store.Cursor(ctx, consumer)
		if err != nil {
			return total, err
		}
		evs, err := store.EventsAfter(ctx, at, types, Batch)
		if err != nil || len(evs) == 0 {
			return total, err
		}
		n, sendErr := sink.Send(ctx, evs)
		if n > 0 {
			if err := store.SetCursor(ctx, consumer, evs[n-1].Position, now().UTC()); err != nil {
				return total, err
			}
			total += n
		}
		if sendErr != nil {
			return total, sendErr
		}
		if n < len(evs) || len(evs) < Batch {
			return total, nil
		}
	}
}
