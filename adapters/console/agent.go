package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/standingflow"
)

// agentRoutes registers the agents' pages: the review queue, a claim with
// everything that explains it, and the forms that act on it. Admins may
// look; only agents act.
func (c *console) agentRoutes() {
	viewers := []claimflow.Role{RoleAgent, RoleAdmin}
	c.get("/console/queue", c.queuePage, viewers...)
	// Finance reads claims too (its pages link here), as the API lets it;
	// only agents act.
	c.get("/console/claims/:id", c.claimPage, RoleAgent, RoleFinance, RoleAdmin)
	c.post("/console/claims/:id/override", c.overridePost, RoleAgent)
	c.post("/console/claims/:id/contest-resolution", c.contestResolutionPost, RoleAgent)
	c.addNav("Review queue", "/console/queue", viewers...)
	c.home[RoleAgent], c.home[RoleAdmin] = "/console/queue", "/console/queue"
}

func viewerOf(ec echo.Context) claimflow.Viewer {
	s := ec.Get(sessionKey).(*session)
	return claimflow.Viewer{Role: s.Role, Subject: s.Subject}
}

// ---- the review queue ----

type option struct {
	Value, Label string
}

type queueRow struct {
	ID, Status, Reason, SellerID, ShopperID string
	Amount                                  money.Money
	Waiting                                 string // why it waits, in a sentence
	RefundFailed                            bool
	Deadline, Escalated, Created            time.Time
	Overdue                                 bool
}

// contestRow is a contested charge waiting for an agent.
type contestRow struct {
	ID, SellerID string
	Amount       money.Money
	Protected    bool
	ContestedAt  time.Time
}

type queueData struct {
	Values  map[string]string // the filters as typed
	Errors  map[string]string
	Reasons []option
	Rows    []queueRow
	Now     time.Time
	NextURL string
	Paged   bool // not the first page

	// Contests are the contested charges to settle, protected first.
	Contests     []contestRow
	MoreContests bool
}

// queuePage lists claims waiting for a person, earliest deadline first,
// with the API's filters; amounts are typed in major units of the
// currency.
// queueMessage words a problem with the queue's filter for the form,
// where the reason is picked from a list and amounts are typed in the
// currency's main unit.
func queueMessage(e *validation.Error) string {
	switch e.Code {
	case "invalid_reason":
		return "must be one of the listed reasons"
	case "invalid_currency":
		return "must be a currency code such as EUR"
	case "currency_required":
		return "is needed to filter by amount"
	case "invalid_range":
		return "must not be more than the maximum amount"
	case "invalid_cursor":
		return "is not a page this console made; start from the first page"
	}
	return e.Message
}

