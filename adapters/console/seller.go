package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
	"github.com/claimsd/claimsd/workflows/standingflow"
)

// sellerRoutes registers the sellers' pages: an overview (what they owe,
// the charges they may still contest, the claims against them) and a
// claim as a seller may see it, with the contest form. A seller's
// session subject is their seller id, as a seller token's sub is in the
// API; they see only claims against them, without the shopper's identity
// or evidence links.
func (c *console) sellerRoutes() {
	c.get("/console/seller", c.sellerOverviewPage, RoleSeller)
	c.get("/console/seller/claims/:id", c.sellerClaimPage, RoleSeller)
	c.post("/console/seller/claims/:id/contest", c.sellerContestPost, RoleSeller)
	c.get("/console/seller/statement", c.sellerStatementPage, RoleSeller)
	c.addNav("Overview", "/console/seller", RoleSeller)
	c.addNav("Statement", "/console/seller/statement", RoleSeller)
	c.home[RoleSeller] = "/console/seller"
}

// ---- the overview ----

// sellerClaimsPageSize is how many claims the overview lists per page;
// sellerWindowsShown how many open contest windows it shows at most.
const (
	sellerClaimsPageSize = 25
	sellerWindowsShown   = 50
)

type sellerWindowRow struct {
	ID, Reason string
	Amount     money.Money
	ChargedAt  time.Time
	ContestBy  time.Time
	Left       string
	// Soon is true when less than a day is left.
	Soon bool
	// NotYetCharged: a protected charge the platform carries until it is
	// confirmed; the seller's balance does not hold it.
	NotYetCharged bool
}

type sellerClaimRow struct {
	ID, Status, Reason, Chargeback string
	Amount                         money.Money
	Created                        time.Time
	// Contestable: the charge is open and its window has not closed.
	Contestable bool
	Left        string
	// NotYetCharged: as sellerWindowRow's.
	NotYetCharged bool
}

type sellerOverviewData struct {
	SellerID    string
	Known       bool // the platform has a seller with this id
	Owed        []money.Money
	Windows     []sellerWindowRow
	MoreWindows bool
	Claims      []sellerClaimRow
	Errors      map[string]string
	NextURL     string
	Paged       bool
	// Standing is the seller's standing, explained; nil without one.
	Standing      *standingflow.View
	StandingMeans string
}

// sellerOverviewPage shows what the seller owes, the charges still open
// to contest (soonest end first) and the claims against them, newest
// first, a page at a time.
func (c *console) sellerOverviewPage(ec echo.Context) error {
	ctx := ec.Request().Context()
	v := viewerOf(ec)
	now := c.Claims.Now()
	d := sellerOverviewData{SellerID: v.Subject, Known: true, Errors: map[string]string{}}
	q := ec.QueryParams()
	f := claimflow.ClaimFilter{Limit: sellerClaimsPageSize}
	if s := q.Get("after"); s != "" {
		if validation.CheckID("after", s) != nil {
			d.Errors["after"] = "Page is not a page this console made; start from the first page."
		}
		f.After, d.Paged = s, true
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			d.Errors["limit"] = "Rows per page must be a whole number from 1 to 100."
		}
		f.Limit = n
	}
	if len(d.Errors) > 0 {
		return c.render(ec, http.StatusBadRequest, "seller_overview", pageData{Title: "Your claims", Data: d})
	}

	owed, err := c.Claims.SellerBalance(ctx, v, v.Subject)
	var nf *claimflow.NotFoundError
	switch {
	case errors.As(err, &nf):
		// Signed in with a seller id the platform has not been sent yet:
		// nothing is owed and no claim can be against it.
		d.Known = false
		return c.render(ec, http.StatusOK, "seller_overview", pageData{Title: "Your claims", Data: d})
	case err != nil:
		return err
	}
	d.Owed = owed
	if c.Standing != nil {
		view, err := c.Standing.Get(ctx, v, v.Subject)
		if err != nil {
			return err
		}
		d.Standing = &view
		d.StandingMeans = standingMeans(view.Standing.Level, c.Claims.Policy().Protects(view.Standing.Level))
	}

	windows, more, err := c.Claims.OpenContestWindows(ctx, v, v.Subject, sellerWindowsShown)
	if err != nil {
		return err
	}
	d.MoreWindows = more
	for _, r := range windows {
		cl, cb := r.Claim, r.Claim.Chargeback()
		d.Windows = append(d.Windows, sellerWindowRow{
			ID: cl.ID(), Reason: cl.Reason().String(), Amount: cl.Amount(), ChargedAt: cb.ChargedAt,
			ContestBy: cb.ContestBy, Left: sellerTimeLeft(cb.ContestBy, now), Soon: cb.ContestBy.Sub(now) < 24*time.Hour,
			NotYetCharged: cb.Advanced(),
		})
	}

	recs, next, err := c.Claims.List(ctx, v, f)
	if err != nil {
		return err
	}
	for _, r := range recs {
		cl, cb := r.Claim, r.Claim.Chargeback()
		row := sellerClaimRow{ID: cl.ID(), Status: cl.Status().String(), Reason: cl.Reason().String(),
			Chargeback: cb.Status.String(), Amount: cl.Amount(), Created: cl.CreatedAt(), NotYetCharged: cb.Advanced()}
		if sellerContestable(cb, now) {
			row.Contestable, row.Left = true, sellerTimeLeft(cb.ContestBy, now)
		}
		d.Claims = append(d.Claims, row)
	}
	if next != "" {
		u := url.Values{"after": {next}}
		if q.Get("limit") != "" {
			u.Set("limit", q.Get("limit"))
		}
		d.NextURL = "/console/seller?" + u.Encode() + "#claims"
	}
	return c.render(ec, http.StatusOK, "seller_overview", pageData{Title: "Your claims", Data: d})
}

