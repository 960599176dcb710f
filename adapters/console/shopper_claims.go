package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// ---- one claim ----

type appEvent struct {
	Text string
	At   time.Time
}

type appClaimData struct {
	Claim                       *claim.Claim
	JustFiled                   bool
	Tone, Headline, StatusLabel string
	Explanation                 claimflow.Explanation
	Reasons                     []string
	Reason, Amount, Items       string
	Refund                      string
	Timeline                    []appEvent
	// Files are the shopper's photos and documents on the claim; Uploads
	// the limits of the form that adds more (nil: no files taken);
	// Upload what became of the files just sent.
	Files   []fileView
	Uploads *uploadView
	Upload  *noticeView
}

// appClaimPage shows one of the shopper's claims: the decision and its
// explanation first, then what they sent and the timeline in plain words.
// Another shopper's claim is not found, as in the API.
func (c *console) appClaimPage(ec echo.Context) error {
	ctx := ec.Request().Context()
	v := viewerOf(ec)
	rec, err := c.Claims.Get(ctx, v, ec.Param("id"))
	if err != nil {
		return err
	}
	evs, err := c.Claims.Events(ctx, v, rec.Claim.ID())
	if err != nil {
		return err
	}
	cl := rec.Claim
	d := &appClaimData{
		Claim: cl, JustFiled: ec.QueryParam("filed") == "1", Explanation: claimflow.Explain(rec),
		Reason: appReasonLabel(cl.Reason()), Amount: formatMoney(cl.Amount()), StatusLabel: appStatusLabel(cl.Status()),
	}
	d.Tone, d.Headline = appHeadline(cl.Status())
	if d.Files, d.Uploads, err = c.claimFiles(ctx, v, cl.ID(), "/app/claims/"); err != nil {
		return err
	}
	d.Upload = c.uploadNoticeOf(ec, cl.ID())
	for _, r := range claimflow.Reasons(rec) {
		d.Reasons = append(d.Reasons, r.Message)
	}
	// The shopper knows their items by name; SKUs are for systems.
	items, err := c.Claims.ClaimedItems(ctx, v, rec)
	if err != nil {
		return err
	}
	parts := make([]string, 0, len(items))
	for _, it := range items {
		parts = append(parts, fmt.Sprintf("%s × %d", it.Name, it.Quantity))
	}
	d.Items = strings.Join(parts, ", ")
	if ref := cl.Refund(); cl.Status().MoneyBack() && ref.ID != "" && !ref.At.IsZero() {
		d.Refund = fmt.Sprintf("%s went back to your original payment method on %s. Refund reference: %s.",
			formatMoney(cl.Amount()), shortDate(ref.At), ref.ID)
	}
	for _, ev := range evs {
		ev, seen := v.Event(ev)
		if !seen {
			continue
		}
		if text, ok := appEventText(ev); ok {
			d.Timeline = append(d.Timeline, appEvent{Text: text, At: ev.At})
		}
	}
	return c.render(ec, http.StatusOK, "app_claim", pageData{Title: "Your claim", Data: d})
}

// appHeadline is the decision in a few words and its tone: ok (money
// back), wait (someone is on it) or no.
func appHeadline(st claim.Status) (tone, headline string) {
	switch st {
	case claim.StatusApproved, claim.StatusRefundPending:
		return "ok", "Approved: your refund is on its way"
	case claim.StatusRefunded, claim.StatusSellerCharged, claim.StatusClosed:
		return "ok", "Refunded"
	case claim.StatusInReview:
		return "wait", "A person is reviewing your claim"
	case claim.StatusRefundFailed:
		return "wait", "Approved, but the refund is delayed"
	case claim.StatusRejected:
		return "no", "Not approved"
	}
	return "wait", "We received your claim"
}

// appStatusLabel is the claim's status in the shopper's words; what the
// seller is charged is not the shopper's concern.
func appStatusLabel(st claim.Status) string {
	switch st {
	case claim.StatusSubmitted:
		return "Received"
	case claim.StatusInReview:
		return "In review"
	case claim.StatusApproved, claim.StatusRefundPending:
		return "Refund on its way"
	case claim.StatusRefunded, claim.StatusSellerCharged:
		return "Refunded"
	case claim.StatusClosed:
		return "Refunded, closed"
	case claim.StatusRefundFailed:
		return "Refund delayed"
	case claim.StatusRejected:
		return "Not approved"
	}
	return words(st.String())
}

// appEventText tells a timeline event the shopper may see (the caller
// filters through claimflow's visibility rule, as the API does) in plain
// words; ok is false for events that mean nothing to the shopper.
func appEventText(ev claim.Event) (string, bool) {
	switch ev.Type {
	case "submitted":
		return "You filed the claim.", true
	case "decided":
		switch ev.To {
		case claim.StatusApproved:
			return "Approved at once; the refund was started.", true
		case claim.StatusInReview:
			return "Sent to a person to review.", true
		case claim.StatusRejected:
			return "Not approved: it does not meet the refund policy.", true
		}
	case "override":
		switch {
		case ev.From == ev.To:
			return "", false
		case ev.Data["action"] == claimflow.ActionRetryRefund:
			return "Our team sent the refund again.", true
		case ev.To == claim.StatusApproved && ev.From == claim.StatusRejected:
			return "Our team looked again and approved it.", true
		case ev.To == claim.StatusApproved:
			return "Our team reviewed it and approved it.", true
		case ev.To == claim.StatusRejected:
			return "Our team reviewed it and could not approve it.", true
		}
	case "escalated":
		return "The review took longer than planned; your claim moved to the front of the queue.", true
	case "refund_pending":
		return "The refund was sent to the payment provider.", true
	case "refunded":
		return "The money was refunded to your original payment method.", true
	case "refund_failed":
		return "The refund could not be completed yet; our team is on it.", true
	case "seller_charged":
		return "", false
	case "closed":
		return "The claim is closed.", true
	case claimflow.EventEvidenceAdded:
		return "You added a photo or document.", true
	}
	return "Your claim is now " + strings.ToLower(appStatusLabel(ev.To)) + ".", true
}

// ---- the shopper's claims ----

type appClaimRow struct {
	ID, Reason, Amount, Status, Tone, Filed string
}

type appClaimsData struct {
	Rows    []appClaimRow
	NextURL string
	Paged   bool
}

// appClaimsPage lists the shopper's claims, newest first, a page at a
// time.
func (c *console) appClaimsPage(ec echo.Context) error {
	f := claimflow.ClaimFilter{Limit: appClaimsPerPage}
	d := appClaimsData{}
	if after := ec.QueryParam("after"); after != "" {
		if err := validation.CheckID("cursor", after); err != nil {
			return validation.New("cursor", "invalid_cursor", "is not a page this app made; start from the first page")
		}
		f.After, d.Paged = after, true
	}
	recs, next, err := c.Claims.List(ec.Request().Context(), viewerOf(ec), f)
	if err != nil {
		return err
	}
	for _, r := range recs {
		cl := r.Claim
		tone, _ := appHeadline(cl.Status())
		d.Rows = append(d.Rows, appClaimRow{ID: cl.ID(), Reason: appReasonLabel(cl.Reason()), Amount: formatMoney(cl.Amount()),
			Status: appStatusLabel(cl.Status()), Tone: tone, Filed: shortDate(cl.CreatedAt())})
	}
	if next != "" {
		d.NextURL = "/app/claims?" + url.Values{"after": {next}}.Encode()
	}
	return c.render(ec, http.StatusOK, "app_claims", pageData{Title: "Your claims", Data: d})
}
