package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

var _ Store = (*Memory)(nil)

// Memory is an in-memory Store, for tests of the workflow's own logic.
// Like the PostgreSQL store it keeps a claim's fields, not the claim, and
// builds a fresh claim for every read and update, so an update whose fn
// fails leaves nothing behind; it writes a ledger key once, reads event
// data back as JSON carries it, and runs one change at a time. Run holds
// it to the same contract as the real store.
//
// Unlike the real store it keeps times as they are given (location and
// nanoseconds), so a test can see a step that records a time outside UTC.
//
//	st := storetest.NewMemory()
//	st.Put(o, c)
//	step := &claimflow.RefundStep{Store: st, ...}
type Memory struct {
	mu        sync.Mutex
	sellers   map[string]*seller.Seller
	orders    map[string]*order.Order
	claims    map[string]stored
	events    map[string][]claim.Event
	ledger    []ledger.Transaction
	scheduled map[string]Scheduled
	updates   int
}

// stored is a claim as the store keeps it.
type stored struct {
	fields    claim.RehydrateParams
	decision  decision.Decision
	facts     decision.Facts
	decidedAt time.Time
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{
		sellers: map[string]*seller.Seller{}, orders: map[string]*order.Order{}, claims: map[string]stored{},
		events: map[string][]claim.Event{}, scheduled: map[string]Scheduled{},
	}
}

// Params returns a claim's fields, as the store keeps them and as
// claim.Rehydrate takes them.
func Params(c *claim.Claim) claim.RehydrateParams {
	return claim.RehydrateParams{
		ID: c.ID(), OrderID: c.OrderID(), ShopperID: c.ShopperID(), SellerID: c.SellerID(),
		Reason: c.Reason(), Items: c.Items(), Amount: c.Amount(), Description: c.Description(),
		Evidence: c.Evidence(), Status: c.Status(), Version: c.Version(),
		CreatedAt: c.CreatedAt(), UpdatedAt: c.UpdatedAt(), Refund: c.Refund(), Failure: c.Failure(),
		RefundAttempt: c.RefundAttempt(), ReviewDeadline: c.ReviewDeadline(), EscalatedAt: c.EscalatedAt(),
		Rejection: c.Rejection(), Chargeback: c.Chargeback(),
	}
}

func rehydrate(p claim.RehydrateParams) *claim.Claim {
	p.Items = slices.Clone(p.Items)
	p.Evidence = slices.Clone(p.Evidence)
	return claim.Rehydrate(p)
}

func (s stored) record() claimflow.Record {
	d := s.decision
	d.Reasons = slices.Clone(d.Reasons)
	return claimflow.Record{Claim: rehydrate(s.fields), Decision: d, Facts: s.facts, DecidedAt: s.decidedAt}
}

// Put stores an order and a claim on it as they are, without their
// events, so the events a test reads are those of the steps it ran.
func (m *Memory) Put(o *order.Order, c *claim.Claim) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c.PopEvents()
	m.orders[o.ID()] = o
	m.claims[c.ID()] = stored{fields: Params(c)}
}

// DeleteOrder forgets an order, as if it had never been stored.
func (m *Memory) DeleteOrder(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.orders, id)
}

// Claim returns the stored claim id, failing the test if there is none.
func (m *Memory) Claim(t testing.TB, id string) *claim.Claim {
	t.Helper()
	rec, err := m.GetClaim(context.Background(), id)
	if err != nil {
		t.Fatalf("stored claim: %v", err)
	}
	return rec.Claim
}

// Events returns the events written for claim id, as ClaimEvents does.
func (m *Memory) Events(id string) []claim.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events[id])
}

// Ledger returns every ledger transaction written, in order.
func (m *Memory) Ledger() []ledger.Transaction {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.ledger)
}

// Scheduled returns what the changes to claim id scheduled, in order.
func (m *Memory) Scheduled(id string) Scheduled {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.scheduled[id]
	return Scheduled{Steps: slices.Clone(s.Steps), Timers: slices.Clone(s.Timers)}
}

// Updates counts the claim changes written by UpdateClaim and AmendClaim.
func (m *Memory) Updates() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.updates
}