// sellerContestable reports whether the seller may still contest the charge.
func sellerContestable(cb claim.Chargeback, now time.Time) bool {
	return cb.Status == claim.ChargebackOpen && now.Before(cb.ContestBy)
}

// sellerTimeLeft says how long until t, to the hour (minutes in the last hour):
// "2 d 5 h left", "40 min left".
func sellerTimeLeft(t, now time.Time) string {
	left := t.Sub(now)
	switch {
	case left <= 0:
		return "closed"
	case left < time.Hour:
		return fmt.Sprintf("%d min left", max(1, int(left.Minutes())))
	case left < 24*time.Hour:
		return fmt.Sprintf("%d h left", int(left.Hours()))
	}
	days, hours := int(left.Hours())/24, int(left.Hours())%24
	if hours == 0 {
		return fmt.Sprintf("%d d left", days)
	}
	return fmt.Sprintf("%d d %d h left", days, hours)
}

// ---- one claim, as its seller sees it ----

// sellerClaimView is a claim as claimflow's visibility rule lets its
// seller see it, as the API shows it: no shopper id, no evidence links
// (only what kind of evidence there is), no decision facts, reasons or
// tier, no reason for a failed refund; the outcome is explained in words
// written for sellers. Templates get only this, never the claim itself,
// so nothing else can slip onto the page.
type sellerClaimView struct {
	ID, OrderID, Status, Reason, Description string
	Amount                                   money.Money
	Version                                  int64
	Created                                  time.Time
	Items                                    []claimflow.ClaimedItem // named as the order names them
	EvidenceKinds                            []fact                  // kind, how many
	Outcome, PolicyVersion                   string
	DecidedAt                                time.Time
	// Summary and WhatHelps are claimflow.ExplainToSeller's.
	Summary, WhatHelps string
}

// sellerChargeView is the charge of the claim to its seller.
type sellerChargeView struct {
	Status    string
	Amount    money.Money
	ChargedAt time.Time
	ContestBy time.Time
	Left      string
	Recovery  string
	Contest   *claim.Contest // the seller's own case, links and all
	// The settlement: an agent (not named) or the platform, when and why.
	ResolvedBy string
	ResolvedAt time.Time
	Note       string
	// NotYetCharged: the platform refunded the shopper and carries the
	// charge until it is confirmed; the seller's balance is untouched.
	NotYetCharged bool
}

// sellerEvidenceRow is one evidence line of the contest form.
type sellerEvidenceRow struct {
	N         int
	Kind, URL fieldView
}

type sellerClaimData struct {
	Claim    sellerClaimView
	Charge   *sellerChargeView // nil until the seller is charged
	Timeline []eventView
	// CanContest: the form is shown.
	CanContest bool
	Form       formState
	Evidence   []sellerEvidenceRow
	Kinds      []option
	Done       string
	Conflict   string
	// Files are the seller's own contest files (never the shopper's);
	// Uploads the limits of the form that adds them, nil when the charge
	// takes none (not open or contested, or no evidence service); Upload
	// what became of the files just sent.
	Files   []fileView
	Uploads *uploadView
	Upload  *noticeView
}

