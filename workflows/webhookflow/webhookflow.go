// Package webhookflow delivers the engine's numbered events to the
// endpoints the platform registers, by the Standard Webhooks
// specification: each event signed with the endpoint's secret (two while
// a rotation overlaps), attempted by the spec's schedule until the
// receiver answers 2xx, each claim's events to an endpoint one at a time
// and in order, an endpoint that answers 410 or fails for five days
// disabled (its events kept for a replay, and an event saying so).
//
// The fan-out reads the relay's numbered events by cursor and writes one
// delivery per endpoint that takes the type, in the transaction that
// moves the cursor; a delivery row is the durable job of sending it. The
// dispatcher leases due deliveries, sends them, and records each attempt.
//
//	svc := webhookflow.NewService(store, webhookflow.Options{})
//	ep, err := svc.Create(ctx, viewer, webhookflow.Input{URL: "https://…", EventTypes: []string{"*"}})
//	d := webhookflow.NewDispatcher(store, sender, webhookflow.DispatcherOptions{})
//	go d.Loop(ctx, 200*time.Millisecond)
package webhookflow

import (
	"context"
	"time"

	"github.com/claimsd/claimsd/workflows/eventflow"
)

// All, as an endpoint's event type, takes every type of the catalogue,
// those added later too.
const All = "*"

// Consumer is the fan-out's cursor among the events' consumers.
const Consumer = "webhooks"

// The reasons an endpoint is disabled.
const (
	ReasonManual  = "manual"  // an administrator or the platform disabled it
	ReasonGone    = "gone"    // the receiver answered 410 Gone
	ReasonFailing = "failing" // every attempt failed for webhook.DisableAfter
)

// The states of a delivery.
const (
	StatePending   = "pending"   // to be attempted (or being attempted)
	StateDelivered = "delivered" // the receiver answered 2xx
	StateFailed    = "failed"    // given up after the last attempt
)

// Endpoint is a receiver of events.
type Endpoint struct {
	ID          string
	URL         string
	Description string
	EventTypes  []string
	Enabled     bool
	// DisabledReason and DisabledAt: the last time it was disabled, kept
	// after it is enabled again (events from then to the re-enabling were
	// not queued; a replay sends them).
	DisabledReason string
	DisabledAt     *time.Time
	FailingSince   *time.Time
	// Secret is set only when it is made or rotated: shown once.
	Secret string
	// PreviousUntil: the rotated-out secret signs beside the new one
	// until then.
	PreviousUntil *time.Time
	CreatedBy     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Counts of its deliveries by state.
	Pending, Delivered, Failed int64
}

// Takes reports whether the endpoint takes events of type t.
func (e Endpoint) Takes(t string) bool {
	for _, x := range e.EventTypes {
		if x == All || x == t {
			return true
		}
	}
	return false
}

// Delivery is one event for one endpoint and its attempts.
type Delivery struct {
	ID            int64
	EndpointID    string
	EventID       string
	EventType     string
	ClaimID       string
	Position      int64
	Replay        bool
	State         string
	Attempts      int
	NextAttemptAt *time.Time // pending only
	LastStatus    int
	LastError     string
	LastLatency   time.Duration
	CreatedAt     time.Time
	FinishedAt    *time.Time
	History       []Attempt
}

// Attempt is one try at a delivery.
type Attempt struct {
	N        int
	At       time.Time
	Status   int // 0: no answer (Error says why)
	Latency  time.Duration
	Error    string
	Response string // the first part of the answer
}

// Due is a delivery leased for an attempt, with what sending it needs.
type Due struct {
	DeliveryID int64
	Attempt    int // this attempt's number, from 1
	EndpointID string
	URL        string
	// Secrets sign it: the current one and, during a rotation's overlap,
	// the one before.
	Secrets []string
	Event   eventflow.Event
	// Missing: the event is no longer kept (pruned); the delivery fails.
	Missing bool
}

