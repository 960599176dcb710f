package console

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// shopperRoutes registers the shopper's in-app pages under /app: report a
// problem with an order (file a claim), see the decision and its
// explanation at once, and follow each claim to the money. They are the
// reference flow a marketplace copies into its app; the session's subject
// is the shopper, as an API token's is. Staff and sellers get 403 here:
// these pages act as the shopper, and staff see claims in the console.
func (c *console) shopperRoutes() {
	// /app is the entry a marketplace's app links to: the shopper's claims.
	c.get("/app", c.appEntry, RoleShopper)
	c.get("/app/claims", c.appClaimsPage, RoleShopper)
	c.get("/app/claims/new", c.appNewClaimPage, RoleShopper)
	// The form may carry files: it streams (see upload).
	c.upload(pathNewClaim, c.appNewClaimPost, RoleShopper)
	c.get("/app/claims/:id", c.appClaimPage, RoleShopper)
	c.addNav("Your claims", "/app/claims", RoleShopper)
	c.addNav("Report a problem", "/app/claims/new", RoleShopper)
	c.home[RoleShopper] = "/app/claims"
}

// appEntry leads the shopper to their claims, from where they report a
// problem or follow one.
func (c *console) appEntry(ec echo.Context) error {
	return ec.Redirect(http.StatusSeeOther, "/app/claims")
}

// How much the shopper's pages show at once.
const (
	appOrdersShown   = 20 // recent orders offered by the claim form
	appEvidenceRows  = 3  // evidence links the form offers
	appClaimsPerPage = 20
)

// appReason is a claim reason as the shopper picks it.
type appReason struct {
	Value, Label, Help string
}

// appReasons are the claim reasons in the shopper's words.
var appReasons = []appReason{
	{claim.ReasonCounterfeit.String(), "It is fake", "Not the genuine brand: a wrong logo, label, serial number or packaging."},
	{claim.ReasonNotAsDescribed.String(), "It is not as described", "Another size, colour, material or model than the listing showed."},
	{claim.ReasonDamaged.String(), "It arrived damaged", "Broken, torn, stained or spoiled when you opened the parcel."},
	{claim.ReasonNotReceived.String(), "It never arrived", "The parcel has not reached you."},
}

func appReasonLabel(r claim.Reason) string {
	for _, a := range appReasons {
		if a.Value == r.String() {
			return a.Label
		}
	}
	return words(r.String())
}

// appEvidenceKinds are the kinds of evidence link, as the form offers them.
var appEvidenceKinds = []option{
	{"photo", "Photo"}, {"video", "Video"}, {"document", "Document, such as a receipt or report"}, {"link", "Other link"},
}

// ---- the claim form ----

// appForm is the claim form as the shopper sent it (or as it starts).
type appForm struct {
	OrderID, Reason, Description, Key string
	// Items are the ticked order lines, "order id/SKU".
	Items    map[string]bool
	Evidence [appEvidenceRows]appEvidence
}

type appEvidence struct {
	Kind, URL string
}

func readAppForm(form url.Values) appForm {
	f := appForm{
		OrderID: strings.TrimSpace(form.Get("order_id")), Reason: form.Get("reason"),
		Description: form.Get("description"), Key: form.Get("key"), Items: map[string]bool{},
	}
	for _, it := range form["item"] {
		f.Items[it] = true
	}
	for i := range f.Evidence {
		n := strconv.Itoa(i)
		f.Evidence[i] = appEvidence{Kind: form.Get("evidence_kind_" + n), URL: strings.TrimSpace(form.Get("evidence_url_" + n))}
	}
	return f
}

// request is the claim the form asks for: the ticked lines of the chosen
// order (none ticked: the whole order) and the evidence rows with a link.
// rows maps each evidence entry of the request back to its row.
func (f appForm) request(o *claimflow.ShopperOrder) (req claimflow.FileClaim, rows []int) {
	req = claimflow.FileClaim{OrderID: f.OrderID, Reason: f.Reason, Description: f.Description}
	if o != nil {
		for _, it := range o.Order.Items() {
			if f.Items[o.Order.ID()+"/"+it.SKU] {
				req.Items = append(req.Items, claim.Item{SKU: it.SKU, Quantity: it.Quantity})
			}
		}
	}
	for i, ev := range f.Evidence {
		if ev.URL == "" {
			continue // an empty row is a link not given
		}
		req.Evidence = append(req.Evidence, claim.Evidence{Kind: ev.Kind, URL: ev.URL})
		rows = append(rows, i)
	}
	return req, rows
}

// validKey reports whether the form carries a key the application edge
// takes, as every form this page makes does.
func validKey(k string) bool {
	return k != "" && claimflow.Key{Door: claimflow.DoorConsole, Value: k}.Validate() == nil
}

