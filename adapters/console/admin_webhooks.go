package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/domain/webhook"
	"github.com/claimsd/claimsd/workflows/eventflow"
	"github.com/claimsd/claimsd/workflows/webhookflow"
)

// deliveriesShown is how many deliveries an endpoint's page lists at once.
const deliveriesShown = 50

// fromLayouts are what a datetime-local input sends: to the minute, or to
// the second when the browser shows seconds.
var fromLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05"}

// webhooksRoutes registers the administrators' pages of webhook
// endpoints: the list with the form that adds one, each endpoint with its
// deliveries, and the forms that change it.
func (c *console) webhooksRoutes() {
	if c.Webhooks == nil {
		return
	}
	c.get("/console/admin/webhooks", c.adminWebhooksPage, RoleAdmin)
	c.post("/console/admin/webhooks", c.adminWebhooksCreate, RoleAdmin)
	c.get("/console/admin/webhooks/:id", c.adminWebhookPage, RoleAdmin)
	c.post("/console/admin/webhooks/:id/enable", c.adminWebhookEnable, RoleAdmin)
	c.post("/console/admin/webhooks/:id/disable", c.adminWebhookDisable, RoleAdmin)
	c.post("/console/admin/webhooks/:id/reenable", c.adminWebhookReenable, RoleAdmin)
	c.post("/console/admin/webhooks/:id/replay", c.adminWebhookReplay, RoleAdmin)
	c.post("/console/admin/webhooks/:id/secret", c.adminWebhookRotate, RoleAdmin)
	c.post("/console/admin/webhooks/:id/delete", c.adminWebhookDelete, RoleAdmin)
	c.addNav("Webhooks", "/console/admin/webhooks", RoleAdmin)
}

// webhookPath is an endpoint's page.
func webhookPath(id string) string { return "/console/admin/webhooks/" + url.PathEscape(id) }

// typeChoice is one event type's checkbox on the form that adds an
// endpoint.
type typeChoice struct {
	ID, Value, Label string
	Checked          bool
}

// endpointView is an endpoint as the pages show it.
type endpointView struct {
	webhookflow.Endpoint
	// Types names its event types, "all" for "*".
	Types string
	// Reason says why it was disabled, in a sentence's words.
	Reason string
}

func newEndpointView(e webhookflow.Endpoint) endpointView {
	v := endpointView{Endpoint: e, Reason: disabledReason(e.DisabledReason)}
	if len(e.EventTypes) == 1 && e.EventTypes[0] == webhookflow.All {
		v.Types = "all event types"
	} else {
		v.Types = strings.Join(e.EventTypes, ", ")
	}
	return v
}

// disabledReason says why an endpoint was disabled.
func disabledReason(r string) string {
	switch r {
	case webhookflow.ReasonManual:
		return "disabled by hand (an administrator, or the platform through the API)"
	case webhookflow.ReasonGone:
		return "the receiver answered 410 Gone"
	case webhookflow.ReasonFailing:
		return "every attempt failed for " + strconv.Itoa(int(webhook.DisableAfter/(24*time.Hour))) + " days"
	case "":
		return ""
	}
	return words(r)
}

type adminWebhooksData struct {
	Endpoints []endpointView
	Disabled  int
	Form      formState
	Types     []typeChoice
	TypesErr  string
	Done      string
	// EventsURL is the Events page, when it is mounted.
	EventsURL string
}

// webhookTypeChoices are the event types' checkboxes, those in checked
// ticked.
func webhookTypeChoices(checked []string) []typeChoice {
	all := append([]string{webhookflow.All}, eventflow.Types...)
	out := make([]typeChoice, len(all))
	for i, t := range all {
		label := t
		if t == webhookflow.All {
			label = "All event types, those added later too"
		}
		out[i] = typeChoice{ID: "create-type-" + strconv.Itoa(i), Value: t, Label: label}
		for _, x := range checked {
			if x == t {
				out[i].Checked = true
			}
		}
	}
	return out
}

func (c *console) eventsURL() string {
	if c.Events == nil {
		return ""
	}
	return "/console/admin/events"
}

var webhooksDoneMessages = map[string]string{
	"deleted": "The endpoint was deleted, with its deliveries.",
}

// adminWebhooksPage lists the endpoints, disabled ones first to be seen,
// with the form that adds one.
func (c *console) adminWebhooksPage(ec echo.Context) error {
	form := newFormState()
	d, err := c.adminWebhooksData(ec, form, []string{webhookflow.All})
	if err != nil {
		return err
	}
	d.Done = webhooksDoneMessages[ec.QueryParam("done")]
	return c.render(ec, http.StatusOK, "admin_webhooks", pageData{Title: "Webhooks", Data: d})
}