// UpsertSeller implements Store.
func (m *Memory) UpsertSeller(_ context.Context, s *seller.Seller, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, had := m.sellers[s.ID()]
	m.sellers[s.ID()] = s
	return !had, nil
}

// UpsertOrder implements Store.
func (m *Memory) UpsertOrder(_ context.Context, o *order.Order, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sellers[o.SellerID()]; !ok {
		return false, &claimflow.NotFoundError{Resource: "seller", ID: o.SellerID(), Field: "seller_id"}
	}
	cur, had := m.orders[o.ID()]
	if had && !sameTerms(cur, o) {
		for _, s := range m.claims {
			if s.fields.OrderID == o.ID() {
				return false, claimflow.ErrOrderHasClaims
			}
		}
	}
	m.orders[o.ID()] = o
	return !had, nil
}

// sameTerms reports whether two versions of an order agree on everything
// a claim is checked against.
func sameTerms(a, b *order.Order) bool {
	return a.BuyerID() == b.BuyerID() && a.SellerID() == b.SellerID() && a.Amount() == b.Amount() &&
		a.Payment() == b.Payment() && slices.Equal(a.Items(), b.Items())
}

// GetSeller implements Store.
func (m *Memory) GetSeller(_ context.Context, id string) (*seller.Seller, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sellers[id]
	if !ok {
		return nil, &claimflow.NotFoundError{Resource: "seller", ID: id}
	}
	return s, nil
}

// GetOrder implements Store.
func (m *Memory) GetOrder(_ context.Context, id string) (*order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[id]
	if !ok {
		return nil, &claimflow.NotFoundError{Resource: "order", ID: id}
	}
	return o, nil
}

// GetClaim implements Store.
func (m *Memory) GetClaim(_ context.Context, id string) (claimflow.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.claims[id]
	if !ok {
		return claimflow.Record{}, &claimflow.NotFoundError{Resource: "claim", ID: id}
	}
	return s.record(), nil
}

// GetClaimOrder implements claimflow.StepStore.
func (m *Memory) GetClaimOrder(ctx context.Context, id string) (claimflow.Record, *order.Order, error) {
	rec, err := m.GetClaim(ctx, id)
	if err != nil {
		return claimflow.Record{}, nil, err
	}
	o, err := m.GetOrder(ctx, rec.Claim.OrderID())
	if err != nil {
		return claimflow.Record{}, nil, err
	}
	return rec, o, nil
}

// GetClaims implements Store.
func (m *Memory) GetClaims(ctx context.Context, ids []string) (map[string]claimflow.Record, error) {
	out := make(map[string]claimflow.Record, len(ids))
	for _, id := range ids {
		if r, err := m.GetClaim(ctx, id); err == nil {
			out[id] = r
		}
	}
	return out, nil
}

// ClaimEvents implements Store.
func (m *Memory) ClaimEvents(_ context.Context, id string) ([]claim.Event, error) {
	return m.Events(id), nil
}

// SubmitClaim implements Store.
func (m *Memory) SubmitClaim(_ context.Context, orderID, buyerID string, since time.Time,
	decide func(claimflow.Intake) (claimflow.Record, error)) (claimflow.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[orderID]
	if !ok || o.BuyerID() != buyerID {
		return claimflow.Record{}, &claimflow.NotFoundError{Resource: "order", ID: orderID, Field: "order_id"}
	}
	sl, ok := m.sellers[o.SellerID()]
	if !ok {
		return claimflow.Record{}, fmt.Errorf("submit claim on order %s: seller %s not found", orderID, o.SellerID())
	}
	rec, err := decide(m.intake(o, sl, buyerID, since))
	if err != nil {
		return claimflow.Record{}, fmt.Errorf("submit claim on order %s: %w", orderID, err)
	}
	c := rec.Claim
	if _, dup := m.claims[c.ID()]; dup {
		return claimflow.Record{}, fmt.Errorf("submit claim on order %s: claim %s exists", orderID, c.ID())
	}
	events, err := jsonEvents(c.PopEvents())
	if err != nil {
		return claimflow.Record{}, fmt.Errorf("submit claim on order %s: %w", orderID, err)
	}
	d := rec.Decision
	if len(d.Reasons) == 0 {
		d.Reasons = nil
	}
	m.claims[c.ID()] = stored{fields: Params(c), decision: d, facts: rec.Facts, decidedAt: rec.DecidedAt}
	m.events[c.ID()] = append(m.events[c.ID()], events...)
	m.schedule(c.ID(), rec.Next, rec.Timers)
	return rec, nil
}