// sellerEvidenceLines is how many evidence links the contest form offers.
const sellerEvidenceLines = 3

var sellerEvidenceKinds = []option{
	{Value: "document", Label: "Document"},
	{Value: "photo", Label: "Photo"},
	{Value: "video", Label: "Video"},
	{Value: "link", Label: "Other link"},
}

func (c *console) sellerClaimPage(ec echo.Context) error {
	d, err := c.loadSellerClaim(ec)
	if err != nil {
		return err
	}
	if ec.QueryParam("done") == "contested" {
		d.Done = "Your contest is recorded. An agent will look at it and settle the charge; you will see the outcome here."
	}
	return c.render(ec, http.StatusOK, "seller_claim", pageData{Title: "Claim " + d.Claim.ID, Data: d})
}

// loadSellerClaim reads the claim and its timeline as the signed-in
// seller may see them: another seller's claim is not found.
func (c *console) loadSellerClaim(ec echo.Context) (*sellerClaimData, error) {
	ctx := ec.Request().Context()
	v := viewerOf(ec)
	rec, err := c.Claims.Get(ctx, v, ec.Param("id"))
	if err != nil {
		return nil, err
	}
	evs, err := c.Claims.Events(ctx, v, rec.Claim.ID())
	if err != nil {
		return nil, err
	}
	now := c.Claims.Now()
	d := &sellerClaimData{Claim: newSellerClaimView(rec, now), Form: newFormState(), Kinds: sellerEvidenceKinds}
	if d.Claim.Items, err = c.Claims.ClaimedItems(ctx, v, rec); err != nil {
		return nil, err
	}
	for _, ev := range evs {
		if ev, ok := v.Event(ev); ok {
			d.Timeline = append(d.Timeline, newEventView(ev))
		}
	}
	cb := rec.Claim.Chargeback()
	if cb.Status != claim.ChargebackNone {
		d.Charge = newSellerChargeView(rec.Claim, cb, now)
	}
	d.CanContest = sellerContestable(cb, now)
	d.Evidence = sellerEvidenceRows(d.Form)
	if d.Files, d.Uploads, err = c.claimFiles(ctx, v, rec.Claim.ID(), "/console/seller/claims/"); err != nil {
		return nil, err
	}
	if cb.Status != claim.ChargebackOpen && cb.Status != claim.ChargebackContested {
		d.Uploads = nil
	}
	d.Upload = c.uploadNoticeOf(ec, rec.Claim.ID())
	return d, nil
}

func newSellerClaimView(r claimflow.Record, now time.Time) sellerClaimView {
	cl := r.Claim
	ex := claimflow.ExplainToSeller(r, now)
	v := sellerClaimView{
		ID: cl.ID(), OrderID: cl.OrderID(), Status: cl.Status().String(), Reason: cl.Reason().String(),
		Description: cl.Description(), Amount: cl.Amount(), Version: cl.Version(), Created: cl.CreatedAt(),
		Outcome: r.Decision.Outcome.String(), PolicyVersion: r.Decision.PolicyVersion,
		DecidedAt: r.DecidedAt, Summary: ex.Summary, WhatHelps: ex.WhatHelps,
	}
	counts := map[string]int{}
	var kinds []string
	for _, ev := range cl.Evidence() {
		if counts[ev.Kind] == 0 {
			kinds = append(kinds, ev.Kind)
		}
		counts[ev.Kind]++
	}
	for _, k := range kinds {
		v.EvidenceKinds = append(v.EvidenceKinds, fact{Label: k, Value: strconv.Itoa(counts[k])})
	}
	return v
}

func newSellerChargeView(cl *claim.Claim, cb claim.Chargeback, now time.Time) *sellerChargeView {
	v := &sellerChargeView{Status: cb.Status.String(), Amount: cl.Amount(), ChargedAt: cb.ChargedAt,
		ContestBy: cb.ContestBy, Recovery: cb.Recovery, Contest: cb.Contest,
		ResolvedAt: cb.ResolvedAt, Note: cb.Note, NotYetCharged: cb.Advanced()}
	if sellerContestable(cb, now) {
		v.Left = sellerTimeLeft(cb.ContestBy, now)
	}
	if !cb.ResolvedAt.IsZero() {
		// Sellers see that an agent decided, not who, as in the API.
		v.ResolvedBy = "an agent"
		if cb.ResolvedBy.Kind != string(RoleAgent) {
			v.ResolvedBy = "the platform"
		}
	}
	return v
}