func (c *console) adminWebhooksData(ec echo.Context, form formState, types []string) (*adminWebhooksData, error) {
	eps, err := c.Webhooks.List(ec.Request().Context())
	if err != nil {
		return nil, err
	}
	d := &adminWebhooksData{Form: form, Types: webhookTypeChoices(types), TypesErr: form.Errors["event_types"], EventsURL: c.eventsURL()}
	for _, e := range eps {
		d.Endpoints = append(d.Endpoints, newEndpointView(e))
		if !e.Enabled {
			d.Disabled++
		}
	}
	return d, nil
}

// webhookFieldLabels name the fields of the webhook forms.
var webhookFieldLabels = map[string]string{
	"url":         "URL",
	"description": "Description",
	"event_types": "Event types",
	"from":        "Replay from",
	"confirm":     "Confirmation",
}

// webhookFieldError puts a validation error on its field; an indexed
// field (event_types[2]) goes on its list.
func webhookFieldError(form formState, ve *validation.Error) {
	f := ve.Field
	if i := strings.IndexByte(f, '['); i > 0 {
		f = f[:i]
	}
	label, ok := webhookFieldLabels[f]
	if !ok {
		label = fieldLabel(f)
	}
	form.Errors[f] = label + ": " + ve.Message
}

type webhookSecretData struct {
	Endpoint endpointView
	Secret   string
	// Rotated: the secret replaced another, which signs beside it until
	// PreviousUntil.
	Rotated bool
}

// adminWebhooksCreate adds an endpoint and shows its secret on the page
// it answers with: not redirected, so the secret is in no address, no
// cookie and no later page. A bad field is shown beside it.
func (c *console) adminWebhooksCreate(ec echo.Context) error {
	form := newFormState()
	form.Values["url"] = strings.TrimSpace(ec.FormValue("url"))
	form.Values["description"] = strings.TrimSpace(ec.FormValue("description"))
	params, err := ec.FormParams()
	if err != nil {
		return err
	}
	types := params["event_types"]
	e, err := c.Webhooks.Create(ec.Request().Context(), viewerOf(ec),
		webhookflow.Input{URL: form.Values["url"], Description: form.Values["description"], EventTypes: types})
	var ve *validation.Error
	switch {
	case err == nil:
		by := ec.Get(sessionKey).(*session)
		c.Logger.InfoContext(ec.Request().Context(), "webhook endpoint created", "endpoint", e.ID, "url", e.URL, "by", by.Subject)
		return c.render(ec, http.StatusCreated, "admin_webhook_secret", pageData{Title: "Endpoint added: its secret",
			Data: webhookSecretData{Endpoint: newEndpointView(e), Secret: e.Secret}})
	case errors.As(err, &ve):
		webhookFieldError(form, ve)
		d, lerr := c.adminWebhooksData(ec, form, types)
		if lerr != nil {
			return lerr
		}
		return c.render(ec, http.StatusUnprocessableEntity, "admin_webhooks", pageData{Title: "Error: Webhooks", Data: d})
	}
	return err
}

type adminWebhookData struct {
	Endpoint   endpointView
	Deliveries []deliveryView
	// State filters the deliveries ("" all); States are its choices.
	State  string
	States []option
	Paged  bool
	// NextURL is the page of older deliveries, when there are more.
	NextURL, FirstURL string
	Replay            formState
	Delete            formState
	Done              string
	EventsURL         string
	Now               time.Time
	// ReplayFrom is the replay form's value before it is sent: when the
	// endpoint was disabled, else an hour ago.
	ReplayFrom string
}

// deliveryView is a delivery as the endpoint's page lists it.
type deliveryView struct {
	webhookflow.Delivery
}

// webhookDone are the notices after a form on the endpoint's page.
var webhookDone = map[string]string{
	"enabled":  "The endpoint is enabled: its pending deliveries are sent again from now. Events written while it was disabled are sent only by a replay.",
	"disabled": "The endpoint is disabled. Its pending deliveries are kept, and events written while it is disabled can be replayed once it is enabled again.",
}