func (c *console) queuePage(ec echo.Context) error {
	q := ec.QueryParams()
	d := queueData{Values: map[string]string{}, Errors: map[string]string{}, Now: c.Claims.Now()}
	for _, k := range []string{"reason", "seller_id", "currency", "min_amount", "max_amount"} {
		d.Values[k] = strings.TrimSpace(q.Get(k))
	}
	for _, r := range claim.Reasons {
		d.Reasons = append(d.Reasons, option{Value: r.String(), Label: words(r.String())})
	}
	f, errs := claimflow.QueueQuery{Reason: d.Values["reason"], SellerID: d.Values["seller_id"], Currency: d.Values["currency"],
		MinAmount: d.Values["min_amount"], MaxAmount: d.Values["max_amount"], Limit: q.Get("limit"), Cursor: q.Get("cursor"),
		Typed: true}.Parse()
	for _, e := range errs {
		d.Errors[e.Field] = fieldLabel(e.Field) + " " + queueMessage(e)
	}
	d.Values["currency"] = strings.ToUpper(d.Values["currency"])
	d.Paged = q.Get("cursor") != ""
	if len(d.Errors) > 0 {
		return c.render(ec, http.StatusBadRequest, "queue", pageData{Title: "Review queue", Data: d})
	}
	recs, next, err := c.Claims.ReviewQueue(ec.Request().Context(), f)
	if err != nil {
		return err
	}
	for _, r := range recs {
		d.Rows = append(d.Rows, newQueueRow(r, d.Now))
	}
	contests, more, err := c.Claims.ContestQueue(ec.Request().Context(), viewerOf(ec), contestsShown)
	if err != nil {
		return err
	}
	d.MoreContests = more
	for _, r := range contests {
		cb := r.Claim.Chargeback()
		row := contestRow{ID: r.Claim.ID(), SellerID: r.Claim.SellerID(), Amount: r.Claim.Amount(), Protected: cb.Protected}
		if cb.Contest != nil {
			row.ContestedAt = cb.Contest.At
		}
		d.Contests = append(d.Contests, row)
	}
	if next != nil {
		v := url.Values{}
		for k, s := range d.Values {
			if s != "" {
				v.Set(k, s)
			}
		}
		if q.Get("limit") != "" {
			v.Set("limit", q.Get("limit"))
		}
		v.Set("cursor", next.String())
		d.NextURL = "/console/queue?" + v.Encode()
	}
	return c.render(ec, http.StatusOK, "queue", pageData{Title: "Review queue", Data: d})
}

// contestsShown is how many contested charges the queue page lists.
const contestsShown = 50

func newQueueRow(r claimflow.Record, now time.Time) queueRow {
	cl := r.Claim
	row := queueRow{
		ID: cl.ID(), Status: cl.Status().String(), Reason: cl.Reason().String(), SellerID: cl.SellerID(),
		ShopperID: cl.ShopperID(), Amount: cl.Amount(), Deadline: cl.ReviewDeadline(), Escalated: cl.EscalatedAt(),
		Created: cl.CreatedAt(), Overdue: cl.ReviewDue(now),
	}
	switch f := cl.Failure(); {
	case cl.Status() == claim.StatusRefundFailed:
		row.RefundFailed, row.Waiting = true, "The refund failed: "+f.Reason
	case len(r.Decision.Reasons) > 0:
		// Every review reason ends by saying a person will review the
		// claim; in the queue that goes without saying.
		row.Waiting = r.Decision.Reasons[0].Decided()
	default:
		row.Waiting = "The decision sent the claim to a person."
	}
	return row
}

// ---- one claim ----

type fact struct {
	Label, Value string
}

type historyView struct {
	Claims   int
	ByStatus []fact
	Refunded []money.Money
	Recent   []claimflow.Record
}

type eventView struct {
	Type, From, To string
	Actor          claim.Actor
	Note           string
	Details        []fact
	At             time.Time
}

// formState is one form as the agent left it: what they typed and what
// is wrong with it.
type formState struct {
	Values map[string]string
	Errors map[string]string
}

func newFormState() formState {
	return formState{Values: map[string]string{}, Errors: map[string]string{}}
}

