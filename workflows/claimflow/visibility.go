package claimflow

import (
	"fmt"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
)

// This file is the one rule for what each viewer sees of a claim. The API
// and the console both render a claim and its timeline through it, so a
// seller reads the same in both.
//
// Staff (agents, finance, administrators) see everything. A shopper sees
// their own claim without the seller's charge, and timeline events
// without who at the platform acted or what they noted. A seller sees the
// claim against them with its outcome and a sentence written for sellers,
// never the shopper's identity, evidence links, trust tier or history,
// nor the decision's reasons (they are written to the shopper, from the
// shopper's history), nor why the shopper's refund failed (it can reveal
// the shopper's payment method).
//
// What the engine found about a shopper that the shopper is not told (a
// reason's Staff sentence, the accounts linked to theirs) is read by those
// who decide claims: agents and administrators, not finance. A shopper
// reads such a reason under its public code (decision.Reason.Public).

// IsStaff reports whether the viewer works on claims for the platform and
// sees every detail of one: agents, finance and administrators. Every
// other role (and one added later) does not, unless it is named here.
func (v Viewer) IsStaff() bool {
	return v.Role == RoleAgent || v.Role == RoleFinance || v.Role == RoleAdmin
}

// SeesDecisionReasons reports whether the viewer sees the decision's
// reasons and the shopper's trust tier. Sellers do not: the reasons are
// written to the shopper and some tell the shopper's history ("You have
// filed 4 other claims in the last 90 days").
func (v Viewer) SeesDecisionReasons() bool { return !v.IsSeller() }

// SeesFacts reports whether the viewer sees the facts a decision used:
// the seller's risk profile and the shopper's history. Staff only.
func (v Viewer) SeesFacts() bool { return v.IsStaff() }

// SeesStaffNotes reports whether the viewer reads what the engine found
// that the shopper is not told: a reason's Staff sentence and the
// linked-account facts (how many other shoppers share a device, payment
// method or address with this one, and their claims). Agents and
// administrators only: they decide claims; finance does not need it.
func (v Viewer) SeesStaffNotes() bool { return v.Role == RoleAgent || v.Role == RoleAdmin }

// Reasons returns a decision's reasons as the viewer reads them: whole for
// agents and administrators, without Staff for finance, in their public
// form for the shopper (decision.Reason.Public), none for a seller.
//
//	for _, r := range v.Reasons(claimflow.Reasons(rec)) { ... }
func (v Viewer) Reasons(rs []decision.Reason) []decision.Reason {
	if !v.SeesDecisionReasons() {
		return nil
	}
	out := make([]decision.Reason, len(rs))
	for i, r := range rs {
		switch {
		case v.SeesStaffNotes():
		case v.IsShopper():
			r = r.Public()
		default:
			r.Staff = ""
		}
		out[i] = r
	}
	return out
}

// SeesShopper reports whether the viewer sees who filed the claim and the
// links to the shopper's evidence.
func (v Viewer) SeesShopper() bool { return !v.IsSeller() }

// SeesChargeback reports whether the viewer sees the seller's charge.
func (v Viewer) SeesChargeback() bool { return !v.IsShopper() }

// SeesRefundFailure reports whether the viewer sees why the shopper's
// refund failed: the provider's words can name the shopper's card or bank.
func (v Viewer) SeesRefundFailure() bool { return !v.IsSeller() }

// SeesResolver reports whether the viewer sees which agent settled a
// charge; others see only that an agent did.
func (v Viewer) SeesResolver() bool { return v.IsStaff() }

// Event returns the timeline event as the viewer may see it; ok is false
// for an event the viewer does not see at all.
//
// A shopper does not see the seller's charge: not its events, not the
// charge's state in other events' data, and of the seller_charged step
// only that it happened (its data and note are the seller's: amount,
// window, how the money came back). A seller never sees the decision's
// reason codes, nor anything of why the shopper's refund failed (the
// provider's words and code can name the shopper's card or bank); on the
// charge a seller sees the agent's note (it is addressed to them) but not
// who wrote it. Of anyone else's events a viewer sees only what happened
// and when; their own and the system's they see in full, less the above.
func (v Viewer) Event(ev claim.Event) (claim.Event, bool) {
	if v.IsStaff() {
		return ev, true
	}
	// A file added to the claim is seen by the party who added it (and
	// staff): a seller never learns of the shopper's evidence, a shopper
	// never of the seller's contest papers.
	if ev.Type == EventEvidenceAdded && ev.Actor.Kind != string(v.Role) {
		return claim.Event{}, false
	}
	chargeback := isChargebackEvent(ev.Type)
	if v.IsShopper() {
		if chargeback {
			return claim.Event{}, false
		}
		if ev.To == claim.StatusSellerCharged && ev.From != ev.To {
			ev.Note, ev.Data = "", nil
		}
	}
	self := ev.Actor.Kind == string(v.Role) && ev.Actor.ID == v.Subject
	switch {
	case self, ev.Actor.Kind == claim.SystemActor.Kind:
		ev.Data = v.eventData(ev)
		if v.IsSeller() && ev.To == claim.StatusRefundFailed {
			ev.Note = "" // the provider's words on the shopper's refund
		}
	case v.IsSeller() && chargeback:
		ev.Actor.ID = ""
	default:
		ev.Actor.ID, ev.Note, ev.Data = "", "", nil
	}
	return ev, true
}

