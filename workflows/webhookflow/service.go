package webhookflow

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/ident"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/domain/webhook"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/eventflow"
)

// Limits of an endpoint's fields.
const (
	MaxDescription = 500
	MaxEventTypes  = 64
	MaxDeliveries  = 200 // a page of deliveries
)

// Options configure a Service.
type Options struct {
	// AllowPrivate accepts http:// and private, loopback and link-local
	// addresses (CLAIMSD_WEBHOOK_ALLOW_PRIVATE, for development and
	// tests).
	AllowPrivate bool
	Now          func() time.Time
}

// Service manages endpoints for the platform's administrators and
// services.
type Service struct {
	store Store
	opts  Options
}

// NewService returns a Service on store.
func NewService(store Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{store: store, opts: opts}
}

// AllowPrivate reports whether private addresses are accepted.
func (s *Service) AllowPrivate() bool { return s.opts.AllowPrivate }

// Input is a new endpoint.
type Input struct {
	URL         string
	Description string
	EventTypes  []string
}

// Create registers an endpoint and returns it with its secret, which is
// never shown again.
func (s *Service) Create(ctx context.Context, v claimflow.Viewer, in Input) (Endpoint, error) {
	if err := s.checkURL(in.URL); err != nil {
		return Endpoint{}, err
	}
	if err := checkDescription(in.Description); err != nil {
		return Endpoint{}, err
	}
	types, err := checkTypes(in.EventTypes)
	if err != nil {
		return Endpoint{}, err
	}
	now := s.opts.Now().UTC()
	id, err := ident.New("whe_", now, rand.Reader)
	if err != nil {
		return Endpoint{}, fmt.Errorf("new endpoint id: %w", err)
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return Endpoint{}, err
	}
	e := Endpoint{ID: id, URL: in.URL, Description: in.Description, EventTypes: types, Enabled: true,
		Secret: secret, CreatedBy: v.String(), CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateEndpoint(ctx, e); err != nil {
		return Endpoint{}, err
	}
	return e, nil
}

// List returns every endpoint.
func (s *Service) List(ctx context.Context) ([]Endpoint, error) { return s.store.Endpoints(ctx) }

// Get returns one endpoint.
func (s *Service) Get(ctx context.Context, id string) (Endpoint, error) {
	if err := checkEndpointID(id); err != nil {
		return Endpoint{}, err
	}
	return s.store.Endpoint(ctx, id)
}

// Update changes an endpoint's URL, description, types or whether it is
// enabled. Enabling it again clears its failures; the events written
// while it was disabled were not queued (Replay sends them).
func (s *Service) Update(ctx context.Context, id string, p Patch) (Endpoint, error) {
	if err := checkEndpointID(id); err != nil {
		return Endpoint{}, err
	}
	if p.URL != nil {
		if err := s.checkURL(*p.URL); err != nil {
			return Endpoint{}, err
		}
	}
	if p.Description != nil {
		if err := checkDescription(*p.Description); err != nil {
			return Endpoint{}, err
		}
	}
	if p.EventTypes != nil {
		types, err := checkTypes(p.EventTypes)
		if err != nil {
			return Endpoint{}, err
		}
		p.EventTypes = types
	}
	return s.store.UpdateEndpoint(ctx, id, p, ReasonManual, s.opts.Now().UTC())
}

// Delete removes an endpoint and its deliveries.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := checkEndpointID(id); err != nil {
		return err
	}
	return s.store.DeleteEndpoint(ctx, id)
}

// RotateSecret gives the endpoint a new secret, returned once; the old
// one signs beside it for webhook.RotationOverlap, so the receiver can
// switch without losing a delivery.
func (s *Service) RotateSecret(ctx context.Context, id string) (Endpoint, error) {
	if err := checkEndpointID(id); err != nil {
		return Endpoint{}, err
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return Endpoint{}, err
	}
	now := s.opts.Now().UTC()
	e, err := s.store.RotateSecret(ctx, id, secret, now.Add(webhook.RotationOverlap), now)
	if err != nil {
		return Endpoint{}, err
	}
	e.Secret = secret
	return e, nil
}

