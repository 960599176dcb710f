// Package claim holds the Claim aggregate: a shopper's request for money
// back on an order, its status and the events that moved it. Every change
// goes through a method that refuses an illegal transition and records a
// timeline Event, which the store appends in the same transaction.
package claim

import (
	"errors"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/ident"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/validation"
)

// Limits on what a shopper may attach to one claim.
const (
	MaxDescription = 4000
	MaxEvidence    = 20
	MaxURL         = 2048
)

// Evidence kinds a shopper may attach.
var evidenceKinds = map[string]bool{"photo": true, "video": true, "document": true, "link": true}

// Item is a claimed quantity of one order line.
type Item struct {
	SKU      string
	Quantity int64
}

// Evidence is a link to something that backs the claim (a photo of the
// fake, an authenticity report).
type Evidence struct {
	Kind string // photo, video, document, link
	URL  string
}

// Actor is who caused an event: the shopper, an agent, the system.
type Actor struct {
	Kind string // shopper, agent, system, service
	ID   string
}

// SystemActor is the engine itself.
var SystemActor = Actor{Kind: "system", ID: "claimsd"}

// Event is one line of a claim's timeline.
type Event struct {
	Type  string // submitted, decided, status_changed, ...
	From  Status // zero for the first event
	To    Status
	Actor Actor
	Note  string
	Data  map[string]any
	At    time.Time
}

// Request is what a shopper asks for, before it is checked against the order.
type Request struct {
	ShopperID   string
	Reason      string
	Items       []Item // empty: the whole order
	Amount      *int64 // nil: the value of the claimed items
	Description string
	Evidence    []Evidence
}

// Claim is the aggregate. Build one with New; the store uses Rehydrate.
type Claim struct {
	id          string
	orderID     string
	shopperID   string
	sellerID    string
	reason      Reason
	items       []Item
	amount      money.Money
	description string
	evidence    []Evidence
	status      Status
	version     int64
	createdAt   time.Time
	updatedAt   time.Time
	refund      RefundRef
	failure     Failure
	// refundAttempt numbers the refund's idempotency keys: it grows when
	// an agent retries a refund the provider refused, so the retry is a
	// new request and not a replay of the refused one.
	refundAttempt  int
	reviewDeadline time.Time // while waiting for a person
	escalatedAt    time.Time // when the deadline passed unanswered
	rejection      RejectionReason
	chargeback     Chargeback

	pending []Event
}

// RefundRef names the provider's refund of a claim.
type RefundRef struct {
	Provider string
	ID       string
	At       time.Time
}

// Failure is why a claim's money could not move: a stable code and the
// reason in words, shown to agents.
type Failure struct {
	Code   FailureCode
	Reason string
}

// ErrNotPaid is returned by New when the order has not been paid, so there
// is nothing to refund.
var ErrNotPaid = errors.New("order is not paid")

// New checks req against the order and returns a submitted claim. refundable
// is what can still be claimed on the order: what was paid minus what other
// live claims hold. Errors are *validation.Error naming the request field;
// an amount above money.MaxAmount is "amount_too_large".
func New(id string, o *order.Order, req Request, refundable money.Money, now time.Time) (*Claim, error) {
	reason, err := ParseReason(req.Reason)
	if err != nil {
		return nil, validation.New("reason", "unknown_reason", "must be one of counterfeit, not_as_described, damaged, not_received")
	}
	if !o.IsPaid() {
		return nil, validation.New("order_id", "order_not_paid", "the order has not been paid, so there is nothing to refund")
	}
	items, value, verr := claimedItems(o, req.Items)
	if verr != nil {
		return nil, verr
	}
	amount := value
	if req.Amount != nil {
		if *req.Amount <= 0 {
			return nil, validation.New("amount", "invalid_amount", "must be a positive number of minor units")
		}
		if err := validation.CheckMaxAmount("amount", *req.Amount, o.Currency()); err != nil {
			return nil, err
		}
		amount = money.Of(*req.Amount, o.Currency())
		if amount.Amount() > value.Amount() {
			return nil, validation.Newf("amount", "amount_exceeds_items",
				"is %s but the claimed items are worth %s", amount, value)
		}
	}
	if !amount.IsPositive() {
		return nil, validation.New("amount", "invalid_amount", "the claimed items are worth nothing")
	}
	// An order stored before amounts were bounded may be worth more than
	// the engine now accepts; a claim on it is refused, not stored.
	if err := validation.CheckMaxAmount("amount", amount.Amount(), o.Currency()); err != nil {
		return nil, err
	}
	if amount.Amount() > refundable.Amount() {
		return nil, validation.Newf("amount", "amount_exceeds_refundable",
			"is %s but only %s of this order can still be claimed", amount, refundable)
	}
	if err := validation.CheckText("description", req.Description, 1, MaxDescription); err != nil {
		return nil, err
	}
	if err := checkEvidence(req.Evidence); err != nil {
		return nil, err
	}
	c := &Claim{
		id: id, orderID: o.ID(), shopperID: req.ShopperID, sellerID: o.SellerID(),
		reason: reason, items: items, amount: amount, description: req.Description,
		evidence: append([]Evidence(nil), req.Evidence...), status: StatusSubmitted,
		version: 1, createdAt: now, updatedAt: now, refundAttempt: 1,
	}
	c.pending = append(c.pending, Event{
		Type: "submitted", To: StatusSubmitted, Actor: Actor{Kind: "shopper", ID: req.ShopperID},
		Data: map[string]any{"reason": reason.String(), "amount": amount.Amount(), "currency": amount.Currency().String()},
		At:   now,
	})
	return c, nil
}