// EventEvidenceAdded is the timeline entry of a file added to a claim
// (evidenceflow); it changes no status.
const EventEvidenceAdded = "evidence_added"

// isChargebackEvent reports whether the event belongs to the seller's
// charge rather than to the shopper's claim.
func isChargebackEvent(eventType string) bool {
	return strings.HasPrefix(eventType, "chargeback_") || strings.HasPrefix(eventType, "contest_")
}

// eventData is an event's data without what the viewer may not see: for a
// seller the decision's reason codes and policy details (they name the
// shopper's history) and a failed refund's code (the provider's, about
// the shopper's payment); for a shopper the state of the seller's charge.
func (v Viewer) eventData(ev claim.Event) map[string]any {
	if ev.Data == nil {
		return nil
	}
	out := make(map[string]any, len(ev.Data))
	for k, val := range ev.Data {
		switch {
		case v.IsSeller() && (k == "reasons" || k == "tier" || k == "rule"):
			continue
		case v.IsSeller() && ev.To == claim.StatusRefundFailed && (k == "code" || k == "failure_code"):
			continue
		case v.IsShopper() && (strings.HasPrefix(k, "chargeback_") || k == "protected"):
			continue
		case v.IsShopper() && k == "reasons":
			val = publicCodes(val)
		}
		out[k] = val
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// publicCodes returns a decision event's reason codes as shoppers read
// them (decision.PublicCode). The event holds []string as written and
// []any as read back from the store.
func publicCodes(val any) any {
	switch codes := val.(type) {
	case []string:
		out := make([]string, len(codes))
		for i, c := range codes {
			out[i] = decision.PublicCode(c)
		}
		return out
	case []any:
		out := make([]any, len(codes))
		for i, c := range codes {
			if s, ok := c.(string); ok {
				c = decision.PublicCode(s)
			}
			out[i] = c
		}
		return out
	}
	return val
}

// ExplainToSeller is what the seller against whom a claim was filed reads
// about it: what was decided, whether they are charged, and what they may
// still do. It says nothing of the shopper beyond what they claimed.
// WhatHelps says what backs a contest while the seller may still contest.
func ExplainToSeller(r Record, now time.Time) Explanation {
	c := r.Claim
	amount := c.Amount().String()
	cb := c.Chargeback()
	switch c.Status() {
	case claim.StatusSubmitted:
		return Explanation{Summary: "The shopper filed this claim and it is being checked. You are not charged for it."}
	case claim.StatusInReview:
		return Explanation{Summary: "A person at the marketplace is reviewing this claim. You are not charged unless it is approved; you will see the outcome here."}
	case claim.StatusApproved, claim.StatusRefundPending:
		return Explanation{Summary: fmt.Sprintf("%s The shopper is being refunded %s; the same amount will be charged to you, and you may then contest the charge for a limited time.",
			approvedHow(r.Decision), amount)}
	case claim.StatusRefunded:
		return Explanation{Summary: fmt.Sprintf("%s The shopper was refunded %s; the same amount is being charged to you, and you may then contest the charge for a limited time.",
			approvedHow(r.Decision), amount)}
	case claim.StatusRefundFailed:
		return Explanation{Summary: "The claim was approved, but the shopper's refund has not gone through yet. You are not charged until it does."}
	case claim.StatusRejected:
		s := "The claim was rejected, so you are not charged for it."
		if rr := c.Rejection(); rr != (claim.RejectionReason{}) {
			s = "An agent rejected the claim: " + rr.SellerText() + " You are not charged for it."
		}
		return Explanation{Summary: s}
	}
	return explainCharge(c, cb, amount, now)
}

// explainCharge tells the seller where the charge of a refunded claim
// stands.
func explainCharge(c *claim.Claim, cb claim.Chargeback, amount string, now time.Time) Explanation {
	if cb.Advanced() {
		return explainProtected(c, cb, amount, now)
	}
	switch cb.Status {
	case claim.ChargebackOpen:
		if now.Before(cb.ContestBy) {
			return Explanation{
				Summary: fmt.Sprintf("The shopper was refunded %s and the same amount was charged to you. If the claim is wrong, you may contest the charge until %s.",
					amount, formatDeadline(cb.ContestBy)),
				WhatHelps: contestHelps[c.Reason()],
			}
		}
		return Explanation{Summary: fmt.Sprintf("You were charged %s for this claim. The window to contest it closed on %s; the charge stands and becomes final.",
			amount, formatDeadline(cb.ContestBy))}
	case claim.ChargebackContested:
		at := cb.ContestBy
		if cb.Contest != nil {
			at = cb.Contest.At
		}
		return Explanation{Summary: fmt.Sprintf("You contested the charge of %s on %s. An agent will settle it; until then it stays on your balance.",
			amount, formatDeadline(at))}
	case claim.ChargebackUpheld:
		if cb.Protected {
			return Explanation{Summary: fmt.Sprintf("An agent upheld the charge of %s after your contest: it is now charged to your balance.", amount)}
		}
		return Explanation{Summary: fmt.Sprintf("An agent upheld the charge of %s after your contest: it stays on your balance.", amount)}
	case claim.ChargebackReversed:
		if cb.Protected {
			return Explanation{Summary: fmt.Sprintf("An agent reversed the charge of %s after your contest: you are not charged, the marketplace bears the cost.", amount)}
		}
		return Explanation{Summary: fmt.Sprintf("An agent reversed the charge of %s after your contest: it was taken off your balance.", amount)}
	case claim.ChargebackFinal:
		return Explanation{Summary: fmt.Sprintf("You were charged %s for this claim and did not contest it within the window, which closed on %s. The charge is final.",
			amount, formatDeadline(cb.ContestBy))}
	case claim.ChargebackWaived:
		return Explanation{Summary: fmt.Sprintf("The marketplace took the charge of %s off your balance and bears the cost itself.", amount)}
	case claim.ChargebackVoided:
		return Explanation{Summary: "The shopper's refund did not go through after all, so the charge was cancelled."}
	}
	return Explanation{Summary: "This claim is " + strings.ReplaceAll(c.Status().String(), "_", " ") + "."}
}

// explainProtected tells a protected seller where a charge not yet
// confirmed stands: the platform refunded the shopper, and the seller's
// balance is untouched until the charge is confirmed.
func explainProtected(c *claim.Claim, cb claim.Chargeback, amount string, now time.Time) Explanation {
	if cb.Status == claim.ChargebackContested {
		return Explanation{Summary: fmt.Sprintf("The platform refunded the shopper %s. You contested the charge; you will be charged only if an agent upholds it.",
			amount)}
	}
	if now.Before(cb.ContestBy) {
		return Explanation{
			Summary: fmt.Sprintf("Refunded to the shopper by the platform (%s); you will be charged only if you do not contest by %s or an agent upholds the charge.",
				amount, formatDeadline(cb.ContestBy)),
			WhatHelps: contestHelps[c.Reason()],
		}
	}
	return Explanation{Summary: fmt.Sprintf("Refunded to the shopper by the platform (%s). The window to contest closed on %s; the charge is being confirmed and will then be charged to you.",
		amount, formatDeadline(cb.ContestBy))}
}

// approvedHow says who approved a claim, in a seller's words.
func approvedHow(d decision.Decision) string {
	if d.Outcome == decision.OutcomeInstantRefund {
		return "The claim was approved at once under the marketplace's fast-refund policy."
	}
	return "The claim was approved after review."
}

// contestHelps says what backs a seller's contest best, by the kind of
// claim.
var contestHelps = map[claim.Reason]string{
	claim.ReasonCounterfeit:    "Invoices from your supplier, the brand's authorisation to sell, or photos of the item you shipped with its serial number help the agent settle your contest.",
	claim.ReasonNotAsDescribed: "The listing as the shopper saw it and photos of the item you shipped help the agent settle your contest.",
	claim.ReasonDamaged:        "Photos of the item and its packing before it left you, and the carrier's condition report, help the agent settle your contest.",
	claim.ReasonNotReceived:    "The carrier's proof of delivery to the shopper's address, with a signature or a photo, helps the agent settle your contest.",
}

// formatDeadline writes an instant the way explanations do.
func formatDeadline(t time.Time) string {
	return t.UTC().Format("2 January 2006, 15:04 MST")
}