// sellerEvidenceRows are the contest form's evidence lines as typed.
func sellerEvidenceRows(f formState) []sellerEvidenceRow {
	rows := make([]sellerEvidenceRow, sellerEvidenceLines)
	for i := range rows {
		n := i + 1
		rows[i] = sellerEvidenceRow{N: n,
			Kind: newField("contest", sellerKindField(n), fmt.Sprintf("Kind of evidence %d", n), "", f.Values, f.Errors),
			URL:  newField("contest", sellerURLField(n), fmt.Sprintf("Evidence link %d", n), "", f.Values, f.Errors),
		}
	}
	return rows
}

func sellerKindField(n int) string { return "evidence_kind_" + strconv.Itoa(n) }
func sellerURLField(n int) string  { return "evidence_url_" + strconv.Itoa(n) }

// sellerContestPost records the seller's contest of the charge. Success
// shows the claim again (post, redirect, get); bad input shows the form
// as typed with the field named (422); a charge that can no longer be
// contested shows why (409). Nothing changes unless the contest is
// recorded.
func (c *console) sellerContestPost(ec echo.Context) error {
	id := ec.Param("id")
	form := newFormState()
	form.Values["statement"] = ec.FormValue("statement")
	req := claimflow.ContestRequest{Statement: form.Values["statement"]}
	var rowOf []int // the form row of each evidence link sent
	for n := 1; n <= sellerEvidenceLines; n++ {
		kind, link := strings.TrimSpace(ec.FormValue(sellerKindField(n))), strings.TrimSpace(ec.FormValue(sellerURLField(n)))
		form.Values[sellerKindField(n)], form.Values[sellerURLField(n)] = kind, link
		if link == "" {
			continue // an empty line is a link not given
		}
		req.Evidence = append(req.Evidence, claim.Evidence{Kind: kind, URL: link})
		rowOf = append(rowOf, n)
	}
	_, err := c.Claims.ContestOnce(ec.Request().Context(), viewerOf(ec), id, req, formKey(ec))
	if err == nil {
		return ec.Redirect(http.StatusSeeOther, "/console/seller/claims/"+url.PathEscape(id)+"?done=contested#charge")
	}
	var ve *validation.Error
	var ce *claimflow.ConflictError
	var status int
	switch {
	case errors.As(err, &ve):
		status = http.StatusUnprocessableEntity
		field, label := sellerContestField(ve.Field, rowOf)
		form.Errors[field] = label + " " + ve.Message
	case errors.As(err, &ce):
		status = http.StatusConflict
	case errors.Is(err, claimflow.ErrIdempotencyKeyReused):
		// This very form was sent before with another statement, and that
		// contest was recorded.
		status = http.StatusConflict
		ce = &claimflow.ConflictError{Code: "already_contested", Message: "this form was already sent, and that contest was recorded"}
	default:
		return err // not found (another seller's claim) and the rest
	}
	d, lerr := c.loadSellerClaim(ec)
	if lerr != nil {
		return lerr
	}
	if ce != nil {
		d.Conflict = sellerContestConflict(ce)
	} else {
		d.Form = form
		d.Evidence = sellerEvidenceRows(form)
	}
	return c.render(ec, status, "seller_claim", pageData{Title: "Claim " + d.Claim.ID, Data: d})
}

// sellerContestField maps the domain's field path to the form's field and its
// label: "evidence[1].url" is the second link sent, on form row rowOf[1].
func sellerContestField(path string, rowOf []int) (field, label string) {
	if path == "statement" {
		return "statement", "Statement"
	}
	var i int
	var part string
	if _, err := fmt.Sscanf(path, "evidence[%d].%s", &i, &part); err == nil && i >= 0 && i < len(rowOf) {
		n := rowOf[i]
		if part == "kind" {
			return sellerKindField(n), fmt.Sprintf("Kind of evidence %d", n)
		}
		return sellerURLField(n), fmt.Sprintf("Evidence link %d", n)
	}
	return "statement", fieldLabel(path)
}

