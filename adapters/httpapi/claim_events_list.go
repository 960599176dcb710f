package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
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
	out := listResponse[eventDTO]{Data: make([]eventDTO, 0, len(events))}
	for i, ev := range events {
		d := eventDTO{Seq: i + 1, Type: ev.Type, To: ev.To.String(), Actor: actorDTO{Kind: ev.Actor.Kind, ID: ev.Actor.ID},
			Note: ev.Note, Data: ev.Data, At: ev.At}
		if from := ev.From.String(); from != "" {
			d.From = &from
		}
		out.Data = append(out.Data, d)
	}
	return c.JSON(http.StatusOK, out)
}
