package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

type actorDTO struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

type eventDTO struct {
	Seq   int            `json:"seq"`
	Type  string         `json:"type"`
	From  *string        `json:"from"`
	To    string         `json:"to"`
	Actor actorDTO       `json:"actor"`
	Note  string         `json:"note,omitempty"`
	Data  map[string]any `json:"data,omitempty"`
	At    time.Time      `json:"at"`
}

func (a *api) listClaimEvents(c echo.Context) error {
	events, err := a.Claims.Events(c.Request().Context(), viewer(c), c.Param("id"))
	if err != nil {
		return err
	}
	v := viewer(c)
	out := listResponse[eventDTO]{Data: make([]eventDTO, 0, len(events))}
	for i, ev := range events {
		d, ok := newEventDTO(i+1, ev, v)
		if ok {
			out.Data = append(out.Data, d)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// newEventDTO renders a timeline event for its viewer; ok is false for an
// event the viewer does not see. Staff see everything. A shopper sees
// neither the seller's chargeback nor who at the platform acted or what
// they noted (the outcome's reason is on the claim). A seller sees
// neither the shopper's identity nor the agents' notes, except on their
// chargeback, which is addressed to them.
func newEventDTO(seq int, ev claim.Event, v claimflow.Viewer) (eventDTO, bool) {
	d := eventDTO{Seq: seq, Type: ev.Type, To: ev.To.String(), Actor: actorDTO{Kind: ev.Actor.Kind, ID: ev.Actor.ID},
		Note: ev.Note, Data: ev.Data, At: ev.At}
	if from := ev.From.String(); from != "" {
		d.From = &from
	}
	if isStaff(v) {
		return d, true
	}
	chargeback := strings.HasPrefix(ev.Type, "chargeback_") || strings.HasPrefix(ev.Type, "contest_")
	self := ev.Actor.Kind == v.Role && ev.Actor.ID == v.Subject
	switch {
	case v.IsShopper() && chargeback:
		return eventDTO{}, false
	case self, ev.Actor.Kind == claim.SystemActor.Kind:
	case v.IsSeller() && chargeback:
		d.Actor.ID = ""
	default:
		d.Actor.ID, d.Note, d.Data = "", "", nil
	}
	return d, true
}
