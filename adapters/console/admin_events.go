package console

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/eventflow"
)

// EventsStatus is what the outbound events page reads. pgstore.Store
// implements it.
type EventsStatus interface {
	EventsStatus(ctx context.Context) (eventflow.Status, error)
	EventsAfter(ctx context.Context, position int64, types []string, limit int) ([]eventflow.Event, error)
}

// recentEvents is how many of the latest numbered events the page lists.
const recentEvents = 20

// eventsRoutes registers the administrators' page of outbound events.
func (c *console) eventsRoutes() {
	if c.Events == nil {
		return
	}
	c.get("/console/admin/events", c.adminEventsPage, RoleAdmin)
	c.addNav("Events", "/console/admin/events", RoleAdmin)
}

type adminEventsData struct {
	Status eventflow.Status
	// Lag is how long the oldest event not yet numbered has waited.
	Lag    time.Duration
	Recent []eventflow.Event
}

// adminEventsPage shows how far the relay and each consumer have come,
// and the latest events numbered, newest first.
func (c *console) adminEventsPage(ec echo.Context) error {
	ctx := ec.Request().Context()
	st, err := c.Events.EventsStatus(ctx)
	if err != nil {
		return err
	}
	d := &adminEventsData{Status: st}
	if st.OldestWaiting != nil {
		d.Lag = max(c.Now().Sub(*st.OldestWaiting), 0).Round(time.Millisecond)
	}
	recent, err := c.Events.EventsAfter(ctx, max(st.Last-recentEvents, 0), nil, recentEvents)
	if err != nil {
		return err
	}
	for i := len(recent) - 1; i >= 0; i-- {
		d.Recent = append(d.Recent, recent[i])
	}
	return c.render(ec, http.StatusOK, "admin_events", pageData{Title: "Outbound events", Data: d})
}
