package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/stream"
	"github.com/claimsd/claimsd/workflows/eventflow"
)

// streamEvery is how often a worker offers the stream the events numbered
// since its last turn, the relay's pace.
const streamEvery = 200 * time.Millisecond

// streamQuietFor is how long a failure that goes on is not logged again.
const streamQuietFor = 30 * time.Second

// streamEvents publishes the numbered events to the JetStream stream at
// url until the returned stop is called. Every worker runs it; each turn
// holds the stream's consumer lock, so one process publishes at a time
// and the events go out in position order.
func streamEvents(ctx context.Context, url string, store *pgstore.Store, log *slog.Logger) (stop func(), err error) {
	sink, err := stream.Open(ctx, url, stream.Config{Log: log})
	if err != nil {
		return nil, fmt.Errorf("event stream: %w", err)
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		consumeLoop(loopCtx, store, sink, log)
	}()
	return func() { cancel(); <-done; sink.Close() }, nil
}

// consumeLoop takes a turn every streamEvery until ctx ends, logging
// failures and carrying on: what was not sent is offered on a later turn.
// A failure that goes on (the server down) is logged when it starts, then
// every streamQuietFor, and its end once.
func consumeLoop(ctx context.Context, store *pgstore.Store, sink *stream.Sink, log *slog.Logger) {
	t := time.NewTicker(streamEvery)
	defer t.Stop()
	var failing, logged time.Time
	for {
		sent := 0
		ran, err := store.WithConsumerLock(ctx, stream.Consumer, func(ctx context.Context) error {
			var err error
			sent, err = eventflow.Consume(ctx, store, stream.Consumer, nil, sink, time.Now)
			return err
		})
		switch {
		case ctx.Err() != nil:
		case err == nil && (!ran || (sent == 0 && !sink.Connected())):
			// Another process's turn, or nothing to send and nothing
			// learnt: a failure still goes on.
		case err != nil && failing.IsZero():
			failing, logged = time.Now(), time.Now()
			log.WarnContext(ctx, "event stream", "err", err)
		case err != nil && time.Since(logged) >= streamQuietFor:
			logged = time.Now()
			log.WarnContext(ctx, "event stream", "err", err, "failing_for", time.Since(failing).Round(time.Second).String())
		case err == nil && !failing.IsZero():
			log.InfoContext(ctx, "event stream recovered", "after", time.Since(failing).Round(time.Second).String())
			failing = time.Time{}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
