package claimflow

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/domain/validation"
)

// HistoryWindow is how far back a shopper's and a seller's claim history
// is read for a decision.
const HistoryWindow = 90 * 24 * time.Hour

// Service runs the claim use cases.
type Service struct {
	store    Store
	policy   decision.Policy
	policies Policies // nil: policy alone decides
	now      func() time.Time
	rand     io.Reader
	limiter  Limiter // paces File; nil: no limit
}

// Option sets up a Service.
type Option func(*Service)

// WithPolicies decides each claim with src's active policy, read as the
// claim is filed, and with its shadow policy beside it when it has one.
func WithPolicies(src Policies) Option { return func(s *Service) { s.policies = src } }

// WithLimiter paces how often each shopper may file a claim (File).
func WithLimiter(l Limiter) Option { return func(s *Service) { s.limiter = l } }

// NewService returns a Service deciding with policy. now is the clock
// (time.Now in production).
//
//	svc := claimflow.NewService(store, policy, time.Now,
//		claimflow.WithLimiter(claimflow.NewClaimLimiter(20, 10, time.Now)))
func NewService(store Store, policy decision.Policy, now func() time.Time, opts ...Option) *Service {
	s := &Service{store: store, policy: policy, now: now, rand: rand.Reader}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Now returns the time by the service's clock, which decides deadlines.
func (s *Service) Now() time.Time { return s.now().UTC() }

// Policy returns the decision policy in force.
func (s *Service) Policy() decision.Policy { return activePolicy(s.policy, s.policies) }

// PutSeller validates and upserts a seller.
func (s *Service) PutSeller(ctx context.Context, p seller.Params) (*seller.Seller, bool, error) {
	sl, err := seller.New(p)
	if err != nil {
		return nil, false, err
	}
	created, err := s.store.UpsertSeller(ctx, sl, s.now().UTC())
	if err != nil {
		return nil, false, err
	}
	return sl, created, nil
}

// PutOrder validates and upserts an order. Errors: *validation.Error,
// *NotFoundError for an unknown seller, ErrOrderHasClaims.
func (s *Service) PutOrder(ctx context.Context, p order.Params) (*order.Order, bool, error) {
	o, err := order.New(p)
	if err != nil {
		return nil, false, err
	}
	created, err := s.store.UpsertOrder(ctx, o, s.now().UTC())
	if err != nil {
		return nil, false, err
	}
	return o, created, nil
}

// Submit files a claim on orderID for the shopper in req, checks it against
// the order, decides it and stores claim, decision and timeline in one
// transaction. Errors: *NotFoundError (the order is unknown or not the
// shopper's), *validation.Error.
func (s *Service) Submit(ctx context.Context, orderID string, req claim.Request) (Record, error) {
	if err := validation.CheckID("order_id", orderID); err != nil {
		return Record{}, err
	}
	// The decision's moment is kept to the microsecond, as it is stored,
	// so a replay at the stored moment weighs exactly what was weighed.
	now := s.now().UTC().Truncate(time.Microsecond)
	id, err := claim.NewID(now, s.rand)
	if err != nil {
		return Record{}, fmt.Errorf("new claim id: %w", err)
	}
	return s.store.SubmitClaim(ctx, orderID, req.ShopperID, now.Add(-HistoryWindow), func(in Intake) (Record, error) {
		o := in.Order
		refundable := o.Amount()
		for _, lc := range in.LiveClaims {
			if refundable, err = refundable.Sub(lc.Amount); err != nil {
				return Record{}, fmt.Errorf("refundable on order %s: %w", o.ID(), err)
			}
		}
		if refundable.Amount() < 0 {
			refundable = money.Of(0, o.Currency())
		}
		c, err := claim.New(id, o, req, refundable, now)
		if err != nil {
			return Record{}, err
		}
		facts := decision.Facts{
			ClaimReason:                c.Reason(),
			Amount:                     c.Amount(),
			OrderAmount:                o.Amount(),
			PaidAt:                     *o.PaidAt(),
			DeliveredAt:                o.DeliveredAt(),
			ItemsAlreadyClaimed:        overlaps(o, c.Items(), in.LiveClaims),
			SellerRiskScore:            in.Seller.RiskScore(),
			SellerVerified:             in.Seller.Verified(),
			SellerCounterfeitClaims90d: in.SellerCounterfeitClaims,
			ShopperFirstOrderAt:        in.ShopperFirstOrderAt,
			ShopperClaims90d:           in.ShopperClaims,
			ShopperRefunded90d:         money.Of(in.ShopperClaimed, o.Currency()),
			SellerStanding:             in.SellerStanding,
			SellerStandingScore:        in.SellerStandingScore,
		}
		if in.LinkedShoppers > 0 {
			facts.LinkedShoppers, facts.LinkedClaims90d, facts.LinkedSignals = in.LinkedShoppers, in.LinkedClaims, in.LinkedSignals
			facts.LinkedRefunded90d = money.Of(in.LinkedClaimed, o.Currency())
		}
		policy := activePolicy(s.policy, s.policies)
		d := decision.Decide(policy, facts, now)
		deadline := reviewDeadline(policy, c, now)
		if err := apply(c, d, deadline, now); err != nil {
			return Record{}, err
		}
		eff := then(c)
		rec := Record{Claim: c, Decision: d, Facts: facts, DecidedAt: now, Next: eff.Next, Timers: eff.Timers}
		if s.policies != nil {
			// A shadow decides in microseconds (a pure function of what
			// was read for the real decision), so it decides here and is
			// written with the claim; it never moves the claim.
			if sp, ok := s.policies.Shadow(); ok {
				sd := decision.Decide(sp, facts, now)
				rec.Shadow = &sd
			}
		}
		return rec, nil
	})
}

// apply moves a submitted claim to the status its decision calls for; a
// claim sent to review must be decided by deadline.
func apply(c *claim.Claim, d decision.Decision, deadline, now time.Time) error {
	codes := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		codes[i] = r.Code
	}
	data := map[string]any{"outcome": d.Outcome.String(), "reasons": codes, "policy_version": d.PolicyVersion}
	switch d.Outcome {
	case decision.OutcomeInstantRefund:
		return c.Approve(claim.SystemActor, "", data, now)
	case decision.OutcomeRejected:
		return c.Reject(claim.SystemActor, "", data, now)
	default:
		return c.SendToReview(claim.SystemActor, "", data, deadline, now)
	}
}