// claimedItems resolves the requested items against the order and returns
// them with their value; no items means the whole order.
func claimedItems(o *order.Order, req []Item) ([]Item, money.Money, *validation.Error) {
	if len(req) == 0 {
		all := o.Items()
		items := make([]Item, len(all))
		for i, it := range all {
			items[i] = Item{SKU: it.SKU, Quantity: it.Quantity}
		}
		return items, o.Amount(), nil
	}
	if len(req) > order.MaxItems {
		return nil, money.Money{}, validation.Newf("items", "too_many_items", "must list at most %d items", order.MaxItems)
	}
	value := money.Of(0, o.Currency())
	seen := make(map[string]bool, len(req))
	for i, it := range req {
		field := validation.Indexed("items", i)
		line, ok := o.Item(it.SKU)
		if !ok {
			return nil, money.Money{}, validation.Newf(field+".sku", "unknown_sku", "%q is not in the order", it.SKU)
		}
		if seen[it.SKU] {
			return nil, money.Money{}, validation.New(field+".sku", "duplicate_sku", "each SKU may appear once")
		}
		seen[it.SKU] = true
		if it.Quantity < 1 || it.Quantity > line.Quantity {
			return nil, money.Money{}, validation.Newf(field+".quantity", "invalid_quantity", "must be between 1 and %d, the quantity ordered", line.Quantity)
		}
		// Cannot overflow: the order's total was checked on the way in.
		lineValue, _ := money.Of(line.UnitAmount, o.Currency()).MulInt(it.Quantity)
		value, _ = value.Add(lineValue)
	}
	return append([]Item(nil), req...), value, nil
}

// checkEvidence validates the evidence links of a claim or a contest.
func checkEvidence(evidence []Evidence) *validation.Error {
	if len(evidence) > MaxEvidence {
		return validation.Newf("evidence", "too_many_evidence", "at most %d links", MaxEvidence)
	}
	for i, ev := range evidence {
		field := validation.Indexed("evidence", i)
		if !evidenceKinds[ev.Kind] {
			return validation.New(field+".kind", "unknown_evidence_kind", "must be photo, video, document or link")
		}
		if err := checkURL(field+".url", ev.URL); err != nil {
			return err
		}
	}
	return nil
}