// adminWebhookPage shows an endpoint and its deliveries, newest first,
// by page (before) and state.
func (c *console) adminWebhookPage(ec echo.Context) error {
	d, err := c.loadWebhook(ec, newFormState(), newFormState())
	if err != nil {
		return err
	}
	q := ec.QueryParams()
	d.Done = webhookDone[q.Get("done")]
	if q.Get("done") == "replayed" || q.Get("done") == "reenabled" {
		if n, err := strconv.Atoi(q.Get("queued")); err == nil && n >= 0 {
			d.Done = replayedMessage(q.Get("done") == "reenabled", n, q.Get("oldest"))
		}
	}
	return c.render(ec, http.StatusOK, "admin_webhook", pageData{Title: "Webhook " + d.Endpoint.URL, Data: d})
}

// replayedMessage says what a replay queued.
func replayedMessage(reenabled bool, n int, oldest string) string {
	var s string
	if reenabled {
		s = "The endpoint is enabled again. "
	}
	switch n {
	case 0:
		s += "No event of its types was written in that time: nothing was queued."
	case 1:
		s += "1 event was queued again; it goes out by the usual schedule."
	default:
		s += strconv.Itoa(n) + " events were queued again; they go out by the usual schedule, each claim's in order."
	}
	if t, err := time.Parse(time.RFC3339, oldest); err == nil {
		s += " No event older than " + formatWhen(t) + " is kept (CLAIMSD_EVENTS_KEEP), so none from before then could be sent."
	}
	return s
}

func (c *console) loadWebhook(ec echo.Context, replay, del formState) (*adminWebhookData, error) {
	ctx := ec.Request().Context()
	id := ec.Param("id")
	e, err := c.Webhooks.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &adminWebhookData{Endpoint: newEndpointView(e), Replay: replay, Delete: del, EventsURL: c.eventsURL(), Now: c.Now().UTC(),
		States: []option{{Value: "", Label: "Every state"}, {Value: webhookflow.StatePending, Label: "Pending"},
			{Value: webhookflow.StateDelivered, Label: "Delivered"}, {Value: webhookflow.StateFailed, Label: "Failed"}}}
	from := d.Now.Add(-time.Hour)
	if e.DisabledAt != nil {
		from = webhookflow.MissedSince(e)
	}
	d.ReplayFrom = from.UTC().Format(fromLayouts[0])
	q := ec.QueryParams()
	if _, ok := replay.Values["from"]; !ok {
		replay.Values["from"] = d.ReplayFrom
	}
	d.State = q.Get("state")
	var before int64
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 || strings.HasPrefix(s, "+") {
			return nil, validation.New("before", "invalid_before", "must be a delivery number from 1")
		}
		before = n
		d.Paged = true
	}
	ds, err := c.Webhooks.Deliveries(ctx, id, before, d.State, deliveriesShown)
	if err != nil {
		return nil, err
	}
	for _, x := range ds {
		d.Deliveries = append(d.Deliveries, deliveryView{Delivery: x})
	}
	first := url.Values{}
	if d.State != "" {
		first.Set("state", d.State)
	}
	d.FirstURL = webhookPath(id) + "?" + first.Encode() + "#deliveries"
	if len(ds) == deliveriesShown {
		next := url.Values{"before": {strconv.FormatInt(ds[len(ds)-1].ID, 10)}}
		if d.State != "" {
			next.Set("state", d.State)
		}
		d.NextURL = webhookPath(id) + "?" + next.Encode() + "#deliveries"
	}
	return d, nil
}

// setEnabled enables or disables the endpoint, then shows it (post,
// redirect, get).
func (c *console) setEnabled(ec echo.Context, enabled bool) error {
	id := ec.Param("id")
	e, err := c.Webhooks.Update(ec.Request().Context(), id, webhookflow.Patch{Enabled: &enabled})
	if err != nil {
		return err
	}
	by := ec.Get(sessionKey).(*session)
	c.Logger.InfoContext(ec.Request().Context(), "webhook endpoint changed", "endpoint", e.ID, "enabled", enabled, "by", by.Subject)
	done := "disabled"
	if enabled {
		done = "enabled"
	}
	return ec.Redirect(http.StatusSeeOther, webhookPath(e.ID)+"?done="+done)
}

func (c *console) adminWebhookEnable(ec echo.Context) error  { return c.setEnabled(ec, true) }
func (c *console) adminWebhookDisable(ec echo.Context) error { return c.setEnabled(ec, false) }