// intake reads what a claim on o is decided against, as SubmitClaim
// documents it.
func (m *Memory) intake(o *order.Order, sl *seller.Seller, buyerID string, since time.Time) claimflow.Intake {
	in := claimflow.Intake{Order: o, Seller: sl}
	for _, other := range m.orders {
		if p := other.PaidAt(); other.BuyerID() == buyerID && p != nil && (in.ShopperFirstOrderAt.IsZero() || p.Before(in.ShopperFirstOrderAt)) {
			in.ShopperFirstOrderAt = p.UTC()
		}
	}
	ids := make([]string, 0, len(m.claims))
	for id := range m.claims {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		f := m.claims[id].fields
		live := f.Status.HoldsAmount()
		if f.OrderID == o.ID() && live {
			in.LiveClaims = append(in.LiveClaims, claimflow.LiveClaim{ID: f.ID, Items: slices.Clone(f.Items), Amount: f.Amount})
		}
		if f.CreatedAt.Before(since) {
			continue
		}
		if f.ShopperID == buyerID {
			in.ShopperClaims++
			if live && f.Amount.Currency() == o.Currency() {
				in.ShopperClaimed += f.Amount.Amount()
			}
		}
		if f.SellerID == o.SellerID() && f.Reason == claim.ReasonCounterfeit && live {
			in.SellerCounterfeitClaims++
		}
	}
	return in
}

// UpdateClaim implements Store.
func (m *Memory) UpdateClaim(ctx context.Context, id string, fn func(c *claim.Claim) (claimflow.Effects, error)) error {
	return m.UpdateRecord(ctx, id, func(r claimflow.Record) (claimflow.Effects, error) { return fn(r.Claim) })
}

// UpdateRecord implements StepStore, as UpdateClaim.
func (m *Memory) UpdateRecord(_ context.Context, id string, fn func(r claimflow.Record) (claimflow.Effects, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.claims[id]
	if !ok {
		return &claimflow.NotFoundError{Resource: "claim", ID: id}
	}
	rec := s.record()
	c := rec.Claim
	eff, err := fn(rec)
	if errors.Is(err, claimflow.ErrNothingToDo) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update claim %s: %w", id, err)
	}
	if err := m.write(s, c, eff); err != nil {
		return fmt.Errorf("update claim %s: %w", id, err)
	}
	return nil
}

// UpdateSeen implements StepStore: fn's change to seen is written if the
// claim is still at seen's version, else (or when fn finds nothing to do)
// it is UpdateRecord.
func (m *Memory) UpdateSeen(ctx context.Context, seen claimflow.Record, fn func(r claimflow.Record) (claimflow.Effects, error)) error {
	id := seen.Claim.ID()
	m.mu.Lock()
	s, ok := m.claims[id]
	if !ok || s.fields.Version != seen.Claim.Version() {
		m.mu.Unlock()
		return m.UpdateRecord(ctx, id, fn)
	}
	eff, err := fn(seen)
	if errors.Is(err, claimflow.ErrNothingToDo) {
		m.mu.Unlock()
		return m.UpdateRecord(ctx, id, fn)
	}
	defer m.mu.Unlock()
	if err != nil {
		return fmt.Errorf("update claim %s: %w", id, err)
	}
	if err := m.write(s, seen.Claim, eff); err != nil {
		return fmt.Errorf("update claim %s: %w", id, err)
	}
	return nil
}

