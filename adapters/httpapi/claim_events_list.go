package httpapi

import (
	"net/http"
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

// newEventDTO renders a timeline event for its viewer through claimflow's
// one rule (Viewer.Event); ok is false for an event the viewer does not
// see.
func newEventDTO(seq int, ev claim.Event, v claimflow.Viewer) (eventDTO, bool) {
	ev, ok := v.Event(ev)
	if !ok {
		return eventDTO{}, false
	}
	d := eventDTO{Seq: seq, Type: ev.Type, To: ev.To.String(), Actor: actorDTO{Kind: ev.Actor.Kind, ID: ev.Actor.ID},
		Note: ev.Note, Data: ev.Data, At: ev.At}
	if from := ev.From.String(); from != "" {
		d.From = &from
	}
	return d, true
}