type appOrderItem struct {
	ID, Value, Label string
	Checked          bool
}

type appOrder struct {
	ID, InputID, Seller, Amount, Paid, Delivery, Note string
	Items                                             []appOrderItem
	Checked, Choosable                                bool
}

type appEvidenceRow struct {
	N                        int // 1-based, as the labels count
	KindID, URLID, Kind, URL string
	KindName, URLName        string
	KindError, URLError      string
}

type errorLink struct {
	Href, Message string
}

type appNewData struct {
	Orders   []appOrder
	Reasons  []appReason
	Kinds    []option
	Evidence []appEvidenceRow
	Form     appForm
	Errors   map[string]string
	// ErrorList is Errors in the form's order, each linked to its input.
	ErrorList      []errorLink
	Notice         string
	MaxDescription int
	// Uploads are the limits on files, nil when the console takes none;
	// FilesAgain says the files sent with a refused form were dropped.
	Uploads    *uploadView
	FilesAgain bool
}

// anchor returns the id of the input an error about key leads to.
func (d *appNewData) anchor(key string) string {
	switch {
	case key == "order_id":
		for _, o := range d.Orders {
			if o.Checked {
				return o.InputID
			}
		}
		if len(d.Orders) > 0 {
			return d.Orders[0].InputID
		}
	case key == "items":
		for _, o := range d.Orders {
			if o.Checked && len(o.Items) > 0 {
				return o.Items[0].ID
			}
		}
		return d.anchor("order_id")
	case key == "reason":
		return "app-reason-" + appReasons[0].Value
	case key == "description":
		return "app-description"
	case strings.HasPrefix(key, "evidence_"):
		return "app-" + strings.ReplaceAll(key, "_", "-")
	}
	return "app-form"
}

// appErrorOrder is the order the error summary lists fields in: the
// form's.
func appErrorOrder() []string {
	keys := []string{"form", "order_id", "items", "reason", "description"}
	for i := range appEvidenceRows {
		keys = append(keys, fmt.Sprintf("evidence_kind_%d", i), fmt.Sprintf("evidence_url_%d", i))
	}
	return keys
}

// newAppNewData builds the form's page from the shopper's orders and the
// form as sent.
func newAppNewData(orders []claimflow.ShopperOrder, f appForm, errs map[string]string) *appNewData {
	d := &appNewData{Reasons: appReasons, Kinds: appEvidenceKinds, Form: f, Errors: errs, MaxDescription: claim.MaxDescription}
	for i, so := range orders {
		o := so.Order
		v := appOrder{
			ID: o.ID(), InputID: "app-order-" + strconv.Itoa(i), Seller: so.SellerName,
			Amount: formatMoney(o.Amount()), Paid: "Paid " + shortDate(*o.PaidAt()),
			Delivery: "not delivered yet", Checked: o.ID() == f.OrderID, Choosable: so.Claimable.IsPositive(),
		}
		if at := o.DeliveredAt(); at != nil {
			v.Delivery = "delivered " + shortDate(*at)
		}
		switch {
		case !v.Choosable:
			v.Note = "Already claimed in full: see your claims."
		case so.LiveClaims > 0:
			v.Note = "Partly claimed already: " + formatMoney(so.Claimable) + " can still be claimed."
		}
		for j, it := range o.Items() {
			line, _ := money.Of(it.UnitAmount, o.Currency()).MulInt(it.Quantity)
			value := o.ID() + "/" + it.SKU
			v.Items = append(v.Items, appOrderItem{
				ID: fmt.Sprintf("app-item-%d-%d", i, j), Value: value, Checked: f.Items[value],
				Label: fmt.Sprintf("%s × %d · %s", it.Name, it.Quantity, formatMoney(line)),
			})
		}
		d.Orders = append(d.Orders, v)
	}
	for i, ev := range f.Evidence {
		kind := ev.Kind
		if kind == "" {
			kind = appEvidenceKinds[0].Value
		}
		n := strconv.Itoa(i)
		d.Evidence = append(d.Evidence, appEvidenceRow{
			N: i + 1, KindID: "app-evidence-kind-" + n, URLID: "app-evidence-url-" + n, Kind: kind, URL: ev.URL,
			KindName: "evidence_kind_" + n, URLName: "evidence_url_" + n,
			KindError: errs["evidence_kind_"+n], URLError: errs["evidence_url_"+n],
		})
	}
	for _, k := range appErrorOrder() {
		if m, ok := errs[k]; ok {
			d.ErrorList = append(d.ErrorList, errorLink{Href: d.anchor(k), Message: m})
		}
	}
	return d
}