// AmendClaim implements Store.
func (m *Memory) AmendClaim(_ context.Context, id string,
	fn func(c *claim.Claim, refundable money.Money) (claimflow.Effects, error)) (claimflow.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.claims[id]
	if !ok {
		return claimflow.Record{}, &claimflow.NotFoundError{Resource: "claim", ID: id}
	}
	o, ok := m.orders[s.fields.OrderID]
	if !ok {
		return claimflow.Record{}, fmt.Errorf("amend claim %s: order %s not found", id, s.fields.OrderID)
	}
	held := int64(0)
	for otherID, other := range m.claims {
		if otherID != id && other.fields.OrderID == o.ID() && other.fields.Status.HoldsAmount() {
			held += other.fields.Amount.Amount()
		}
	}
	refundable := money.Of(max(o.Amount().Amount()-held, 0), o.Currency())
	c := rehydrate(s.fields)
	eff, err := fn(c, refundable)
	if err != nil {
		return claimflow.Record{}, fmt.Errorf("amend claim %s: %w", id, err)
	}
	if err := m.write(s, c, eff); err != nil {
		return claimflow.Record{}, fmt.Errorf("amend claim %s: %w", id, err)
	}
	return m.claims[id].record(), nil
}

// write stores a changed claim, its new events and eff, all or nothing.
func (m *Memory) write(s stored, c *claim.Claim, eff claimflow.Effects) error {
	events, err := jsonEvents(c.PopEvents())
	if err != nil {
		return err
	}
	s.fields = Params(c)
	m.claims[c.ID()] = s
	m.events[c.ID()] = append(m.events[c.ID()], events...)
	for _, tx := range eff.Ledger {
		if !slices.ContainsFunc(m.ledger, func(had ledger.Transaction) bool { return had.Key() == tx.Key() }) {
			m.ledger = append(m.ledger, tx)
		}
	}
	m.schedule(c.ID(), eff.Next, eff.Timers)
	m.updates++
	return nil
}

func (m *Memory) schedule(id string, steps []claimflow.Step, timers []claimflow.Timer) {
	if len(steps) == 0 && len(timers) == 0 {
		return
	}
	s := m.scheduled[id]
	s.Steps = append(s.Steps, steps...)
	s.Timers = append(s.Timers, timers...)
	m.scheduled[id] = s
}

// jsonEvents returns events with their data as JSON carries it (numbers
// as float64, lists as []any), which is how the real store reads it back.
func jsonEvents(events []claim.Event) ([]claim.Event, error) {
	out := make([]claim.Event, len(events))
	for i, ev := range events {
		if ev.Data != nil {
			b, err := json.Marshal(ev.Data)
			if err != nil {
				return nil, fmt.Errorf("event data: %w", err)
			}
			ev.Data = nil
			if err := json.Unmarshal(b, &ev.Data); err != nil {
				return nil, fmt.Errorf("event data: %w", err)
			}
		}
		out[i] = ev
	}
	return out, nil
}

// Balances implements Store.
func (m *Memory) Balances(_ context.Context, account ledger.Account) ([]money.Money, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sums := map[money.Currency]int64{}
	for _, tx := range m.ledger {
		for _, p := range tx.Postings() {
			if p.Account == account {
				sums[p.Amount.Currency()] += p.Amount.Amount()
			}
		}
	}
	out := make([]money.Money, 0, len(sums))
	for cur, sum := range sums {
		out = append(out, money.Of(sum, cur))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Currency().String() < out[j].Currency().String() })
	return out, nil
}

// StalledClaims implements Store, by claimflow.NextStep itself.
func (m *Memory) StalledClaims(_ context.Context, f claimflow.StalledFilter) ([]claimflow.Record, error) {
	if f.Limit < 1 {
		return nil, fmt.Errorf("stalled claims: limit %d is not positive", f.Limit)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []claimflow.Record
	for _, s := range m.claims {
		c := rehydrate(s.fields)
		next, ok := claimflow.NextStep(c)
		if !ok || !next.At.Before(f.Before) {
			continue
		}
		if a := f.After; a != nil && !after(c, a) {
			continue
		}
		out = append(out, s.record())
	}
	sort.Slice(out, func(i, j int) bool {
		return after(out[j].Claim, &claimflow.StalledCursor{UpdatedAt: out[i].Claim.UpdatedAt(), ID: out[i].Claim.ID()})
	})
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// after reports whether c comes after the cursor in (last change, id)
// order.
func after(c *claim.Claim, cur *claimflow.StalledCursor) bool {
	if !c.UpdatedAt().Equal(cur.UpdatedAt) {
		return c.UpdatedAt().After(cur.UpdatedAt)
	}
	return c.ID() > cur.ID
}