// ErrorList is the form's errors in a stable order, for the summary.
func (f formState) ErrorList() []fact {
	var out []fact
	for k, v := range f.Errors {
		out = append(out, fact{Label: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

type claimData struct {
	Detail      claimflow.Detail
	Claim       *claim.Claim
	Now         time.Time
	Facts       []fact
	Explanation claimflow.Explanation
	Shopper     historyView
	Seller      historyView
	Timeline    []eventView
	Chargeback  claim.Chargeback
	CanAct      bool
	Actions     []option // override actions open in the claim's state
	// CanReject: rejecting is among Actions, so the form asks for the
	// reason the shopper is shown; otherwise it does not.
	CanReject  bool
	Rejections []option
	Contested  bool
	Override   formState
	Resolution formState
	// Done says what the agent just did; Conflict that someone else acted
	// first (or the action no longer fits the claim).
	Done     string
	Conflict string
	// ConflictNote is the note the refused form carried, so it is not
	// lost when the claim no longer offers that form.
	ConflictNote string
	// Reasons are the decision's reasons as they read for the claim as it
	// now stands (see claimflow.Reasons), as the viewer may read them
	// (Viewer.Reasons: the staff sentence for agents and admins only).
	Reasons []decision.Reason
	// Linked is the accounts linked to the shopper's when the claim was
	// decided; nil for viewers who do not see them (Viewer.SeesStaffNotes).
	Linked *linkedView
	// Items are the claimed items, named as the order names them.
	Items []claimflow.ClaimedItem
	// Back is where the page's way back leads: the viewer's start page
	// (the queue for agents, finance's overview for finance).
	Back navItem
	// SellerStanding is the seller's standing now (nil without the
	// standing service); the decision's facts hold the one it read.
	SellerStanding *standingflow.View
	DecidedLevel   standing.Level
	// Verdicts are the brands' rights holders' verdicts on the goods,
	// each with how often its rights holder was borne out; shown when
	// ShowVerdicts (agents and admins, with intelligence mounted).
	Verdicts     []verdictView
	ShowVerdicts bool
	// Files are the evidence files both parties sent; ShowFiles when the
	// console has the evidence service.
	Files     []fileView
	ShowFiles bool
}

// doneMessages are what the page says after each action succeeded.
var doneMessages = map[string]string{
	claimflow.ActionApprove:         "You approved the claim; the refund is on its way.",
	claimflow.ActionReject:          "You rejected the claim; the shopper is told why and what would help.",
	claimflow.ActionRetryRefund:     "The refund is being sent again.",
	claimflow.ActionWaiveChargeback: "You took the charge off the seller; the platform bears it.",
	claimflow.ContestUphold:         "You upheld the charge; the seller still bears it.",
	claimflow.ContestReverse:        "You reversed the charge; it is taken off the seller's balance.",
}

func (c *console) claimPage(ec echo.Context) error {
	d, err := c.loadClaim(ec)
	if err != nil {
		return err
	}
	d.Done = doneMessages[ec.QueryParam("done")]
	return c.renderClaim(ec, http.StatusOK, d)
}

func (c *console) renderClaim(ec echo.Context, status int, d *claimData) error {
	return c.render(ec, status, "claim", pageData{Title: "Claim " + d.Claim.ID(), Data: d})
}

// loadClaim reads the claim with everything an agent needs to decide it.
func (c *console) loadClaim(ec echo.Context) (*claimData, error) {
	v := viewerOf(ec)
	det, err := c.Claims.Detail(ec.Request().Context(), v, ec.Param("id"))
	if err != nil {
		return nil, err
	}
	cl := det.Record.Claim
	d := &claimData{
		Detail: det, Claim: cl, Now: c.Claims.Now(), Explanation: claimflow.Explain(det.Record),
		Shopper: newHistoryView(det.Shopper), Seller: newHistoryView(det.Seller),
		Chargeback: cl.Chargeback(), CanAct: v.Role == RoleAgent,
		Override: newFormState(), Resolution: newFormState(), Back: c.homeOf(v.Role),
	}
	if d.Items, err = c.Claims.ClaimedItems(ec.Request().Context(), v, det.Record); err != nil {
		return nil, err
	}
	d.Reasons = v.Reasons(claimflow.Reasons(det.Record))
	d.DecidedLevel = det.Record.Facts.SellerStanding
	if d.DecidedLevel == "" {
		d.DecidedLevel = standing.LevelStandard
	}
	if c.Standing != nil {
		view, err := c.Standing.Get(ec.Request().Context(), v, cl.SellerID())
		if err != nil {
			return nil, err
		}
		d.SellerStanding = &view
	}
	if c.Intel != nil && (v.Role == RoleAgent || v.Role == RoleAdmin) {
		if d.Verdicts, err = c.claimVerdicts(ec, cl.ID()); err != nil {
			return nil, err
		}
		d.ShowVerdicts = true
	}
	if d.Files, _, err = c.claimFiles(ec.Request().Context(), v, cl.ID(), "/console/claims/"); err != nil {
		return nil, err
	}
	d.ShowFiles = c.Evidence != nil
	d.Facts = factsOf(det.Record)
	if v.SeesStaffNotes() {
		d.Linked = newLinkedView(det.Record.Facts)
	}
	for _, ev := range det.Events {
		d.Timeline = append(d.Timeline, newEventView(ev))
	}
	d.Actions = openActions(cl)
	for _, a := range d.Actions {
		d.CanReject = d.CanReject || a.Value == claimflow.ActionReject
	}
	for _, r := range claim.RejectionReasons {
		d.Rejections = append(d.Rejections, option{Value: r.String(), Label: r.Text()})
	}
	d.Contested = d.Chargeback.Status == claim.ChargebackContested
	return d, nil
}

// openActions are the override actions that fit the claim's state.
func openActions(cl *claim.Claim) []option {
	var out []option
	approve := option{Value: claimflow.ActionApprove, Label: "Approve: refund the shopper"}
	reject := option{Value: claimflow.ActionReject, Label: "Reject: the shopper is told why"}
	switch cl.Status() {
	case claim.StatusInReview:
		out = append(out, approve, reject)
	case claim.StatusRejected:
		out = append(out, approve)
	case claim.StatusRefundFailed:
		out = append(out, option{Value: claimflow.ActionRetryRefund, Label: "Retry the refund"},
			option{Value: claimflow.ActionReject, Label: "Give up the refund and reject: the shopper is told why"})
	}
	if cl.Chargeback().Status.Charged() {
		out = append(out, option{Value: claimflow.ActionWaiveChargeback, Label: "Waive the charge: the platform bears the cost"})
	}
	return out
}

func factsOf(r claimflow.Record) []fact {
	f := r.Facts
	yesNo := map[bool]string{true: "yes", false: "no"}
	delivered := "not delivered"
	if f.DeliveredAt != nil {
		delivered = formatWhen(*f.DeliveredAt)
	}
	return []fact{
		{"Claim reason", words(f.ClaimReason.String())},
		{"Amount claimed", formatMoney(f.Amount)},
		{"Order amount", formatMoney(f.OrderAmount)},
		{"Paid", formatWhen(f.PaidAt)},
		{"Delivered", delivered},
		{"Items already claimed", yesNo[f.ItemsAlreadyClaimed]},
		{"Seller risk score", fmt.Sprintf("%d of 100", f.SellerRiskScore)},
		{"Seller verified", yesNo[f.SellerVerified]},
		{"Seller's counterfeit claims, 90 days", strconv.Itoa(f.SellerCounterfeitClaims90d)},
		{"Shopper's first order", formatWhen(f.ShopperFirstOrderAt)},
		{"Shopper's claims, 90 days", strconv.Itoa(f.ShopperClaims90d)},
		{"Shopper refunded, 90 days", formatMoney(f.ShopperRefunded90d)},
	}
}

// linkedView is the "Linked accounts" panel: other shoppers who shared a
// device, payment fingerprint or shipping address with this one when the
// claim was decided, from the decision's facts snapshot.
type linkedView struct {
	Shoppers int
	Signals  string // "device and shipping address"
	Claims   int
	Refunded money.Money
}

func newLinkedView(f decision.Facts) *linkedView {
	v := &linkedView{Shoppers: f.LinkedShoppers, Claims: f.LinkedClaims90d, Refunded: f.LinkedRefunded90d}
	kinds := make([]string, len(f.LinkedSignals))
	for i, k := range f.LinkedSignals {
		kinds[i] = words(k)
	}
	switch n := len(kinds); n {
	case 0:
	case 1:
		v.Signals = kinds[0]
	default:
		v.Signals = strings.Join(kinds[:n-1], ", ") + " and " + kinds[n-1]
	}
	return v
}

func newHistoryView(h claimflow.History) historyView {
	v := historyView{Claims: h.Claims, Refunded: h.Refunded, Recent: h.Recent}
	for st, n := range h.ByStatus {
		v.ByStatus = append(v.ByStatus, fact{Label: words(st), Value: strconv.Itoa(n)})
	}
	sort.Slice(v.ByStatus, func(i, j int) bool { return v.ByStatus[i].Label < v.ByStatus[j].Label })
	return v
}

func newEventView(ev claim.Event) eventView {
	v := eventView{Type: ev.Type, From: ev.From.String(), To: ev.To.String(), Actor: ev.Actor, Note: ev.Note, At: ev.At}
	data := ev.Data
	// An amount in minor units with its currency reads as money.
	if m, ok := moneyOf(data["amount"], data["currency"]); ok {
		data = maps.Clone(data)
		data["amount"] = m.String()
		delete(data, "currency")
	}
	keys := slices.Sorted(maps.Keys(data))
	for _, k := range keys {
		val := data[k]
		var parts []string
		switch x := val.(type) {
		case []any:
			for _, p := range x {
				parts = append(parts, fmt.Sprint(p))
			}
		case []string:
			parts = x
		default:
			parts = []string{fmt.Sprint(x)}
		}
		for i, p := range parts {
			parts[i] = eventValue(k, p)
		}
		v.Details = append(v.Details, fact{Label: words(k), Value: strings.Join(parts, ", ")})
	}
	return v
}

// eventSlugs are the timeline data whose values are the engine's codes
// (statuses, outcomes, reasons, actions): people read them as words.
var eventSlugs = map[string]bool{
	"action": true, "from": true, "outcome": true, "reason": true, "reasons": true, "rule": true,
	"code": true, "failure_code": true, "chargeback_from": true, "chargeback_to": true,
}

// eventValue is a timeline datum as people read it: a code in words, a
// rejection reason as the sentence the shopper was shown, a time as the
// console writes times; ids and amounts as they are.
func eventValue(key, val string) string {
	switch {
	case key == "reason_code":
		if r, err := claim.ParseRejectionReason(val); err == nil {
			return r.Text()
		}
	case eventSlugs[key]:
		return words(val)
	case key == "deadline" || key == "contest_by":
		if t, err := time.Parse(time.RFC3339, val); err == nil {
			return formatWhen(t)
		}
	}
	return val
}

// moneyOf reads an event's amount (minor units, as JSON gave it back)
// and currency as Money.
func moneyOf(amount, currency any) (money.Money, bool) {
	cur, ok := currency.(string)
	if !ok {
		return money.Money{}, false
	}
	var n int64
	switch a := amount.(type) {
	case int64:
		n = a
	case int:
		n = int64(a)
	case float64:
		if a != math.Trunc(a) || math.Abs(a) > 1<<53 {
			return money.Money{}, false
		}
		n = int64(a)
	case json.Number:
		v, err := a.Int64()
		if err != nil {
			return money.Money{}, false
		}
		n = v
	default:
		return money.Money{}, false
	}
	m, err := money.New(n, cur)
	return m, err == nil
}

// ---- the forms ----

// formKey is the idempotency key the form was rendered with (formKey in
// the templates): a second press of the same form is answered as the
// first and changes nothing again.
func formKey(ec echo.Context) claimflow.Key {
	return claimflow.Key{Door: claimflow.DoorConsole, Value: ec.FormValue("key")}
}

// formVersion reads the claim's version the form was made from.
func formVersion(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil && n > 0
}

// overridePost applies an agent's action. Success shows the claim again
// (post, then redirect, then get); a wrong field, or someone else having
// acted first, shows the claim as it is now with the form as typed.
func (c *console) overridePost(ec echo.Context) error {
	form := newFormState()
	for _, k := range []string{"action", "reason_code", "note", "version"} {
		form.Values[k] = ec.FormValue(k)
	}
	req := claimflow.OverrideRequest{Action: form.Values["action"], ReasonCode: form.Values["reason_code"], Note: form.Values["note"]}
	if req.Action != claimflow.ActionReject {
		req.ReasonCode = "" // the select keeps a value when another action is picked
	}
	version, ok := formVersion(form.Values["version"])
	var err error
	if !ok {
		err = validation.New("version", "required", "is missing from the form: reload the page")
	} else {
		req.Version = version
		_, err = c.Claims.OverrideOnce(ec.Request().Context(), viewerOf(ec), ec.Param("id"), req, formKey(ec))
	}
	if err == nil {
		return ec.Redirect(http.StatusSeeOther, "/console/claims/"+url.PathEscape(ec.Param("id"))+"?done="+url.QueryEscape(req.Action)+"#timeline")
	}
	return c.formFailed(ec, err, func(d *claimData) *formState { return &d.Override }, form)
}

// contestResolutionPost settles a seller's contest: uphold or reverse.
func (c *console) contestResolutionPost(ec echo.Context) error {
	form := newFormState()
	for _, k := range []string{"outcome", "note", "version"} {
		form.Values[k] = ec.FormValue(k)
	}
	version, ok := formVersion(form.Values["version"])
	var err error
	if !ok {
		err = validation.New("version", "required", "is missing from the form: reload the page")
	} else {
		_, err = c.Claims.ResolveContestOnce(ec.Request().Context(), viewerOf(ec), ec.Param("id"),
			claimflow.ResolutionRequest{Outcome: form.Values["outcome"], Note: form.Values["note"], Version: version}, formKey(ec))
	}
	if err == nil {
		return ec.Redirect(http.StatusSeeOther, "/console/claims/"+url.PathEscape(ec.Param("id"))+"?done="+url.QueryEscape(form.Values["outcome"])+"#timeline")
	}
	return c.formFailed(ec, err, func(d *claimData) *formState { return &d.Resolution }, form)
}

// formFailed shows the claim as it is now with the failed form: 422 and
// the field's message for bad input, 409 and what happened for a claim
// that moved on. The version field always carries the claim's version as
// shown, so a second try acts on what the agent now sees.
func (c *console) formFailed(ec echo.Context, err error, which func(*claimData) *formState, form formState) error {
	var ve *validation.Error
	var ce *claimflow.ConflictError
	var status int
	switch {
	case errors.As(err, &ve):
		status = http.StatusUnprocessableEntity
		form.Errors[ve.Field] = fieldLabel(ve.Field) + " " + ve.Message
	case errors.As(err, &ce):
		status = http.StatusConflict
		// Keep the note: the agent may still want it, on the claim as it
		// now is; the decision they picked is for them to make again.
		form.Values = map[string]string{"note": form.Values["note"]}
	case errors.Is(err, claimflow.ErrIdempotencyKeyReused):
		// This very form was sent before with other choices, and that
		// was applied: show the claim as it now is.
		status = http.StatusConflict
		ce = &claimflow.ConflictError{Code: "form_sent_before",
			Message: "this form was already sent with other choices, and those were applied"}
		form.Values = map[string]string{"note": form.Values["note"]}
	default:
		return err
	}
	d, lerr := c.loadClaim(ec)
	if lerr != nil {
		return lerr
	}
	if ce != nil {
		d.ConflictNote = form.Values["note"]
		if ce.Code == "version_conflict" {
			d.Conflict = fmt.Sprintf("Someone else acted on this claim first; here is what it is now: %s, version %d. Nothing you sent was applied; look again and decide.",
				words(d.Claim.Status().String()), d.Claim.Version())
		} else {
			d.Conflict = "That action does not fit the claim as it is now (" + words(d.Claim.Status().String()) + "): " + ce.Message + ". Nothing was changed."
		}
	}
	*which(d) = form
	return c.renderClaim(ec, status, d)
}