// ErrorFor is the error shown next to key's input.
func (d *appNewData) ErrorFor(key string) string { return d.Errors[key] }

// shortDate writes a day as shoppers read it: "3 Jan 2026".
func shortDate(t time.Time) string { return t.UTC().Format("2 Jan 2006") }

// shopperOrders returns the orders the form offers: the shopper's
// appOrdersShown most recent, and the order named by orderID too when it
// is one of theirs further back (a marketplace's order page linking to
// the form, or a form sent after newer orders were paid).
func (c *console) shopperOrders(ec echo.Context, orderID string) ([]claimflow.ShopperOrder, error) {
	all, err := c.Claims.ShopperOrders(ec.Request().Context(), viewerOf(ec), claimflow.MaxShopperOrders)
	if err != nil {
		return nil, err
	}
	shown := all[:min(len(all), appOrdersShown)]
	for _, o := range all[len(shown):] {
		if orderID != "" && o.Order.ID() == orderID {
			shown = append(shown, o)
		}
	}
	return shown, nil
}

// appNewClaimPage is the claim form. ?order= preselects an order, so a
// marketplace's order page can link straight to it.
func (c *console) appNewClaimPage(ec echo.Context) error {
	f := appForm{OrderID: ec.QueryParam("order"), Key: newSessionID(), Items: map[string]bool{}}
	orders, err := c.shopperOrders(ec, f.OrderID)
	if err != nil {
		return err
	}
	d := newAppNewData(orders, f, map[string]string{})
	d.Uploads = c.limitsView()
	return c.renderAppNew(ec, http.StatusOK, d)
}

func (c *console) renderAppNew(ec echo.Context, status int, d *appNewData) error {
	title := "Report a problem"
	if len(d.Errors) > 0 || d.Notice != "" {
		title = "Error: " + title
	}
	return c.render(ec, status, "app_new", pageData{Title: title, Data: d})
}

// appNewClaimPost files the claim through the application edge
// (claimflow.Service.File), as POST /v1/claims does: within the shopper's
// rate limit, and once per form: the form's hidden key is an idempotency
// key, so a second press (or a retry after a lost answer) shows the claim
// the first one filed. Success redirects to the claim's page; bad input
// shows the form again, as typed, with each problem next to its field,
// and files nothing.
//
// The form carries files (multipart): its parts are read as they arrive,
// the token first (checkStreamForm), then the text fields; the claim is
// filed when the first file part is reached, and each file is then
// streamed to the claim. A refused file does not undo the claim: the
// claim's page says which file was not added and why. A form refused as
// a whole is read to its end and shown again, saying the files must be
// chosen again (a browser cannot keep them).
func (c *console) appNewClaimPost(ec echo.Context) error {
	s := streamOf(ec)
	if s == nil {
		form, err := ec.FormParams()
		if err != nil {
			return err
		}
		filed, refused, status, err := c.appFile(ec, readAppForm(form))
		if err != nil {
			return err
		}
		if refused != nil {
			return c.renderAppNew(ec, status, refused)
		}
		return ec.Redirect(http.StatusSeeOther, "/app/claims/"+url.PathEscape(filed.Record.Claim.ID())+"?filed=1")
	}
	form, err := s.fields()
	if err != nil {
		s.drain()
		return c.render(ec, http.StatusRequestEntityTooLarge, "error", pageData{Title: "The form could not be read",
			Data: errorData{Heading: "The form could not be read", Message: "The form did not arrive whole, or held more text than it takes, so nothing was filed. Go back and send it again."}})
	}
	filed, refused, status, err := c.appFile(ec, readAppForm(form))
	if err != nil {
		return err
	}
	if refused != nil {
		s.drain()
		refused.FilesAgain = s.sent > 0
		return c.renderAppNew(ec, status, refused)
	}
	id := filed.Record.Claim.ID()
	if filed.Replayed || c.Evidence == nil {
		// The claim was filed by this form before, with its files.
		s.drain()
		return ec.Redirect(http.StatusSeeOther, "/app/claims/"+url.PathEscape(id)+"?filed=1")
	}
	n := c.storeFiles(ec.Request().Context(), viewerOf(ec), id, s)
	return c.filesRedirect(ec, "/app/claims/", id, n, url.Values{"filed": {"1"}}, "")
}