// Deliveries lists an endpoint's deliveries, newest first.
func (s *Service) Deliveries(ctx context.Context, id string, before int64, state string, limit int) ([]Delivery, error) {
	if err := checkEndpointID(id); err != nil {
		return nil, err
	}
	if state != "" && !slices.Contains([]string{StatePending, StateDelivered, StateFailed}, state) {
		return nil, validation.Newf("state", "invalid_state", "must be %s, %s or %s", StatePending, StateDelivered, StateFailed)
	}
	if limit < 1 || limit > MaxDeliveries {
		return nil, validation.Newf("limit", "invalid_limit", "must be from 1 to %d", MaxDeliveries)
	}
	if before < 0 {
		return nil, validation.New("before", "invalid_before", "must be a delivery id from 1")
	}
	if _, err := s.store.Endpoint(ctx, id); err != nil {
		return nil, err
	}
	return s.store.Deliveries(ctx, id, before, state, limit)
}

// Replay queues again every event of the endpoint's types written from
// from (up to now): the receiver, down for a while or re-enabled, gets
// them all, each claim's in order, and drops those it had by id.
func (s *Service) Replay(ctx context.Context, id string, from time.Time) (ReplayResult, error) {
	if err := checkEndpointID(id); err != nil {
		return ReplayResult{}, err
	}
	now := s.opts.Now().UTC()
	if err := validation.CheckTime("from", from); err != nil {
		return ReplayResult{}, err
	}
	if from.After(now) {
		return ReplayResult{}, validation.New("from", "from_in_future", "must not be later than now: nothing has happened since then yet")
	}
	return s.store.Replay(ctx, id, from.UTC(), now, now)
}

// missedMargin reaches back before an endpoint was disabled: an event
// written just before, in a transaction that committed after, was
// numbered (and fanned out) after the endpoint was off.
const missedMargin = time.Minute

// MissedSince is where a replay should start to send a re-enabled
// endpoint what it missed while disabled: a little before it was
// disabled (receivers drop by webhook-id what they already had). The
// zero time when it was never disabled.
func MissedSince(e Endpoint) time.Time {
	if e.DisabledAt == nil {
		return time.Time{}
	}
	return e.DisabledAt.Add(-missedMargin)
}

func (s *Service) checkURL(u string) error {
	if err := webhook.CheckURL("url", u, s.opts.AllowPrivate); err != nil {
		return err
	}
	return nil
}

func checkDescription(d string) error {
	if err := validation.CheckText("description", d, 0, MaxDescription); err != nil {
		return err
	}
	return nil
}

// checkTypes checks an endpoint's types: from the catalogue or "*", at
// least one; duplicates are dropped.
func checkTypes(types []string) ([]string, error) {
	if len(types) == 0 {
		return nil, validation.Newf("event_types", "required",
			"name at least one event type, or \"*\" for all: %s", strings.Join(eventflow.Types, ", "))
	}
	if len(types) > MaxEventTypes {
		return nil, validation.Newf("event_types", "too_many", "must name at most %d types", MaxEventTypes)
	}
	var out []string
	for i, t := range types {
		if t != All && !slices.Contains(eventflow.Types, t) {
			return nil, validation.Newf(validation.Indexed("event_types", i), "unknown_event_type",
				"%q is not an event type; the catalogue: %s (or \"*\" for all)", clip(t), strings.Join(eventflow.Types, ", "))
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if slices.Contains(out, All) {
		out = []string{All}
	}
	return out, nil
}

func checkEndpointID(id string) error {
	if !strings.HasPrefix(id, "whe_") || len(id) > 64 {
		return &claimflow.NotFoundError{Resource: "webhook_endpoint", ID: clip(id)}
	}
	if err := validation.CheckID("id", id); err != nil {
		return &claimflow.NotFoundError{Resource: "webhook_endpoint", ID: clip(id)}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