// Result is what became of an attempt.
type Result struct {
	DeliveryID int64
	EndpointID string
	Attempt    int
	At         time.Time
	Status     int
	Latency    time.Duration
	Error      string
	Response   string
	// State is the delivery's state after it, NextAttemptAt when it is
	// tried again (pending).
	State         string
	NextAttemptAt time.Time
	// Gone: the receiver answered 410; the endpoint is disabled.
	Gone bool
	// Success: the receiver answered 2xx; the endpoint is not failing.
	Success bool
}

// Disabled is an endpoint the results disabled.
type Disabled struct {
	ID, URL, Reason string
	FailingSince    *time.Time
}

// Patch changes an endpoint; nil fields are kept.
type Patch struct {
	URL         *string
	Description *string
	EventTypes  []string // nil: kept
	Enabled     *bool
}

// ReplayResult says what a replay queued.
type ReplayResult struct {
	Queued int
	// OldestKept is the oldest event still kept: a replay from before it
	// cannot send what was pruned. Nil when no event is kept.
	OldestKept *time.Time
}

// Status is how the deliveries stand, for /metrics and the console.
type Status struct {
	Endpoints, Disabled int64
	Pending, Failed     int64
	// OldestDue is when the oldest pending delivery that is due now
	// became due; nil when none is.
	OldestDue *time.Time
}

// Store keeps endpoints and deliveries. pgstore.Store implements it.
type Store interface {
	// CreateEndpoint stores e (with its Secret); it takes the events
	// numbered from now on.
	CreateEndpoint(ctx context.Context, e Endpoint) error
	// Endpoints lists every endpoint, oldest first, with its counts.
	Endpoints(ctx context.Context) ([]Endpoint, error)
	// Endpoint returns one, or a *claimflow.NotFoundError.
	Endpoint(ctx context.Context, id string) (Endpoint, error)
	// UpdateEndpoint applies p; disabling records reason and now.
	UpdateEndpoint(ctx context.Context, id string, p Patch, reason string, now time.Time) (Endpoint, error)
	// DeleteEndpoint deletes one with its deliveries.
	DeleteEndpoint(ctx context.Context, id string) error
	// RotateSecret makes secret the current one, the one before it
	// signing until previousUntil.
	RotateSecret(ctx context.Context, id, secret string, previousUntil, now time.Time) (Endpoint, error)
	// Deliveries lists an endpoint's deliveries, newest first, with ids
	// below before (0: from the newest), in state ("" any), with their
	// attempts.
	Deliveries(ctx context.Context, endpointID string, before int64, state string, limit int) ([]Delivery, error)
	// Replay queues every kept event of the endpoint's types written from
	// from up to to, in position order.
	Replay(ctx context.Context, endpointID string, from, to, now time.Time) (ReplayResult, error)
	// FanOut queues the numbered events after the fan-out's cursor for
	// the enabled endpoints that take them, up to limit events, moving
	// the cursor in the same transaction; it returns how many events it
	// took.
	FanOut(ctx context.Context, limit int, now time.Time) (int, error)
	// LeaseDue leases up to limit due deliveries of enabled endpoints,
	// each claim's oldest pending one per endpoint only, until now+lease,
	// counting the attempt.
	LeaseDue(ctx context.Context, limit int, lease time.Duration, now time.Time) ([]Due, error)
	// RecordResults records attempts and moves their deliveries on; an
	// endpoint that answered 410, or whose attempts have all failed since
	// before failingFor ago, is disabled: those are returned.
	RecordResults(ctx context.Context, results []Result, disableAfter time.Duration, now time.Time) ([]Disabled, error)
	// WebhookStatus counts endpoints and deliveries.
	WebhookStatus(ctx context.Context, now time.Time) (Status, error)
	// PruneDeliveries deletes up to limit deliveries finished before
	// before, with their attempts; it returns how many.
	PruneDeliveries(ctx context.Context, before time.Time, limit int) (int, error)
}
