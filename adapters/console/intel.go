package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

// intelRoutes registers counterfeit intelligence: a brand's counterfeits
// for its rights holders (who record verdicts on them), the cases of
// linked sellers for enforcement, and the access log for admins. Admins
// read everything and act only on the funnel (refer, dismiss). Every read
// goes through intelflow.Service, which records it in the access log.
func (c *console) intelRoutes() {
	if c.Intel == nil {
		return
	}
	holders := []claimflow.Role{RoleRightsHolder, RoleAdmin}
	investigators := []claimflow.Role{RoleEnforcement, RoleAdmin}
	c.get("/console/brands", c.brandsPage, holders...)
	c.get("/console/brands/:id", c.brandPage, holders...)
	c.download(pathBrandCSV, c.brandCSV, holders...)
	c.post("/console/brands/:id/claims/:claim_id/verdict", c.verdictPost, RoleRightsHolder)
	c.brandEvidenceRoutes(holders)
	c.get("/console/cases", c.casesPage, investigators...)
	c.get("/console/cases/:id", c.casePage, investigators...)
	c.download(pathCasePacket, c.casePacket, investigators...)
	c.post("/console/cases/:id/status", c.caseStatusPost, investigators...)
	c.get("/console/intelligence/access-log", c.accessLogPage, RoleAdmin)
	c.addNav("Brands", "/console/brands", holders...)
	c.addNav("Cases", "/console/cases", investigators...)
	c.addNav("Access log", "/console/intelligence/access-log", RoleAdmin)
	c.home[RoleRightsHolder], c.home[RoleEnforcement] = "/console/brands", "/console/cases"
}

// intelContext is the request's context carrying its id, which the
// access log records.
func intelContext(ec echo.Context) echo.Context {
	ctx := intelflow.WithRequestID(ec.Request().Context(), ec.Response().Header().Get(echo.HeaderXRequestID))
	ec.SetRequest(ec.Request().WithContext(ctx))
	return ec
}