// overlaps reports whether the claimed items, together with what live
// claims already cover, exceed the quantity ordered of any SKU.
func overlaps(o *order.Order, items []claim.Item, live []LiveClaim) bool {
	held := map[string]int64{}
	for _, lc := range live {
		for _, it := range lc.Items {
			held[it.SKU] += it.Quantity
		}
	}
	for _, it := range items {
		line, _ := o.Item(it.SKU)
		if held[it.SKU]+it.Quantity > line.Quantity {
			return true
		}
	}
	return false
}

// Records returns the claims of ids as they stand, by id, for the
// engine's own use (the events it sends the platform): no viewer, so
// never for a front door. An id it does not know is left out.
func (s *Service) Records(ctx context.Context, ids []string) (map[string]Record, error) {
	return s.store.GetClaims(ctx, ids)
}

// Get returns a claim the viewer may see. Errors: *NotFoundError, also for
// a shopper or a seller asking for a claim that is not theirs.
func (s *Service) Get(ctx context.Context, v Viewer, id string) (Record, error) {
	if validation.CheckID("id", id) != nil {
		return Record{}, &NotFoundError{Resource: "claim", ID: id}
	}
	r, err := s.store.GetClaim(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if !v.owns(r.Claim) {
		return Record{}, &NotFoundError{Resource: "claim", ID: id}
	}
	return r, nil
}

// List returns claims the viewer may see, newest first, and the next cursor.
func (s *Service) List(ctx context.Context, v Viewer, f ClaimFilter) ([]Record, string, error) {
	switch {
	case v.IsShopper():
		f.ShopperID = v.Subject
	case v.IsSeller():
		f.SellerID = v.Subject
	}
	return s.store.ListClaims(ctx, f)
}

// SellerBalance returns what a seller owes the platform, per currency:
// the balance of their receivable in the ledger. A seller sees only their
// own. Errors: *NotFoundError for an unknown seller or another seller's.
func (s *Service) SellerBalance(ctx context.Context, v Viewer, sellerID string) ([]money.Money, error) {
	if validation.CheckID("id", sellerID) != nil || (v.IsSeller() && v.Subject != sellerID) {
		return nil, &NotFoundError{Resource: "seller", ID: sellerID}
	}
	if _, err := s.store.GetSeller(ctx, sellerID); err != nil {
		return nil, err
	}
	return s.store.Balances(ctx, ledger.SellerReceivable(sellerID))
}

// Events returns the timeline of a claim the viewer may see.
func (s *Service) Events(ctx context.Context, v Viewer, id string) ([]claim.Event, error) {
	if _, err := s.Get(ctx, v, id); err != nil {
		return nil, err
	}
	return s.store.ClaimEvents(ctx, id)
}
