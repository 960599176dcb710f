// Package stream sends the engine's numbered events to NATS JetStream:
// each event on the subject <prefix>.<type>, as eventflow.Envelope renders
// it, with its id as Nats-Msg-Id so the server drops a message it already
// holds. It is an eventflow.Sink; one process at a time should feed it,
// in position order (serve holds a PostgreSQL lock for each turn).
//
//	sink, err := stream.Open(ctx, "nats://127.0.0.1:4222", stream.Config{})
//	defer sink.Close()
//	n, err := eventflow.Consume(ctx, store, stream.Consumer, nil, sink, time.Now)
package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimsd/claimsd/workflows/eventflow"
)

// Consumer is the stream's cursor among the events' consumers.
const Consumer = "stream"

// The defaults of Config.
const (
	DefaultStreamName    = "CLAIMSD_EVENTS"
	DefaultSubjectPrefix = "claimsd.events"
	DefaultDuplicates    = 2 * time.Hour
	DefaultAckTimeout    = 5 * time.Second
)

// Config says where events go. Zero fields take the defaults.
type Config struct {
	// StreamName is the JetStream stream, created if missing.
	StreamName string
	// SubjectPrefix: an event of type claim.refunded goes on
	// <prefix>.claim.refunded; the stream takes <prefix>.>.
	SubjectPrefix string
	// Duplicates is how long the server remembers a message id: an event
	// published again within it is stored once.
	Duplicates time.Duration
	// AckTimeout is how long Send waits for the server to confirm a
	// message.
	AckTimeout time.Duration
	// Log hears of the connection dropping and coming back; nil is silent.
	Log *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.StreamName == "" {
		c.StreamName = DefaultStreamName
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.Duplicates <= 0 {
		c.Duplicates = DefaultDuplicates
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Sink publishes events to the stream. It implements eventflow.Sink.
type Sink struct {
	cfg Config
	url string
	nc  *nats.Conn
	js  jetstream.JetStream

	mu    sync.Mutex
	ready bool // the stream is known to exist with our settings
}

var _ eventflow.Sink = (*Sink)(nil)

// Open connects to the NATS server at url and creates the stream, or
// updates its settings, when the server answers. A server that is down
// does not stop Open: the connection keeps trying in the background,
// Send fails until it is back, and the stream is made then. Open fails on
// a malformed URL, or when a server that answers refuses the stream (no
// JetStream, subjects another stream holds).
func Open(ctx context.Context, url string, cfg Config) (*Sink, error) {
	cfg = cfg.withDefaults()
	log := cfg.Log
	nc, err := nats.Connect(url,
		nats.Name("claimsd"),
		nats.Timeout(2*time.Second),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		// While disconnected, a publish fails at once rather than
		// waiting in a buffer: Send reports it, and the events are
		// offered again on the next turn.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", c.ConnectedUrlRedacted()) }),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(cfg.AckTimeout))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	s := &Sink{cfg: cfg, url: url, nc: nc, js: js}
	if nc.IsConnected() {
		if err := s.ensure(ctx); err != nil {
			nc.Close()
			return nil, err
		}
	} else {
		log.Warn("nats is not reachable yet; events wait until it is", "stream", cfg.StreamName)
	}
	return s, nil
}

// ensure creates the stream, or brings an existing one to our subjects
// and duplicate window, once. Settings an operator gave it (a maximum
// age, replicas) are kept.
func (s *Sink) ensure(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready {
		return nil
	}
	subjects := []string{s.cfg.SubjectPrefix + ".>"}
	for range 2 { // a second turn if another process made it meanwhile
		st, err := s.js.Stream(ctx, s.cfg.StreamName)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			_, err = s.js.CreateStream(ctx, jetstream.StreamConfig{
				Name:        s.cfg.StreamName,
				Description: "claimsd's outbound events, in position order",
				Subjects:    subjects,
				Storage:     jetstream.FileStorage,
				Retention:   jetstream.LimitsPolicy,
				Duplicates:  s.cfg.Duplicates,
			})
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				continue
			}
		} else if err == nil {
			c := st.CachedInfo().Config
			if !slices.Equal(c.Subjects, subjects) || c.Duplicates != s.cfg.Duplicates {
				c.Subjects, c.Duplicates = subjects, s.cfg.Duplicates
				_, err = s.js.UpdateStream(ctx, c)
			}
		}
		if err != nil {
			return fmt.Errorf("create or update stream %s on %s: %w", s.cfg.StreamName, subjects[0], err)
		}
		s.ready = true
		return nil
	}
	return fmt.Errorf("create stream %s: %w", s.cfg.StreamName, jetstream.ErrStreamNameAlreadyInUse)
}

// Subject is where an event of type t goes.
func (s *Sink) Subject(t string) string { return s.cfg.SubjectPrefix + "." + t }

// StreamName is the stream the sink publishes to.
func (s *Sink) StreamName() string { return s.cfg.StreamName }

// Connected reports whether the connection to NATS is up now.
func (s *Sink) Connected() bool { return s.nc.IsConnected() }

// Send implements eventflow.Sink: it publishes events without waiting for
// each one's ack, then reads the acks in order and returns how many, from
// the first, the server stored. The first failure ends the count, so a
// cursor never passes an event the server did not confirm; anything
// after it is offered again and the server drops what it already holds.
func (s *Sink) Send(ctx context.Context, events []eventflow.Event) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	if !s.nc.IsConnected() {
		return 0, fmt.Errorf("publish to stream %s: not connected to NATS (%s)", s.cfg.StreamName, s.nc.Status())
	}
	if err := s.ensure(ctx); err != nil {
		return 0, err
	}
	futures := make([]jetstream.PubAckFuture, 0, len(events))
	var pubErr error
	for _, e := range events {
		body, err := eventflow.Envelope(e)
		if err != nil {
			pubErr = err
			break
		}
		m := &nats.Msg{Subject: s.Subject(e.Type), Data: body, Header: nats.Header{}}
		f, err := s.js.PublishMsgAsync(m, jetstream.WithMsgID(e.ID))
		if err != nil {
			pubErr = fmt.Errorf("publish event %s to %s: %w", e.ID, m.Subject, err)
			break
		}
		futures = append(futures, f)
	}
	// Every future resolves: with an ack, an error, or the ack timeout.
	wait := time.NewTimer(s.cfg.AckTimeout + time.Second)
	defer wait.Stop()
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return i, fmt.Errorf("publish event %s: %w", events[i].ID, err)
		case <-ctx.Done():
			return i, fmt.Errorf("publish event %s: %w", events[i].ID, ctx.Err())
		case <-wait.C:
			return i, fmt.Errorf("publish event %s: %w", events[i].ID, jetstream.ErrAsyncPublishTimeout)
		}
	}
	return len(futures), pubErr
}

// Close closes the connection. Send has waited for what it published,
// so nothing of value is in flight.
func (s *Sink) Close() { s.nc.Close() }