// adminWebhookReenable enables a disabled endpoint and replays the events
// written since it was disabled.
func (c *console) adminWebhookReenable(ec echo.Context) error {
	ctx := ec.Request().Context()
	id := ec.Param("id")
	e, err := c.Webhooks.Get(ctx, id)
	if err != nil {
		return err
	}
	if e.Enabled || e.DisabledAt == nil {
		// Pressed twice, or enabled meanwhile: show it as it is.
		return ec.Redirect(http.StatusSeeOther, webhookPath(e.ID))
	}
	from := webhookflow.MissedSince(e)
	on := true
	if _, err := c.Webhooks.Update(ctx, id, webhookflow.Patch{Enabled: &on}); err != nil {
		return err
	}
	res, err := c.Webhooks.Replay(ctx, id, from)
	if err != nil {
		return err
	}
	by := ec.Get(sessionKey).(*session)
	c.Logger.InfoContext(ctx, "webhook endpoint re-enabled and replayed", "endpoint", e.ID, "from", from, "queued", res.Queued, "by", by.Subject)
	return ec.Redirect(http.StatusSeeOther, replayedURL(e.ID, "reenabled", from, res))
}

func replayedURL(id, done string, from time.Time, res webhookflow.ReplayResult) string {
	q := url.Values{"done": {done}, "queued": {strconv.Itoa(res.Queued)}}
	if res.OldestKept != nil && from.Before(*res.OldestKept) {
		q.Set("oldest", res.OldestKept.UTC().Format(time.RFC3339))
	}
	return webhookPath(id) + "?" + q.Encode()
}

// adminWebhookReplay queues again the events written since the time
// given (UTC); a time that does not parse, or is later than now, is shown
// beside the field.
func (c *console) adminWebhookReplay(ec echo.Context) error {
	ctx := ec.Request().Context()
	id := ec.Param("id")
	form := newFormState()
	form.Values["from"] = strings.TrimSpace(ec.FormValue("from"))
	var from time.Time
	var err error
	if form.Values["from"] == "" {
		err = validation.New("from", "required", "is required: the date and time (UTC) from which to send the events again")
	} else {
		err = validation.New("from", "invalid_time", "must be a date and time such as 2026-12-07T09:30 (UTC)")
		for _, l := range fromLayouts {
			if t, perr := time.ParseInLocation(l, form.Values["from"], time.UTC); perr == nil {
				from, err = t, nil
				break
			}
		}
	}
	var res webhookflow.ReplayResult
	if err == nil {
		res, err = c.Webhooks.Replay(ctx, id, from)
	}
	var ve *validation.Error
	switch {
	case err == nil:
		by := ec.Get(sessionKey).(*session)
		c.Logger.InfoContext(ctx, "webhook endpoint replayed", "endpoint", id, "from", from, "queued", res.Queued, "by", by.Subject)
		return ec.Redirect(http.StatusSeeOther, replayedURL(id, "replayed", from, res))
	case errors.As(err, &ve):
		webhookFieldError(form, ve)
		d, lerr := c.loadWebhook(ec, form, newFormState())
		if lerr != nil {
			return lerr
		}
		return c.render(ec, http.StatusUnprocessableEntity, "admin_webhook", pageData{Title: "Error: Webhook " + d.Endpoint.URL, Data: d})
	}
	return err
}

// adminWebhookRotate gives the endpoint a new secret and shows it on the
// page it answers with, once.
func (c *console) adminWebhookRotate(ec echo.Context) error {
	e, err := c.Webhooks.RotateSecret(ec.Request().Context(), ec.Param("id"))
	if err != nil {
		return err
	}
	by := ec.Get(sessionKey).(*session)
	c.Logger.InfoContext(ec.Request().Context(), "webhook secret rotated", "endpoint", e.ID, "by", by.Subject)
	return c.render(ec, http.StatusOK, "admin_webhook_secret", pageData{Title: "New secret",
		Data: webhookSecretData{Endpoint: newEndpointView(e), Secret: e.Secret, Rotated: true}})
}

// adminWebhookDelete deletes the endpoint once the box saying so is
// ticked, then lists the others.
func (c *console) adminWebhookDelete(ec echo.Context) error {
	ctx := ec.Request().Context()
	id := ec.Param("id")
	if ec.FormValue("confirm") != "yes" {
		del := newFormState()
		del.Errors["confirm"] = "Tick the box to confirm: deleting cannot be undone."
		d, err := c.loadWebhook(ec, newFormState(), del)
		if err != nil {
			return err
		}
		return c.render(ec, http.StatusUnprocessableEntity, "admin_webhook", pageData{Title: "Error: Webhook " + d.Endpoint.URL, Data: d})
	}
	if err := c.Webhooks.Delete(ctx, id); err != nil {
		return err
	}
	by := ec.Get(sessionKey).(*session)
	c.Logger.InfoContext(ctx, "webhook endpoint deleted", "endpoint", id, "by", by.Subject)
	return ec.Redirect(http.StatusSeeOther, "/console/admin/webhooks?done=deleted")
}