// appFile files the claim the form asks for. A form refused comes back as
// the page to show again (and its status), with nothing filed.
func (c *console) appFile(ec echo.Context, f appForm) (filed claimflow.Changed, refused *appNewData, status int, err error) {
	ctx := ec.Request().Context()
	orders, err := c.shopperOrders(ec, f.OrderID)
	if err != nil {
		return filed, nil, 0, err
	}
	var chosen *claimflow.ShopperOrder
	for i := range orders {
		if orders[i].Order.ID() == f.OrderID {
			chosen = &orders[i]
		}
	}
	errs := map[string]string{}
	fail := func(status int, notice string) (claimflow.Changed, *appNewData, int, error) {
		d := newAppNewData(orders, f, errs)
		d.Notice = notice
		d.Uploads = c.limitsView()
		return claimflow.Changed{}, d, status, nil
	}
	if !validKey(f.Key) {
		// Not a form this page made: start it afresh, as typed.
		f.Key = newSessionID()
		errs["form"] = "Something was missing from the form, so nothing was sent. Check it and send it again."
		return fail(http.StatusUnprocessableEntity, "")
	}
	// The choices the form itself asks for, all at once; Submit checks
	// everything again, and everything else.
	switch {
	case f.OrderID == "":
		errs["order_id"] = "Choose the order the problem is with."
	case chosen == nil && len(f.Items) > 0:
		// Items ticked on an order the form does not show (not theirs,
		// or too far back): they cannot be checked against it, and
		// dropping them would claim the whole order, so nothing is
		// filed. Without items, Submit judges the order itself.
		errs["order_id"] = "Choose one of your orders from the list."
	}
	if _, err := claim.ParseReason(f.Reason); err != nil {
		errs["reason"] = "Choose what is wrong with the order."
	}
	if strings.TrimSpace(f.Description) == "" {
		errs["description"] = "Describe what is wrong."
	}
	if len(errs) > 0 {
		return fail(http.StatusUnprocessableEntity, "")
	}

	req, rows := f.request(chosen)
	filed, err = c.Claims.File(ctx, viewerOf(ec), req, claimflow.Key{Door: claimflow.DoorConsole, Value: f.Key})
	var ve *validation.Error
	var nf *claimflow.NotFoundError
	var rl *claimflow.RateLimitedError
	switch {
	case err == nil:
		return filed, nil, 0, nil
	case errors.As(err, &rl):
		secs := int(math.Ceil(rl.RetryAfter.Seconds()))
		ec.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return fail(http.StatusTooManyRequests, fmt.Sprintf(
			"You have sent several claims in a short time. Wait %d seconds and send the form again; what you typed is kept.", secs))
	case errors.Is(err, claimflow.ErrIdempotencyKeyReused):
		// This form was sent before with other details, and that claim
		// was filed. A fresh key lets the shopper file these on purpose.
		f.Key = newSessionID()
		return fail(http.StatusConflict, "You already sent this form once with other details, and that claim was filed: see your claims. "+
			"To file another claim with the details below, send the form again.")
	case errors.As(err, &nf) && nf.Resource == "order":
		errs["order_id"] = "Choose one of your orders from the list."
	case errors.As(err, &ve):
		key, msg := appFieldError(ve, rows, len(req.Items) > 0)
		errs[key] = msg
	default:
		return filed, nil, 0, err
	}
	return fail(http.StatusUnprocessableEntity, "")
}

// appFieldError places a refusal of Submit's next to the form field it is
// about, in the shopper's words. rows maps the request's evidence entries
// back to the form's rows.
func appFieldError(ve *validation.Error, rows []int, items bool) (key, msg string) {
	field := ve.Field
	switch {
	case field == "order_id" && ve.Code == "order_not_paid":
		return "order_id", "That order has not been paid, so there is nothing to refund."
	case field == "order_id":
		return "order_id", "Choose one of your orders from the list."
	case field == "reason":
		return "reason", "Choose what is wrong with the order."
	case field == "description" && ve.Code == "required":
		return "description", "Describe what is wrong."
	case field == "description":
		return "description", "Description " + ve.Message + "."
	case field == "amount" || strings.HasPrefix(field, "items"):
		msg := "Amount claimed " + ve.Message + "."
		if ve.Code == "amount_exceeds_refundable" {
			msg += " Choose only items that are not claimed yet."
		}
		if items {
			return "items", msg
		}
		return "order_id", msg
	case strings.HasPrefix(field, "evidence["):
		idx, part, _ := strings.Cut(strings.TrimPrefix(field, "evidence["), "].")
		i, err := strconv.Atoi(idx)
		if err != nil || i < 0 || i >= len(rows) {
			break
		}
		n := rows[i]
		if part == "kind" {
			return fmt.Sprintf("evidence_kind_%d", n), fmt.Sprintf("Kind of link %d %s.", n+1, ve.Message)
		}
		return fmt.Sprintf("evidence_url_%d", n), fmt.Sprintf("Link %d %s, such as https://photos.example/fake.jpg.", n+1, ve.Message)
	}
	return "form", fieldLabel(field) + " " + ve.Message + "."
}
