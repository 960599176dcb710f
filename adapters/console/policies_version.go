package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// backtestsShown is how many of a version's backtests its page lists.
const backtestsShown = 20

type policyData struct {
	V       policyflow.Version
	Changes []changeView
	// Against is the version the diff compares with; Others are the
	// versions to choose from.
	Against   string
	AgainstOK bool
	Others    []option
	Diff      []diffRow
	DiffNote  string
	DiffErr   string
	Backtests []policyflow.Backtest
	// Form is the backtest form; Reasons and DecidedBy its choices.
	Form      formState
	Reasons   []typeChoice
	DecidedBy []option
	Done      string
	Conflict  string
	// What may be done with the version as it stands.
	CanShadow, CanStopShadow, CanActivate bool
	// ShadowURL is its shadow report, when it is or was in shadow.
	ShadowURL string
}

// changeView is one entry of a version's audit trail.
type changeView struct {
	At             time.Time
	What           string
	From, To       string
	Actor          string
	Other          string // another version the entry names: the one replaced, or the one that replaced this
	OtherIsReplace bool   // Other replaced this version
}

// diffRow is one setting that differs: its path and its value on each
// side ("absent" where a side has none).
type diffRow struct {
	Path, Was, Now string
}

// changeActions name the audit trail's actions.
var changeActions = map[string]string{
	policyflow.ActionCreated:       "Created",
	policyflow.ActionSeeded:        "Seeded as the first active version",
	policyflow.ActionActivated:     "Activated",
	policyflow.ActionRetired:       "Retired",
	policyflow.ActionShadowStarted: "Put in shadow",
	policyflow.ActionShadowStopped: "Taken out of shadow",
}

// policyDone are the notices after a form on a version's page.
var policyDone = map[string]string{
	"created":        "The version is stored as a draft. Backtest it below, or put it in shadow to see what it decides on new claims.",
	"shadow_started": "The version is in shadow: it decides every new claim beside the active version, recorded and never acted on.",
	"shadow_stopped": "The version is out of shadow; what it decided while it was stays in its shadow report.",
	"activated":      "The version is active: it decides every new claim from now on, in every engine process within seconds.",
}

// policyPage shows a version: its document, audit trail, the diff with the
// active version (or the one chosen), its backtests and what may be done
// with it.
func (c *console) policyPage(ec echo.Context) error {
	d, err := c.loadPolicy(ec, ec.QueryParam("against"), c.backtestDefaults())
	if err != nil {
		return err
	}
	d.Done = policyDone[ec.QueryParam("done")]
	status := http.StatusOK
	if d.DiffErr != "" {
		status = http.StatusBadRequest
	}
	return c.render(ec, status, "policy", pageData{Title: "Policy " + d.V.Version, Data: d})
}

// backtestDefaults fills the backtest form with the last 30 days.
func (c *console) backtestDefaults() formState {
	form := newFormState()
	today := c.Now().UTC().Truncate(24 * time.Hour)
	form.Values["from"] = today.AddDate(0, 0, -30).Format(time.DateOnly)
	form.Values["to"] = today.Format(time.DateOnly)
	return form
}

