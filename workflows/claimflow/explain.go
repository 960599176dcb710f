package claimflow

import (
	"fmt"
	"strings"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
)

// Explanation is what a shopper reads about their claim: what happened
// and, while the claim is reviewed or after it was rejected, what
// evidence would change the outcome.
type Explanation struct {
	Summary   string
	WhatHelps string // "" when nothing the shopper sends would change it
}

// evidenceByReason says what backs each kind of claim best.
var evidenceByReason = map[claim.Reason]string{
	claim.ReasonCounterfeit:    "Photos of the logo, labels, serial number and packaging, or an authenticity report, help the reviewer decide.",
	claim.ReasonNotAsDescribed: "Photos that show how the item differs from its listing, with a link to the listing, help the reviewer decide.",
	claim.ReasonDamaged:        "Photos of the damage and of the packaging it arrived in help the reviewer decide.",
	claim.ReasonNotReceived:    "The carrier's tracking page, or a note from the carrier that the parcel was lost, helps the reviewer decide.",
}

// Explain returns the shopper's explanation of a claim as it stands.
func Explain(r Record) Explanation {
	c := r.Claim
	amount := c.Amount().String()
	switch c.Status() {
	case claim.StatusSubmitted:
		return Explanation{Summary: "We received your claim and are checking it."}
	case claim.StatusInReview:
		s := "A person is reviewing your claim"
		switch d := c.ReviewDeadline(); {
		case !c.EscalatedAt().IsZero():
			s += "; it is taking longer than planned, and it is now among the first to be decided"
		case !d.IsZero():
			s += " and will decide by " + d.UTC().Format("2 January 2006, 15:04 MST")
		}
		s += "."
		if msgs := reasonMessages(r.Decision, " "+decision.ReviewPromise); msgs != "" {
			s += " " + msgs
		}
		return Explanation{Summary: s, WhatHelps: evidenceByReason[c.Reason()]}
	case claim.StatusApproved, claim.StatusRefundPending:
		return Explanation{Summary: fmt.Sprintf("Your claim was approved. The refund of %s is on its way to your original payment method.", amount)}
	case claim.StatusRefunded, claim.StatusSellerCharged, claim.StatusClosed:
		s := fmt.Sprintf("We refunded %s to your original payment method", amount)
		if at := c.Refund().At; !at.IsZero() {
			s += " on " + at.UTC().Format("2 January 2006")
		}
		return Explanation{Summary: s + ". Banks usually show it within 5 to 10 business days."}
	case claim.StatusRefundFailed:
		return Explanation{Summary: fmt.Sprintf(
			"Your claim was approved, but the refund of %s could not be completed yet. Our team is on it; you do not need to do anything.", amount)}
	case claim.StatusRejected:
		if rr := c.Rejection(); rr != (claim.RejectionReason{}) {
			return Explanation{Summary: "We could not approve your claim. " + rr.Text(), WhatHelps: rr.Helps()}
		}
		msgs := ""
		if r.Decision.Outcome == decision.OutcomeRejected {
			msgs = reasonMessages(r.Decision, "")
		}
		if msgs == "" {
			msgs = "It does not meet the marketplace's refund policy."
		}
		return Explanation{Summary: "We could not approve your claim. " + msgs, WhatHelps: rejectedHelps(r.Decision)}
	}
	return Explanation{Summary: "Your claim is " + strings.ReplaceAll(c.Status().String(), "_", " ") + "."}
}

// Reasons returns the decision's reasons as they read for the claim as it
// stands: a reason that sent the claim to a person says "A person will
// review this claim." only while the claim is in review; once someone
// (or the deadline) decided it, that promise is dropped, so a closed
// claim never says it is waiting. The stored decision is left as it was
// made.
//
//	for _, r := range claimflow.Reasons(rec) { fmt.Println(r.Message) }
func Reasons(r Record) []decision.Reason {
	out := make([]decision.Reason, len(r.Decision.Reasons))
	for i, reason := range r.Decision.Reasons {
		out[i] = reason
		if r.Claim.Status() != claim.StatusInReview {
			out[i].Message = reason.Decided()
		}
	}
	return out
}

// reasonMessages joins the decision's sentences, without the suffix each
// review reason repeats.
func reasonMessages(d decision.Decision, drop string) string {
	var parts []string
	for _, r := range d.Reasons {
		m := r.Message
		if drop != "" {
			m = strings.TrimSuffix(m, drop)
		}
		parts = append(parts, m)
	}
	return strings.Join(parts, " ")
}

// rejectedHelps says what changes an automatic rejection.
func rejectedHelps(d decision.Decision) string {
	for _, r := range d.Reasons {
		switch r.Code {
		case decision.CodeDeliveryNotOverdue:
			return "You can file the claim again once the wait is over, if the parcel has still not arrived."
		case decision.CodeDuplicateClaim:
			return "Follow the claim that already covers these items; file a new one only for items it leaves out."
		case decision.CodeOutsideClaimWindow:
			return "Proof that you reported the problem in time, such as earlier messages to the seller, would let customer service look again."
		}
	}
	return ""
}
