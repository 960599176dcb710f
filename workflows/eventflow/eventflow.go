// Package eventflow sends what happened out of the engine. The store
// writes an event in the transaction of each change it reports (claims'
// timelines, recoveries, reconciliations, standings, cases, verdicts); the
// relay numbers them in commit order, without gaps, renders a claim
// event's data (the claim as the API shows it to the platform), and
// consumers read them by number: the feed (GET /v1/events), the stream
// (NATS JetStream), webhooks. Each consumer keeps its own cursor, so it
// can always catch up from where it stopped.
//
//	relay := eventflow.NewRelay(store, renderer, time.Now)
//	n, err := relay.RunOnce(ctx)            // the relay's loop, a few times a second
//	evs, err := store.EventsAfter(ctx, 0, nil, 100)
package eventflow

import (
	"context"
	"encoding/json"
	"time"
)

// The catalogue: every type an event may have. Claim events carry the
// claim, as GET /v1/claims/{id} shows it to the platform, and the claim's
// sequence; the others carry their own object. docs/events.md and the
// JSON Schemas (GET /events.schema.json) describe each.
const (
	ClaimSubmitted     = "claim.submitted"
	ClaimDecided       = "claim.decided"
	ClaimRefunded      = "claim.refunded"
	ClaimRefundPending = "claim.refund_pending"
	ClaimRefundFailed  = "claim.refund_failed"
	ClaimSellerCharged = "claim.seller_charged"
	ClaimClosed        = "claim.closed"
	ClaimOverridden    = "claim.overridden"
	ClaimEscalated     = "claim.escalated"
	// ClaimEvidenceAdded: a photo or document was added to the claim.
	ClaimEvidenceAdded  = "claim.evidence_added"
	ChargebackContested = "chargeback.contested"
	// ChargebackSettled: final, upheld, reversed, waived or voided; the
	// claim's chargeback says which.
	ChargebackSettled      = "chargeback.settled"
	RecoveryRecorded       = "recovery.recorded"
	ReconciliationComplete = "reconciliation.completed"
	ReconciliationFailed   = "reconciliation.failed"
	SellerStandingChanged  = "seller.standing_changed"
	CaseStatusChanged      = "case.status_changed"
	VerdictRecorded        = "verdict.recorded"
	// WebhookEndpointDisabled: an endpoint was disabled (by hand, a 410,
	// or five days of failures); its events are kept for a replay.
	WebhookEndpointDisabled = "webhook_endpoint.disabled"
	// PolicyChanged: a decision policy version was created, activated,
	// retired, or put in or taken out of shadow.
	PolicyChanged = "policy.changed"
)

// Types lists the catalogue in the order the documents name it.
var Types = []string{ClaimSubmitted, ClaimDecided, ClaimRefunded, ClaimRefundPending, ClaimRefundFailed,
	ClaimSellerCharged, ClaimClosed, ClaimOverridden, ClaimEscalated, ClaimEvidenceAdded, ChargebackContested, ChargebackSettled,
	RecoveryRecorded, ReconciliationComplete, ReconciliationFailed, SellerStandingChanged, CaseStatusChanged,
	VerdictRecorded, WebhookEndpointDisabled, PolicyChanged}

// Version is the catalogue's version: a receiver reads it in each event's
// data shape's documents; a change that removes or renames a field makes
// a new one.
const Version = "2026-12-07"

// Event is one numbered event, as consumers read it.
type Event struct {
	ID        string // unique and stable: a receiver de-duplicates by it
	Type      string
	SubjectID string // the claim, recovery, run, seller or case it is about
	ClaimID   string // "" for events that are not a claim's
	Sequence  int    // the claim's timeline sequence; 0 for others
	CreatedAt time.Time
	Position  int64 // the relay's number: gapless, in commit order
	Data      json.RawMessage
}

// Pending is an event the relay is numbering: a claim event's data is
// rendered then.
type Pending struct {
	ID, Type, ClaimID string
	Sequence          int
	HasData           bool
}

// Status is how far the relay and the consumers have come.
type Status struct {
	Last          int64      // the highest position given
	Waiting       int64      // events written and not numbered yet
	OldestWaiting *time.Time // when the oldest of them was written
	Consumers     []ConsumerStatus
}

// ConsumerStatus is where one consumer stands.
type ConsumerStatus struct {
	Name      string
	Position  int64 // the last position it took
	Behind    int64 // numbered events it has not taken
	UpdatedAt time.Time
}

// Renderer renders the data of claim events.
type Renderer interface {
	// Claims returns each claim as the API shows it to the platform, by
	// id; an id it does not know is left out.
	Claims(ctx context.Context, ids []string) (map[string]json.RawMessage, error)
}

// Store keeps the events and the consumers' cursors. pgstore.Store
// implements it.
type Store interface {
	// NumberPending numbers up to limit events whose transactions ended
	// before every transaction still running, by claim and sequence,
	// giving each claim event the data render returns for it; it returns
	// how many it numbered. One relay numbers at a time (the store locks).
	NumberPending(ctx context.Context, limit int, render func(ctx context.Context, pending []Pending) (map[string]json.RawMessage, error), now time.Time) (int, error)
	// EventsAfter returns up to limit numbered events after position, in
	// order; types nil is every type.
	EventsAfter(ctx context.Context, position int64, types []string, limit int) ([]Event, error)
	// OldestPending is when the oldest event not yet numbered was
	// written; ok is false when none waits.
	OldestPending(ctx context.Context) (at time.Time, ok bool, err error)
	// Cursor returns where consumer stands (0 if it never took one).
	Cursor(ctx context.Context, consumer string) (int64, error)
	// SetCursor records that consumer took every event up to position.
	SetCursor(ctx context.Context, consumer string, position int64, now time.Time) error
	// EventsStatus says how far the relay and each consumer have come.
	EventsStatus(ctx context.Context) (Status, error)
	// PruneEvents deletes up to limit numbered events written before
	// before that every consumer with a cursor has taken; it returns how
	// many.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
}