func (c *console) loadPolicy(ec echo.Context, against string, form formState) (*policyData, error) {
	ctx := ec.Request().Context()
	v, changes, err := c.Policies.Get(ctx, ec.Param("version"))
	if err != nil {
		return nil, err
	}
	vs, err := c.Policies.List(ctx)
	if err != nil {
		return nil, err
	}
	bts, err := c.Policies.Backtests(ctx, v.Version, backtestsShown)
	if err != nil {
		return nil, err
	}
	d := &policyData{V: v, Against: against, Backtests: bts, Form: form}
	for _, ch := range changes {
		d.Changes = append(d.Changes, newChangeView(v.Version, ch))
	}
	d.DecidedBy = []option{{Value: "", Label: "Any version"}}
	active := ""
	for _, o := range vs {
		if o.Status == policylab.StatusActive {
			active = o.Version
		}
		d.DecidedBy = append(d.DecidedBy, option{Value: o.Version, Label: o.Version})
		if o.Version == v.Version {
			continue
		}
		label := o.Version
		if o.Status != policylab.StatusDraft {
			label += " (" + strings.ToLower(policyStatusLabel(o.Status.String())) + ")"
		}
		d.Others = append(d.Others, option{Value: o.Version, Label: label})
	}
	d.reasons(ec)
	switch v.Status {
	case policylab.StatusShadow:
		d.CanStopShadow, d.CanActivate = true, true
	case policylab.StatusDraft, policylab.StatusRetired:
		d.CanShadow, d.CanActivate = true, true
	}
	if v.Status == policylab.StatusShadow || !v.ShadowAt.IsZero() {
		d.ShadowURL = policyPath(v.Version) + "/shadow"
	}
	if against == "" {
		d.Against = active
		if active == v.Version {
			// The active version is compared with the one it replaced.
			for _, ch := range changes {
				if ch.Version == v.Version && ch.Action == policyflow.ActionActivated && ch.Replaced != "" {
					d.Against = ch.Replaced
				}
			}
		}
	}
	d.AgainstOK = d.Against != "" && slices.ContainsFunc(d.Others, func(o option) bool { return o.Value == d.Against })
	switch d.Against {
	case v.Version:
		d.DiffNote = "A version does not differ from itself: choose another version to compare it with."
		if against == "" {
			d.DiffNote = "This is the active version, and it replaced none: choose a version to compare it with."
		}
	case "":
		d.DiffNote = "No version is active, so there is nothing to compare with by default: choose a version."
	default:
		if err := d.diff(ec, c.Policies); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// reasons are the backtest form's reason checkboxes, those sent ticked.
func (d *policyData) reasons(ec echo.Context) {
	var ticked []string
	if ec.Request().Method == http.MethodPost {
		ticked = formList(ec, "reasons")
	}
	for _, r := range claim.Reasons {
		d.Reasons = append(d.Reasons, typeChoice{ID: "backtest-reason-" + strings.ReplaceAll(r.String(), "_", "-"), Value: r.String(),
			Label: words(r.String()), Checked: slices.Contains(ticked, r.String())})
	}
}

// diff compares the version with d.Against: the settings that differ, as
// the against version has them and as this one does.
func (d *policyData) diff(ec echo.Context, svc *policyflow.Service) error {
	_, _, entries, err := svc.Diff(ec.Request().Context(), d.V.Version, d.Against)
	var nf *claimflow.NotFoundError
	switch {
	case errors.As(err, &nf) && nf.Field == "against":
		d.DiffErr = "Compare with: there is no version " + d.Against + "."
		d.AgainstOK = false
		return nil
	case err != nil:
		return err
	}
	for _, e := range entries {
		d.Diff = append(d.Diff, diffRow{Path: e.Path, Was: jsonValue(e.From), Now: jsonValue(e.To)})
	}
	if len(d.Diff) == 0 {
		d.DiffNote = "No setting differs: the two documents decide alike, only their versions differ."
	}
	return nil
}

// jsonValue writes a diff's value: the JSON as the document has it,
// "absent" where the side has none.
func jsonValue(raw json.RawMessage) string {
	if raw == nil {
		return "absent"
	}
	return string(raw)
}

func newChangeView(version string, ch policyflow.Change) changeView {
	v := changeView{At: ch.At, From: policyStatusLabel(ch.From), To: policyStatusLabel(ch.To), Actor: ch.Actor}
	if ch.From == "" {
		v.From = ""
	}
	what, ok := changeActions[ch.Action]
	if !ok {
		what = words(ch.Action)
	}
	v.What = what
	switch {
	case ch.Version != version:
		// Another version's entry that names this one: it replaced it.
		v.Other, v.OtherIsReplace = ch.Version, true
		v.From, v.To = "", ""
	case ch.Replaced != "":
		v.Other = ch.Replaced
	}
	return v
}

// formList is a form's repeated field, values trimmed, empties left out.
func formList(ec echo.Context, name string) []string {
	params, err := ec.FormParams()
	if err != nil {
		return nil
	}
	var out []string
	for _, v := range params[name] {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// policyRender shows a version's page again with what a form left: the
// backtest form as it was sent, or a conflict.
func (c *console) policyRender(ec echo.Context, status int, form formState, conflict string) error {
	d, err := c.loadPolicy(ec, "", form)
	if err != nil {
		return err
	}
	d.Conflict = conflict
	title := "Policy " + d.V.Version
	if status >= 400 {
		title = "Error: " + title
	}
	return c.render(ec, status, "policy", pageData{Title: title, Data: d})
}

// policyShadowStartPost puts the version in shadow, taking out the one
// that was.
func (c *console) policyShadowStartPost(ec echo.Context) error {
	_, err := c.Policies.StartShadow(ec.Request().Context(), viewerOf(ec), ec.Param("version"))
	return c.policyChanged(ec, err, "shadow_started")
}

// policyShadowStopPost takes the version out of shadow.
func (c *console) policyShadowStopPost(ec echo.Context) error {
	_, err := c.Policies.StopShadow(ec.Request().Context(), viewerOf(ec), ec.Param("version"))
	return c.policyChanged(ec, err, "shadow_stopped")
}

// policyChanged answers a change of status: back to the version's page
// with done's notice, or the page with why nothing changed.
func (c *console) policyChanged(ec echo.Context, err error, done string) error {
	if err == nil {
		return ec.Redirect(http.StatusSeeOther, policyPath(ec.Param("version"))+"?done="+done)
	}
	var ce *policyflow.ConflictError
	if errors.As(err, &ce) {
		return c.policyRender(ec, http.StatusConflict, c.backtestDefaults(), "Nothing changed: "+ce.Message+".")
	}
	return err
}
