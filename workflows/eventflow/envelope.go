package eventflow

import (
	"encoding/json"
	"fmt"
	"time"
)

// envelope is an event as it leaves the engine, on every channel: the
// same bytes on the stream and in a webhook's body.
type envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	Position  int64           `json:"position"`
	SubjectID string          `json:"subject_id"`
	ClaimID   string          `json:"claim_id,omitempty"`
	Sequence  int             `json:"sequence,omitempty"`
	Data      json.RawMessage `json:"data"`
}

// Envelope renders e as it is sent out:
//
//	{"id":"evt_clm_…_3","type":"claim.refunded","created_at":"2026-12-07T10:00:00Z",
//	 "position":42,"subject_id":"clm_…","claim_id":"clm_…","sequence":3,"data":{…}}
//
// claim_id and sequence are there for a claim's events only; data is null
// when the event carries none.
func Envelope(e Event) ([]byte, error) {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	b, err := json.Marshal(envelope{ID: e.ID, Type: e.Type, CreatedAt: e.CreatedAt.UTC(), Position: e.Position,
		SubjectID: e.SubjectID, ClaimID: e.ClaimID, Sequence: e.Sequence, Data: data})
	if err != nil {
		return nil, fmt.Errorf("envelope of event %s: %w", e.ID, err)
	}
	return b, nil
}