// sellerContestConflict explains why a contest was refused, and that nothing
// changed.
func sellerContestConflict(ce *claimflow.ConflictError) string {
	var why string
	switch ce.Code {
	case "contest_window_closed":
		why = "The window to contest this charge has closed"
	case "already_contested":
		why = "This charge is already contested; an agent will settle it"
	case "chargeback_settled":
		why = "This charge was already settled"
	case "no_chargeback":
		why = "You have not been charged for this claim"
	default:
		why = "This charge cannot be contested now (" + ce.Message + ")"
	}
	return why + ", so your contest was not recorded. Nothing was changed."
}

// ---- the statement ----

// sellerStatementLines is the most statement lines the page lists; the
// totals always cover the whole period.
const sellerStatementLines = 500

// sellerStatementMaxDays is the longest period the statement page covers.
const sellerStatementMaxDays = 366

type sellerStatementLine struct {
	At                      time.Time
	Category, Kind, ClaimID string
	Description             string
	Amount, Balance         money.Money
}

type sellerStatementTotals struct {
	Currency                                                      string
	Opening, Charges, Reversals, Recoveries, Adjustments, Closing money.Money
}

type sellerStatementData struct {
	Values map[string]string
	Errors map[string]string
	Period finance.Period
	Last   time.Time // the period's last day, as the form shows it
	Known  bool
	Lines  []sellerStatementLine
	More   int // lines left off the page
	Totals []sellerStatementTotals
}

// sellerStatementPage shows the seller's own statement for a period of
// whole UTC days (this month so far by default): what they owed at its
// start, each charge, reversal and recovery with the balance after it,
// and the totals per currency.
func (c *console) sellerStatementPage(ec echo.Context) error {
	v := viewerOf(ec)
	today := c.Claims.Now().Truncate(24 * time.Hour)
	d := sellerStatementData{Values: map[string]string{}, Errors: map[string]string{}, Known: true}
	from := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	last := today
	for _, k := range []string{"from", "to"} {
		d.Values[k] = strings.TrimSpace(ec.QueryParam(k))
		if d.Values[k] == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.Values[k])
		if err != nil {
			d.Errors[k] = map[string]string{"from": "From", "to": "To"}[k] + " must be a date such as 2026-01-31"
			continue
		}
		if ve := validation.CheckDate(k, t, k == "to"); ve != nil {
			d.Errors[k] = map[string]string{"from": "From", "to": "To"}[k] + " " + ve.Message
			continue
		}
		if k == "from" {
			from = t
		} else {
			last = t
		}
	}
	switch {
	case len(d.Errors) > 0:
	case last.Before(from):
		d.Errors["to"] = "To must not be before From"
	case last.Sub(from) >= sellerStatementMaxDays*24*time.Hour:
		d.Errors["to"] = fmt.Sprintf("To must be within %d days of From", sellerStatementMaxDays)
	}
	if d.Values["from"] == "" {
		d.Values["from"] = from.Format(time.DateOnly)
	}
	if d.Values["to"] == "" {
		d.Values["to"] = last.Format(time.DateOnly)
	}
	if len(d.Errors) > 0 {
		return c.render(ec, http.StatusBadRequest, "seller_statement", pageData{Title: "Statement", Data: d})
	}
	p, err := finance.NewPeriod(from, last.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	d.Period, d.Last = p, last
	// The opening balances are in the totals, per currency.
	totals, err := c.Finance.Statement(ec.Request().Context(), v, v.Subject, p, func([]money.Money) error { return nil }, func(l financeflow.StatementLine) error {
		if len(d.Lines) >= sellerStatementLines {
			d.More++
			return nil
		}
		d.Lines = append(d.Lines, sellerStatementLine{At: l.At, Category: string(l.Category), Kind: string(l.Kind),
			ClaimID: l.ClaimID, Description: l.Description, Amount: l.Amount, Balance: l.Balance})
		return nil
	})
	var nf *claimflow.NotFoundError
	switch {
	case errors.As(err, &nf):
		d.Known = false
	case err != nil:
		return err
	}
	for _, t := range totals {
		m := func(n int64) money.Money { return money.Of(n, t.Currency) }
		d.Totals = append(d.Totals, sellerStatementTotals{Currency: t.Currency.String(), Opening: m(t.Opening), Charges: m(t.Charges),
			Reversals: m(t.Reversals), Recoveries: m(t.Recoveries), Adjustments: m(t.Adjustments), Closing: m(t.Closing)})
	}
	return c.render(ec, http.StatusOK, "seller_statement", pageData{Title: "Statement", Data: d})
}