func checkURL(field, raw string) *validation.Error {
	if raw == "" {
		return validation.New(field, "required", "is required")
	}
	if len(raw) > MaxURL {
		return validation.Newf(field, "too_long", "must be at most %d characters", MaxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(raw, " \t\r\n") {
		return validation.New(field, "invalid_url", "must be an http or https link")
	}
	return nil
}

// RehydrateParams are a stored claim's fields.
type RehydrateParams struct {
	ID, OrderID, ShopperID, SellerID string
	Reason                           Reason
	Items                            []Item
	Amount                           money.Money
	Description                      string
	Evidence                         []Evidence
	Status                           Status
	Version                          int64
	CreatedAt, UpdatedAt             time.Time
	Refund                           RefundRef
	Failure                          Failure
	RefundAttempt                    int // 0 reads as 1
	ReviewDeadline, EscalatedAt      time.Time
	Rejection                        RejectionReason
	Chargeback                       Chargeback
}

// Rehydrate rebuilds a Claim read from the store.
func Rehydrate(p RehydrateParams) *Claim {
	return &Claim{
		id: p.ID, orderID: p.OrderID, shopperID: p.ShopperID, sellerID: p.SellerID,
		reason: p.Reason, items: p.Items, amount: p.Amount, description: p.Description,
		evidence: p.Evidence, status: p.Status, version: p.Version,
		createdAt: p.CreatedAt, updatedAt: p.UpdatedAt, refund: p.Refund, failure: p.Failure,
		refundAttempt: max(p.RefundAttempt, 1), reviewDeadline: p.ReviewDeadline, escalatedAt: p.EscalatedAt,
		rejection: p.Rejection, chargeback: p.Chargeback,
	}
}

// Approve moves the claim to approved: the refund may go ahead.
func (c *Claim) Approve(actor Actor, note string, data map[string]any, now time.Time) error {
	return c.moveTo(StatusApproved, "decided", actor, note, data, now)
}

// SendToReview moves the claim to in_review: a person decides, by the
// deadline.
func (c *Claim) SendToReview(actor Actor, note string, data map[string]any, deadline, now time.Time) error {
	if err := c.moveTo(StatusInReview, "decided", actor, note, data, now); err != nil {
		return err
	}
	c.reviewDeadline = deadline
	return nil
}

// Reject moves the claim to rejected.
func (c *Claim) Reject(actor Actor, note string, data map[string]any, now time.Time) error {
	return c.moveTo(StatusRejected, "decided", actor, note, data, now)
}

// MarkRefunded records the provider's refund: the shopper has the money.
func (c *Claim) MarkRefunded(ref RefundRef, now time.Time) error {
	if err := c.moveTo(StatusRefunded, "refunded", SystemActor, "",
		map[string]any{"provider": ref.Provider, "refund_id": ref.ID}, now); err != nil {
		return err
	}
	c.refund, c.failure = ref, Failure{}
	return nil
}

// MarkRefundPending records a refund the provider accepted but has not
// settled: the claim waits for the provider's word.
func (c *Claim) MarkRefundPending(ref RefundRef, now time.Time) error {
	if err := c.moveTo(StatusRefundPending, "refund_pending", SystemActor, "",
		map[string]any{"provider": ref.Provider, "refund_id": ref.ID}, now); err != nil {
		return err
	}
	c.refund = ref
	return nil
}

// FailRefund records that the refund cannot be made; the claim waits for
// an agent, by the deadline. A chargeback made on the refund is void.
func (c *Claim) FailRefund(f Failure, deadline, now time.Time) error {
	data := map[string]any{"code": f.Code.String()}
	if cb := c.chargeback.Status; cb != ChargebackNone && cb != ChargebackVoided {
		data["chargeback_from"], data["chargeback_to"] = cb.String(), ChargebackVoided.String()
		c.protectedData(data)
	}
	if err := c.moveTo(StatusRefundFailed, "refund_failed", SystemActor, f.Reason, data, now); err != nil {
		return err
	}
	c.failure = f
	c.reviewDeadline = deadline
	if c.chargeback.Status != ChargebackNone {
		c.chargeback.Status = ChargebackVoided
	}
	return nil
}

// ChargeSeller records that the refunded amount was charged to the seller,
// and how it was recovered ("" when it stays on the seller's balance);
// note explains a recovery that could not be made. The seller may contest
// the charge until contestBy.
func (c *Claim) ChargeSeller(now time.Time, recovery, note string, contestBy time.Time) error {
	return c.chargeSeller(now, recovery, note, contestBy, false)
}

// ChargeSellerProtected records the charge of a seller whose standing is
// protected: the platform carries the cost, and the seller bears it only
// once the charge is confirmed (FinalizeChargeback when the window passes
// uncontested, or ResolveContest upholding it). Nothing is recovered from
// the seller at charge time. The seller may contest until contestBy.
func (c *Claim) ChargeSellerProtected(now time.Time, note string, contestBy time.Time) error {
	return c.chargeSeller(now, "", note, contestBy, true)
}

func (c *Claim) chargeSeller(now time.Time, recovery, note string, contestBy time.Time, protected bool) error {
	data := map[string]any{"seller_id": c.sellerID, "amount": c.amount.Amount(), "currency": c.amount.Currency().String(),
		"contest_by": contestBy.UTC().Format(time.RFC3339)}
	if recovery != "" {
		data["recovery"] = recovery
	}
	if protected {
		data["protected"] = true
	}
	if err := c.moveTo(StatusSellerCharged, "seller_charged", SystemActor, note, data, now); err != nil {
		return err
	}
	c.chargeback = Chargeback{Status: ChargebackOpen, ChargedAt: now, ContestBy: contestBy, Recovery: recovery, Protected: protected}
	return nil
}

// Close ends the claim's journey.
func (c *Claim) Close(now time.Time) error {
	return c.moveTo(StatusClosed, "closed", SystemActor, "", nil, now)
}

// Refund returns the provider's refund, if one was made.
func (c *Claim) Refund() RefundRef { return c.refund }

// Failure returns why the money could not move, if it could not.
func (c *Claim) Failure() Failure { return c.failure }

// RefundAttempt numbers the refund's idempotency keys, from 1.
func (c *Claim) RefundAttempt() int { return c.refundAttempt }

// ReviewDeadline is when a claim waiting for a person must be decided by;
// zero when it is not waiting.
func (c *Claim) ReviewDeadline() time.Time { return c.reviewDeadline }

// EscalatedAt is when the review deadline passed unanswered; zero if it
// has not.
func (c *Claim) EscalatedAt() time.Time { return c.escalatedAt }

// Rejection is why an agent rejected the claim; zero otherwise.
func (c *Claim) Rejection() RejectionReason { return c.rejection }

// Chargeback is the charge of the claim to its seller; its Status is
// ChargebackNone until the seller is charged.
func (c *Claim) Chargeback() Chargeback {
	cb := c.chargeback
	if cb.Contest != nil {
		ct := *cb.Contest
		ct.Evidence = append([]Evidence(nil), ct.Evidence...)
		cb.Contest = &ct
	}
	return cb
}

func (c *Claim) moveTo(to Status, eventType string, actor Actor, note string, data map[string]any, now time.Time) error {
	if !c.status.CanMoveTo(to) {
		return &TransitionError{From: c.status, To: to}
	}
	c.pending = append(c.pending, Event{Type: eventType, From: c.status, To: to, Actor: actor, Note: note, Data: data, At: now})
	c.status = to
	c.updatedAt = now
	c.version++
	if !to.WaitsForPerson() {
		c.reviewDeadline, c.escalatedAt = time.Time{}, time.Time{}
	}
	return nil
}

// record appends an event that does not change the claim's status (a
// chargeback's or a deadline's) and counts it as a change.
func (c *Claim) record(eventType string, actor Actor, note string, data map[string]any, now time.Time) {
	c.pending = append(c.pending, Event{Type: eventType, From: c.status, To: c.status, Actor: actor, Note: note, Data: data, At: now})
	c.updatedAt = now
	c.version++
}

// PopEvents returns the events recorded since the claim was built or
// loaded and forgets them; the store appends them with the state change.
func (c *Claim) PopEvents() []Event {
	ev := c.pending
	c.pending = nil
	return ev
}

// ID returns the claim id (clm_…).
func (c *Claim) ID() string { return c.id }

// OrderID returns the order the claim is on.
func (c *Claim) OrderID() string { return c.orderID }

// ShopperID returns the shopper who filed it.
func (c *Claim) ShopperID() string { return c.shopperID }

// SellerID returns the seller of the order.
func (c *Claim) SellerID() string { return c.sellerID }

// Reason returns why the shopper claims.
func (c *Claim) Reason() Reason { return c.reason }

// Items returns the claimed items.
func (c *Claim) Items() []Item { return append([]Item(nil), c.items...) }

// Amount returns the amount claimed.
func (c *Claim) Amount() money.Money { return c.amount }

// Description returns the shopper's words.
func (c *Claim) Description() string { return c.description }

// Evidence returns the attached links.
func (c *Claim) Evidence() []Evidence { return append([]Evidence(nil), c.evidence...) }

// Status returns where the claim stands.
func (c *Claim) Status() Status { return c.status }

// Version counts the claim's changes; the store uses it for optimistic
// concurrency.
func (c *Claim) Version() int64 { return c.version }

// CreatedAt returns when the claim was filed.
func (c *Claim) CreatedAt() time.Time { return c.createdAt }

// UpdatedAt returns when the claim last changed.
func (c *Claim) UpdatedAt() time.Time { return c.updatedAt }

// NewID returns a sortable claim id, "clm_" followed by 26 Crockford
// base32 characters: 48 bits of milliseconds then 80 random bits, so ids
// sort by creation time.
func NewID(now time.Time, rnd io.Reader) (string, error) {
	return ident.New("clm_", now, rnd)
}