// moneysOf turns intelflow's per-currency sums into money; a currency the
// engine does not know (which the store never holds) is left out.
func moneysOf(as []intelflow.Amount) []money.Money {
	out := make([]money.Money, 0, len(as))
	for _, a := range as {
		if m, err := money.New(a.Amount, a.Currency); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// lineMoney is a line's amount as money.
func lineMoney(l intelflow.Line) money.Money {
	m, _ := money.New(l.Amount, l.Currency)
	return m
}

// ---- brands ----

type brandsData struct {
	Brands []intelflow.BrandRef
	Admin  bool
}

func (c *console) brandsPage(ec echo.Context) error {
	v := viewerOf(ec)
	brands, err := c.Intel.Brands(ec.Request().Context(), v)
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "brands", pageData{Title: "Brands",
		Data: brandsData{Brands: brands, Admin: v.Role == RoleAdmin}})
}

// brandLinesShown is how many lines a page of a brand's counterfeits
// lists; the CSV has them all.
const brandLinesShown = 50

// claimView is one claim of a brand's page: its lines of the brand, the
// seller, the shopper's evidence and the rights holder's verdict, with
// the verdict form as the rights holder left it.
type claimView struct {
	ID          string
	SellerID    string
	SellerName  string
	ClaimedAt   time.Time
	ConfirmedAt *time.Time
	Status      string
	Charge      string
	Lines       []intelflow.Line
	Amount      []money.Money
	Evidence    []evidenceLink
	Verdict     *intelflow.Verdict
	Form        formState
	// Open: the form is shown unfolded (it was just refused).
	Open bool
}

type evidenceLink struct{ Kind, URL string }

type brandData struct {
	Brand intelflow.BrandRef
	// Photos: the console serves evidence files, so a confirmed claim
	// links to its shopper's photos.
	Photos    bool
	From, To  time.Time // the period, To excluded
	Last      time.Time // its last day
	Status    string
	Statuses  []option
	Errors    map[string]string
	Totals    intelflow.Totals
	Amounts   []money.Money
	BySeller  []groupView
	BySKU     []groupView
	Chart     finChart
	Claims    []*claimView
	NextURL   string
	FirstURL  string
	Paged     bool
	CSVURL    string
	CanVerify bool
	Done      string
	// Cursor is the page's own, which the verdict forms send back so the
	// person lands on the same page.
	Cursor   string
	Limit    int
	Verdicts []option
}

type groupView struct {
	Key, Name               string
	Claims, Units, Shoppers int64
	Amounts                 []money.Money
}

func groupViews(gs []intelflow.Group) []groupView {
	out := make([]groupView, len(gs))
	for i, g := range gs {
		out[i] = groupView{Key: g.Key, Name: g.Name, Claims: g.Claims, Units: g.Units, Shoppers: g.Shoppers, Amounts: moneysOf(g.Amounts)}
	}
	return out
}

// statusLabels say what each status of a brand's line means, for the
// filter.
var statusLabels = map[string]string{
	intelflow.StatusConfirmed: "Confirmed",
	intelflow.StatusPending:   "Pending: the seller may still contest",
	intelflow.StatusDisputed:  "Disputed: you said genuine",
	intelflow.StatusCleared:   "Cleared: the charge was reversed or waived",
	intelflow.StatusAll:       "All",
}

// brandPath is the brand page's address with its filter and page (limit
// 0: the console's page size).
func brandPath(id, status, cursor string, limit int) string {
	q := url.Values{}
	if status != "" && status != intelflow.StatusConfirmed {
		q.Set("status", status)
	}
	if limit != 0 && limit != brandLinesShown {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	p := "/console/brands/" + url.PathEscape(id)
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// brandQuery reads the page's filter: status (confirmed unless chosen),
// claims a page (brandLinesShown unless asked) and the page's cursor.
func brandQuery(ec echo.Context) intelflow.Query {
	return intelflow.Query{Status: strings.TrimSpace(ec.QueryParam("status")), Cursor: ec.QueryParam("cursor"),
		Limit: pageLimit(ec.QueryParam("limit"))}
}

// pageLimit reads a page size; one that is not a whole number is -1,
// which intelflow.CheckQuery refuses with its range.
func pageLimit(s string) int {
	if s == "" {
		return brandLinesShown
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return -1
	}
	return n
}

func (c *console) brandPage(ec echo.Context) error {
	d, err := c.loadBrand(intelContext(ec), brandQuery(ec), "", formState{})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if len(d.Errors) > 0 {
		status = http.StatusBadRequest
	}
	if ec.QueryParam("done") == "verdict" {
		d.Done = "Your verdict is recorded. Agents read it on the claim; it changes no money."
	}
	return c.renderBrand(ec, status, d)
}

func (c *console) renderBrand(ec echo.Context, status int, d *brandData) error {
	return c.render(ec, status, "brand", pageData{Title: d.Brand.Name + ": counterfeits", Data: d})
}

// loadBrand reads a page of the brand's counterfeits with the period's
// totals. A bad filter is shown next to its field (Errors) and nothing
// else is read but the brand; formClaim's verdict form is shown with form.
func (c *console) loadBrand(ec echo.Context, q intelflow.Query, formClaim string, form formState) (*brandData, error) {
	v := viewerOf(ec)
	ctx := ec.Request().Context()
	id := ec.Param("id")
	d := &brandData{Status: q.Status, Errors: map[string]string{}, CanVerify: v.Role == RoleRightsHolder, Cursor: q.Cursor, Limit: q.Limit,
		Photos: c.Evidence != nil,
		Verdicts: []option{{Value: intel.VerdictCounterfeit.String(), Label: "Counterfeit: not our goods"},
			{Value: intel.VerdictGenuine.String(), Label: "Genuine: our goods"}}}
	if d.Status == "" {
		d.Status = intelflow.StatusConfirmed
	}
	p, err := c.Intel.Counterfeits(ctx, v, id, q)
	var ve *validation.Error
	if errors.As(err, &ve) {
		// The brand is theirs (a brand that is not is not found before
		// the query is checked); say what is wrong with the filter.
		d.Errors[ve.Field] = brandFilterMessage(ve)
		d.Brand = intelflow.BrandRef{ID: id, Name: id}
		if brands, berr := c.Intel.Brands(ctx, v); berr == nil {
			for _, b := range brands {
				if b.ID == id {
					d.Brand = b
				}
			}
		}
		d.statuses()
		return d, nil
	}
	if err != nil {
		return nil, err
	}
	full, _ := intelflow.CheckQuery(q, c.Now())
	d.From, d.To, d.Last = full.From, full.To, full.To.AddDate(0, 0, -1)
	d.Brand = intelflow.BrandRef{ID: p.BrandID, Name: p.BrandName}
	d.Totals = p.Totals
	d.Amounts = moneysOf(p.Totals.Amounts)
	d.BySeller, d.BySKU = groupViews(p.Totals.BySeller), groupViews(p.Totals.BySKU)
	d.Chart = monthChart(p.Totals.ByMonth, d.From, d.To)
	d.statuses()
	d.Claims = claimViews(p.Lines)
	for _, cv := range d.Claims {
		if cv.ID == formClaim {
			cv.Form, cv.Open = form, true
		} else {
			cv.Form = newFormState()
			if cv.Verdict != nil {
				cv.Form.Values["verdict"] = cv.Verdict.Verdict.String()
				cv.Form.Values["note"] = cv.Verdict.Note
				cv.Form.Values["document_url"] = cv.Verdict.DocumentURL
			}
		}
	}
	if p.Next != "" {
		d.NextURL = brandPath(d.Brand.ID, d.Status, p.Next, q.Limit)
	}
	if q.Cursor != "" {
		d.Paged, d.FirstURL = true, brandPath(d.Brand.ID, d.Status, "", q.Limit)
	}
	d.CSVURL = "/console/brands/" + url.PathEscape(d.Brand.ID) + "/counterfeits.csv?" + url.Values{"status": {d.Status}}.Encode()
	return d, nil
}

// statuses fills the status filter's options, each with its count of
// claims over the period.
func (d *brandData) statuses() {
	for _, s := range intelflow.Statuses {
		label := statusLabels[s]
		if n, ok := d.Totals.ByStatus[s]; ok {
			label += fmt.Sprintf(" (%d)", n)
		}
		d.Statuses = append(d.Statuses, option{Value: s, Label: label})
	}
}

// brandFilterMessage words a problem with the brand page's filter.
func brandFilterMessage(e *validation.Error) string {
	switch e.Field {
	case "status":
		return "Status must be one of the listed statuses"
	case "cursor":
		return "This page is not one the console made; start from the first page"
	case "limit":
		return fmt.Sprintf("Claims a page must be a whole number from 1 to %d", intelflow.MaxLimit)
	}
	return fieldLabel(e.Field) + " " + e.Message
}

// claimViews groups a page's lines by claim (a claim's lines are
// adjacent: the page is ordered by claim).
func claimViews(lines []intelflow.Line) []*claimView {
	var out []*claimView
	for _, l := range lines {
		if n := len(out); n == 0 || out[n-1].ID != l.ClaimID {
			cv := &claimView{ID: l.ClaimID, SellerID: l.SellerID, SellerName: l.SellerName, ClaimedAt: l.ClaimedAt,
				ConfirmedAt: l.ConfirmedAt, Status: l.Status, Charge: l.ChargeStatus, Verdict: l.Verdict}
			for _, e := range l.Evidence {
				cv.Evidence = append(cv.Evidence, evidenceLink{Kind: e.Kind, URL: e.URL})
			}
			out = append(out, cv)
		}
		cv := out[len(out)-1]
		cv.Lines = append(cv.Lines, l)
		cv.Amount = addMoney(cv.Amount, lineMoney(l))
	}
	return out
}

// addMoney adds m to the sum of its currency in ms.
func addMoney(ms []money.Money, m money.Money) []money.Money {
	for i, x := range ms {
		if x.Currency() == m.Currency() {
			if sum, err := x.Add(m); err == nil {
				ms[i] = sum
			}
			return ms
		}
	}
	return append(ms, m)
}

// monthChart draws the confirmed claims of each month of [from, to),
// months without any at zero, with a table of the numbers.
func monthChart(months []intelflow.Group, from, to time.Time) finChart {
	byKey := map[string]intelflow.Group{}
	for _, g := range months {
		byKey[g.Key] = g
	}
	var labels []string
	var claims []int64
	tbl := finTable{Heading: "Confirmed counterfeit claims per month", RowHead: "Month", Columns: []string{"Claims", "Units", "Shoppers", "Refunded"}}
	var total int64
	start := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	for m := start; m.Before(to); m = m.AddDate(0, 1, 0) {
		g := byKey[m.Format("2006-01")]
		labels = append(labels, m.Format("Jan 06"))
		claims = append(claims, g.Claims)
		total += g.Claims
		tbl.Rows = append(tbl.Rows, finTableRow{Label: m.Format("Jan 2006"), Cells: []string{strconv.FormatInt(g.Claims, 10),
			strconv.FormatInt(g.Units, 10), strconv.FormatInt(g.Shoppers, 10), formatMoneys(moneysOf(g.Amounts))}})
	}
	ch := barChart{ID: "chart-months", Title: "Confirmed counterfeit claims per month",
		Desc:   fmt.Sprintf("%d confirmed counterfeit claims from %s to %s, by the month they were filed.", total, from.Format("Jan 2006"), to.AddDate(0, 0, -1).Format("Jan 2006")),
		Labels: labels, Series: []barSeries{{Name: "confirmed claims", Class: "s-instant", Values: claims}}}
	return finChart{ID: "chart-months", Heading: "Confirmed claims per month", SVG: ch.SVG(), Table: tbl}
}

// verdictFieldLabels name the verdict form's fields in its messages.
var verdictFieldLabels = map[string]string{"verdict": "Verdict", "note": "Note", "document_url": "Document link"}

// verdictPost records a rights holder's verdict on a claim of their
// brand, then shows the page they sent it from (post, redirect, get). A
// wrong field is shown next to it, with the form as typed, and nothing is
// recorded.
func (c *console) verdictPost(ec echo.Context) error {
	ec = intelContext(ec)
	form := newFormState()
	for _, k := range []string{"verdict", "note", "document_url"} {
		form.Values[k] = ec.FormValue(k)
	}
	form.Values["document_url"] = strings.TrimSpace(form.Values["document_url"])
	status := ec.FormValue("status")
	if !slices.Contains(intelflow.Statuses, status) {
		status = intelflow.StatusConfirmed
	}
	cursor, limit := ec.FormValue("cursor"), pageLimit(ec.FormValue("limit"))
	if limit < 1 || limit > intelflow.MaxLimit {
		limit = brandLinesShown
	}
	brandID, claimID := ec.Param("id"), ec.Param("claim_id")
	_, _, err := c.Intel.PutVerdict(ec.Request().Context(), viewerOf(ec), brandID, claimID, intel.VerdictParams{
		Verdict: form.Values["verdict"], Note: form.Values["note"], DocumentURL: form.Values["document_url"]})
	var ve *validation.Error
	switch {
	case err == nil:
		p := brandPath(brandID, status, cursor, limit)
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		return ec.Redirect(http.StatusSeeOther, p+sep+"done=verdict#claim-"+url.PathEscape(claimID))
	case errors.As(err, &ve):
		label := verdictFieldLabels[ve.Field]
		if label == "" {
			label = fieldLabel(ve.Field)
		}
		form.Errors[ve.Field] = label + " " + ve.Message
		d, lerr := c.loadBrand(ec, intelflow.Query{Status: status, Cursor: cursor, Limit: limit}, claimID, form)
		if lerr != nil {
			return lerr
		}
		if !slices.ContainsFunc(d.Claims, func(cv *claimView) bool { return cv.ID == claimID }) {
			// The claim is no longer on that page: show its form alone.
			d.Claims = append(d.Claims, &claimView{ID: claimID, Form: form, Open: true})
		}
		return c.renderBrand(ec, http.StatusUnprocessableEntity, d)
	}
	return err
}

// brandCSV sends every line of the brand's counterfeits of the period in
// the status chosen, newest first.
func (c *console) brandCSV(ec echo.Context) error {
	ec = intelContext(ec)
	q := brandQuery(ec)
	q.Cursor, q.Limit = "", 0
	id := ec.Param("id")
	each, err := c.Intel.ExportCounterfeits(ec.Request().Context(), viewerOf(ec), id, q)
	if err != nil {
		return err
	}
	s := c.finCSV(ec, "counterfeits-"+id+".csv", export.LineCSVHeader)
	if err := each(func(l intelflow.Line) error { return s.Row(nil, export.LineRecord(l)) }); err != nil {
		return s.Fail(err)
	}
	if err := s.Close(nil); err != nil {
		return s.Fail(err)
	}
	return nil
}

// ---- cases ----

type casesData struct {
	Status   string
	Statuses []option
	Errors   map[string]string
	Cases    []caseRow
}

type caseRow struct {
	intelflow.Case
	Money []money.Money
}

func (c *console) casesPage(ec echo.Context) error {
	ec = intelContext(ec)
	d := casesData{Status: strings.TrimSpace(ec.QueryParam("status")), Errors: map[string]string{}}
	d.Statuses = append(d.Statuses, option{Value: "", Label: "Any status"})
	for _, s := range intel.Statuses {
		d.Statuses = append(d.Statuses, option{Value: s.String(), Label: words(s.String())})
	}
	cases, err := c.Intel.Cases(ec.Request().Context(), viewerOf(ec), d.Status)
	var ve *validation.Error
	if errors.As(err, &ve) {
		d.Errors["status"] = "Status must be one of the listed statuses"
		return c.render(ec, http.StatusBadRequest, "cases", pageData{Title: "Cases", Data: d})
	}
	if err != nil {
		return err
	}
	for _, cs := range cases {
		d.Cases = append(d.Cases, caseRow{Case: cs, Money: moneysOf(cs.Amounts)})
	}
	return c.render(ec, http.StatusOK, "cases", pageData{Title: "Cases", Data: d})
}

// caseLinesShown is how many of a case's confirmed claims its page lists;
// the packet carries them all (up to intelflow.CaseLines).
const caseLinesShown = 200

type caseData struct {
	Case      intelflow.Case
	Money     []money.Money
	Sellers   []sellerView
	Links     []linkView
	Lines     []intelflow.Line
	More      int // lines not listed on the page
	Events    []intelflow.CaseEvent
	Moves     []option
	Move      formState
	Done      string
	Conflict  string
	KeyID     string
	PublicKey string
	// ClaimLinks: the viewer may open the claims (admins).
	ClaimLinks bool
}

type sellerView struct {
	intelflow.SellerSummary
	Money []money.Money
}

type linkView struct {
	A, B, Kind, Key string
}

// caseMoves are the moves of the funnel the viewer may make from the
// case's status, in funnel order.
func caseMoves(from intel.Status, role claimflow.Role) []option {
	actor := intel.ActorAdmin
	if role == RoleEnforcement {
		actor = intel.ActorEnforcement
	}
	labels := map[intel.Status]string{
		intel.StatusReferred:    "Refer to enforcement",
		intel.StatusAccepted:    "Accept: enforcement takes it up",
		intel.StatusActionTaken: "Action taken: a takedown, a seizure or a proceeding",
		intel.StatusClosed:      "Close: say why in the note",
	}
	if from == intel.StatusOpen {
		labels[intel.StatusClosed] = "Dismiss the lead: say why in the note"
	}
	var out []option
	for _, to := range intel.Statuses {
		// A note stands in for the one the form asks for: only who may
		// move where is asked here.
		if intel.Transition(from, to, actor, "note") == nil {
			out = append(out, option{Value: to.String(), Label: labels[to]})
		}
	}
	return out
}

// caseDoneMessages are what the page says after the case was moved.
var caseDoneMessages = map[string]string{
	intel.StatusReferred.String():    "You referred the case to enforcement.",
	intel.StatusAccepted.String():    "You accepted the case.",
	intel.StatusActionTaken.String(): "You recorded that action was taken.",
	intel.StatusClosed.String():      "You closed the case.",
}

func (c *console) casePage(ec echo.Context) error {
	ec = intelContext(ec)
	d, err := c.loadCase(ec, newFormState())
	if err != nil {
		return err
	}
	d.Done = caseDoneMessages[ec.QueryParam("done")]
	return c.renderCase(ec, http.StatusOK, d)
}

func (c *console) renderCase(ec echo.Context, status int, d *caseData) error {
	return c.render(ec, status, "case", pageData{Title: "Case " + d.Case.ID, Data: d})
}

func (c *console) loadCase(ec echo.Context, move formState) (*caseData, error) {
	v := viewerOf(ec)
	cs, err := c.Intel.Case(ec.Request().Context(), v, ec.Param("id"))
	if err != nil {
		return nil, err
	}
	d := &caseData{Case: cs, Money: moneysOf(cs.Amounts), Events: cs.Events, Move: move,
		Moves: caseMoves(cs.Status, v.Role), KeyID: c.Intel.Signer().KeyID(), PublicKey: c.Intel.Signer().PublicKeyPEM(),
		ClaimLinks: v.Role == RoleAdmin}
	names := map[string]string{}
	for _, s := range cs.Sellers {
		d.Sellers = append(d.Sellers, sellerView{SellerSummary: s, Money: moneysOf(s.Amounts)})
		names[s.ID] = s.Name
	}
	for _, l := range cs.Links {
		a, b := names[l.A], names[l.B]
		if a == "" {
			a = l.A
		}
		if b == "" {
			b = l.B
		}
		d.Links = append(d.Links, linkView{A: a, B: b, Kind: l.Kind, Key: export.LinkKey(l)})
	}
	d.Lines = cs.Lines
	if len(d.Lines) > caseLinesShown {
		d.More = len(d.Lines) - caseLinesShown
		d.Lines = d.Lines[:caseLinesShown]
	}
	return d, nil
}

// caseStatusPost moves the case through the funnel, then shows it (post,
// redirect, get). A move the viewer may not make or a missing note is
// shown next to its field; a case someone else moved meanwhile is shown
// as it now is, with the note kept.
func (c *console) caseStatusPost(ec echo.Context) error {
	ec = intelContext(ec)
	form := newFormState()
	form.Values["status"], form.Values["note"] = ec.FormValue("status"), ec.FormValue("note")
	id := ec.Param("id")
	_, err := c.Intel.MoveCase(ec.Request().Context(), viewerOf(ec), id, form.Values["status"], form.Values["note"])
	var ve *validation.Error
	switch {
	case err == nil:
		return ec.Redirect(http.StatusSeeOther, "/console/cases/"+url.PathEscape(id)+"?done="+url.QueryEscape(form.Values["status"])+"#funnel")
	case errors.As(err, &ve):
		label := map[string]string{"status": "Move", "note": "Note"}[ve.Field]
		if label == "" {
			label = fieldLabel(ve.Field)
		}
		form.Errors[ve.Field] = label + ": " + ve.Message
		d, lerr := c.loadCase(ec, form)
		if lerr != nil {
			return lerr
		}
		return c.renderCase(ec, http.StatusUnprocessableEntity, d)
	case errors.Is(err, intelflow.ErrCaseMoved):
		d, lerr := c.loadCase(ec, formState{Values: map[string]string{"note": form.Values["note"]}, Errors: map[string]string{}})
		if lerr != nil {
			return lerr
		}
		d.Conflict = "Someone else moved this case first; it is now " + words(d.Case.Status.String()) + ". Nothing you sent was applied; your note is kept below."
		return c.renderCase(ec, http.StatusConflict, d)
	}
	return err
}

// ---- the access log ----

// accessLogShown is how many entries a page of the access log lists.
const accessLogShown = 100

type accessLogData struct {
	Entries []accessView
	NextURL string
	Paged   bool
	Errors  map[string]string
}

type accessView struct {
	intelflow.Access
	Details []fact
}

func (c *console) accessLogPage(ec echo.Context) error {
	d := accessLogData{Errors: map[string]string{}}
	var before int64
	if s := ec.QueryParam("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			d.Errors["before"] = "This page is not one the console made; start from the newest"
			return c.render(ec, http.StatusBadRequest, "access_log", pageData{Title: "Access log", Data: d})
		}
		before, d.Paged = n, true
	}
	entries, err := c.Intel.AccessLog(ec.Request().Context(), before, accessLogShown)
	if err != nil {
		return err
	}
	for _, e := range entries {
		av := accessView{Access: e}
		for _, k := range sortedKeys(e.Detail) {
			av.Details = append(av.Details, fact{Label: words(k), Value: fmt.Sprint(e.Detail[k])})
		}
		d.Entries = append(d.Entries, av)
	}
	if n := len(entries); n == accessLogShown {
		d.NextURL = "/console/intelligence/access-log?before=" + strconv.FormatInt(entries[n-1].ID, 10)
	}
	return c.render(ec, http.StatusOK, "access_log", pageData{Title: "Access log", Data: d})
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ---- verdicts on the agent's claim page ----

// verdictView is a rights holder's verdict on a claim as an agent reads
// it, with how far its rights holder is to be trusted.
type verdictView struct {
	intelflow.RatedVerdict
	// Rating says how often the rights holder's verdicts were borne out:
	// "9 of 10 decided verdicts borne out (12 given)".
	Rating string
}

// GoodFaith words the rights holder's standing as the good-faith bar
// sets it.
func (v verdictView) GoodFaith() string {
	if v.RatedVerdict.Rating.GoodFaith {
		return "good faith"
	}
	if v.RatedVerdict.Rating.Decided < intel.GoodFaithMinDecided {
		return fmt.Sprintf("not rated yet: good faith needs %d decided verdicts", intel.GoodFaithMinDecided)
	}
	return fmt.Sprintf("not good faith: under %d%% borne out", intel.GoodFaithPerMille/10)
}

func (c *console) claimVerdicts(ec echo.Context, claimID string) ([]verdictView, error) {
	vs, err := c.Intel.ClaimVerdicts(ec.Request().Context(), claimID)
	if err != nil {
		return nil, err
	}
	out := make([]verdictView, len(vs))
	for i, v := range vs {
		r := v.Rating
		out[i] = verdictView{RatedVerdict: v, Rating: fmt.Sprintf("%d of %d decided verdicts borne out (%d given)", r.BorneOut, r.Decided, r.Verdicts)}
	}
	return out, nil
}
