package httpapi

import (
	"time"

	"github.com/claimsd/claimsd/workflows/webhookflow"
)

// webhookEndpointDTO is an endpoint as the API shows it; the secret only
// in the answer that made or rotated it.
type webhookEndpointDTO struct {
	ID                      string           `json:"id"`
	URL                     string           `json:"url"`
	Description             string           `json:"description"`
	EventTypes              []string         `json:"event_types"`
	Enabled                 bool             `json:"enabled"`
	DisabledReason          *string          `json:"disabled_reason"`
	DisabledAt              *time.Time       `json:"disabled_at"`
	FailingSince            *time.Time       `json:"failing_since"`
	PreviousSecretExpiresAt *time.Time       `json:"previous_secret_expires_at"`
	CreatedBy               string           `json:"created_by"`
	CreatedAt               time.Time        `json:"created_at"`
	UpdatedAt               time.Time        `json:"updated_at"`
	Deliveries              webhookCountsDTO `json:"deliveries"`
	Secret                  string           `json:"secret,omitempty"`
}

type webhookCountsDTO struct {
	Pending   int64 `json:"pending"`
	Delivered int64 `json:"delivered"`
	Failed    int64 `json:"failed"`
}

func newWebhookEndpointDTO(e webhookflow.Endpoint, now time.Time) webhookEndpointDTO {
	d := webhookEndpointDTO{ID: e.ID, URL: e.URL, Description: e.Description, EventTypes: e.EventTypes,
		Enabled: e.Enabled, DisabledAt: e.DisabledAt, FailingSince: e.FailingSince, CreatedBy: e.CreatedBy,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt, Secret: e.Secret,
		Deliveries: webhookCountsDTO{Pending: e.Pending, Delivered: e.Delivered, Failed: e.Failed}}
	if e.DisabledReason != "" {
		r := e.DisabledReason
		d.DisabledReason = &r
	}
	if e.PreviousUntil != nil && e.PreviousUntil.After(now) {
		d.PreviousSecretExpiresAt = e.PreviousUntil
	}
	if d.EventTypes == nil {
		d.EventTypes = []string{}
	}
	return d
}

type webhookDeliveryDTO struct {
	ID             int64               `json:"id"`
	EventID        string              `json:"event_id"`
	EventType      string              `json:"event_type"`
	ClaimID        *string             `json:"claim_id"`
	Position       int64               `json:"position"`
	Replay         bool                `json:"replay"`
	State          string              `json:"state"`
	AttemptCount   int                 `json:"attempt_count"`
	NextAttemptAt  *time.Time          `json:"next_attempt_at"`
	LastStatusCode *int                `json:"last_status_code"`
	LastError      *string             `json:"last_error"`
	LastLatencyMS  int64               `json:"last_latency_ms"`
	CreatedAt      time.Time           `json:"created_at"`
	FinishedAt     *time.Time          `json:"finished_at"`
	Attempts       []webhookAttemptDTO `json:"attempts"`
}

type webhookAttemptDTO struct {
	N          int       `json:"n"`
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code"`
	LatencyMS  int64     `json:"latency_ms"`
	Error      *string   `json:"error"`
	Response   *string   `json:"response"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

func newWebhookDeliveryDTO(d webhookflow.Delivery) webhookDeliveryDTO {
	out := webhookDeliveryDTO{ID: d.ID, EventID: d.EventID, EventType: d.EventType, ClaimID: optString(d.ClaimID),
		Position: d.Position, Replay: d.Replay, State: d.State, AttemptCount: d.Attempts, NextAttemptAt: d.NextAttemptAt,
		LastStatusCode: optInt(d.LastStatus), LastError: optString(d.LastError), LastLatencyMS: d.LastLatency.Milliseconds(),
		CreatedAt: d.CreatedAt, FinishedAt: d.FinishedAt, Attempts: make([]webhookAttemptDTO, len(d.History))}
	for i, a := range d.History {
		out.Attempts[i] = webhookAttemptDTO{N: a.N, At: a.At, StatusCode: optInt(a.Status), LatencyMS: a.Latency.Milliseconds(),
			Error: optString(a.Error), Response: optString(a.Response)}
	}
	return out
}
