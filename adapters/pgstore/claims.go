package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

type claimRow struct {
	ID                    string `gorm:"primaryKey"`
	OrderID               string
	ShopperID             string
	SellerID              string
	Reason                string
	Status                string
	Amount                int64
	Currency              string
	Items                 string `gorm:"type:jsonb"`
	Description           string
	Evidence              string `gorm:"type:jsonb"`
	DecisionOutcome       string
	DecisionReasons       string `gorm:"type:jsonb"`
	DecisionPolicyVersion string
	DecisionTier          string
	DecisionFacts         string `gorm:"type:jsonb"`
	DecidedAt             time.Time
	Version               int64
	CreatedAt             time.Time
	UpdatedAt             time.Time
	RefundID              *string
	RefundProvider        *string
	RefundedAt            *time.Time
	FailureCode           *string
	FailureReason         *string
	ChargedAt             *time.Time
	RefundAttempt         int
	ReviewDeadline        *time.Time
	EscalatedAt           *time.Time
	RejectionCode         *string
	ChargebackStatus      *string
	ContestBy             *time.Time
	Chargeback            *string `gorm:"type:jsonb"`
	ChargebackProtected   bool
}

func (claimRow) TableName() string { return "claims" }

type claimItemJSON struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

type evidenceJSON struct {
	Kind string `json:"kind"`
	URL  string `json:"url"`
}

type reasonJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Staff   string `json:"staff,omitempty"`
}

// factsJSON is the stored snapshot of what a decision used, so it can be
// replayed later with the same inputs.
type factsJSON struct {
	ClaimReason                string     `json:"claim_reason"`
	Amount                     int64      `json:"amount"`
	Currency                   string     `json:"currency"`
	OrderAmount                int64      `json:"order_amount"`
	PaidAt                     time.Time  `json:"paid_at"`
	DeliveredAt                *time.Time `json:"delivered_at"`
	ItemsAlreadyClaimed        bool       `json:"items_already_claimed"`
	SellerRiskScore            int        `json:"seller_risk_score"`
	SellerVerified             bool       `json:"seller_verified"`
	SellerCounterfeitClaims90d int        `json:"seller_counterfeit_claims_90d"`
	ShopperFirstOrderAt        time.Time  `json:"shopper_first_order_at"`
	ShopperClaims90d           int        `json:"shopper_claims_90d"`
	ShopperRefunded90d         int64      `json:"shopper_refunded_90d"`
	// Kept from the standing and linked-account rules on; a snapshot
	// without them reads as a standard seller with no linked accounts.
	SellerStanding      string   `json:"seller_standing,omitempty"`
	SellerStandingScore int      `json:"seller_standing_score,omitempty"`
	LinkedShoppers      int      `json:"linked_shoppers,omitempty"`
	LinkedClaims90d     int      `json:"linked_claims_90d,omitempty"`
	LinkedRefunded90d   int64    `json:"linked_refunded_90d,omitempty"`
	LinkedSignals       []string `json:"linked_signals,omitempty"`
}

func toFactsJSON(f decision.Facts) factsJSON {
	return factsJSON{
		ClaimReason: f.ClaimReason.String(), Amount: f.Amount.Amount(), Currency: f.Amount.Currency().String(),
		OrderAmount: f.OrderAmount.Amount(), PaidAt: f.PaidAt, DeliveredAt: f.DeliveredAt,
		ItemsAlreadyClaimed: f.ItemsAlreadyClaimed, SellerRiskScore: f.SellerRiskScore,
		SellerVerified: f.SellerVerified, SellerCounterfeitClaims90d: f.SellerCounterfeitClaims90d,
		ShopperFirstOrderAt: f.ShopperFirstOrderAt, ShopperClaims90d: f.ShopperClaims90d,
		ShopperRefunded90d: f.ShopperRefunded90d.Amount(),
		SellerStanding:     f.SellerStanding.String(), SellerStandingScore: f.SellerStandingScore,
		LinkedShoppers: f.LinkedShoppers, LinkedClaims90d: f.LinkedClaims90d,
		LinkedRefunded90d: f.LinkedRefunded90d.Amount(), LinkedSignals: f.LinkedSignals,
	}
}

func (j factsJSON) domain() decision.Facts {
	cur, _ := money.ParseCurrency(j.Currency)
	reason, _ := claim.ParseReason(j.ClaimReason)
	f := decision.Facts{
		ClaimReason: reason, Amount: money.Of(j.Amount, cur), OrderAmount: money.Of(j.OrderAmount, cur),
		PaidAt: j.PaidAt, DeliveredAt: j.DeliveredAt, ItemsAlreadyClaimed: j.ItemsAlreadyClaimed,
		SellerRiskScore: j.SellerRiskScore, SellerVerified: j.SellerVerified,
		SellerCounterfeitClaims90d: j.SellerCounterfeitClaims90d, ShopperFirstOrderAt: j.ShopperFirstOrderAt,
		ShopperClaims90d: j.ShopperClaims90d, ShopperRefunded90d: money.Of(j.ShopperRefunded90d, cur),
		SellerStanding: standing.Level(j.SellerStanding), SellerStandingScore: j.SellerStandingScore,
		LinkedShoppers: j.LinkedShoppers, LinkedClaims90d: j.LinkedClaims90d, LinkedSignals: j.LinkedSignals,
	}
	// A claim's facts name linked accounts' refunds only when it has
	// linked accounts; otherwise the zero amount, as it was decided with.
	if j.LinkedShoppers > 0 {
		f.LinkedRefunded90d = money.Of(j.LinkedRefunded90d, cur)
	}
	return f
}

// DecisionJSON returns a decision's reasons and the facts it weighed as a
// claim's row keeps them (decision_reasons, decision_facts), for a tool
// that writes recorded decisions in bulk and must write them exactly as
// the engine does, so a backtest reads them back the same:
//
//	reasons, facts, err := pgstore.DecisionJSON(d, f)
func DecisionJSON(d decision.Decision, f decision.Facts) (reasons, facts []byte, err error) {
	rs := make([]reasonJSON, 0, len(d.Reasons))
	for _, r := range d.Reasons {
		rs = append(rs, reasonJSON{Code: r.Code, Message: r.Message, Staff: r.Staff})
	}
	if reasons, err = json.Marshal(rs); err != nil {
		return nil, nil, err
	}
	if facts, err = json.Marshal(toFactsJSON(f)); err != nil {
		return nil, nil, err
	}
	return reasons, facts, nil
}

func newClaimRow(r claimflow.Record) (claimRow, error) {
	c := r.Claim
	items := make([]claimItemJSON, 0, len(c.Items()))
	for _, it := range c.Items() {
		items = append(items, claimItemJSON{SKU: it.SKU, Quantity: it.Quantity})
	}
	evidence := make([]evidenceJSON, 0, len(c.Evidence()))
	for _, ev := range c.Evidence() {
		evidence = append(evidence, evidenceJSON{Kind: ev.Kind, URL: ev.URL})
	}
	var b [4][]byte
	var err error
	for i, v := range []any{items, evidence} {
		if b[i], err = json.Marshal(v); err != nil {
			return claimRow{}, err
		}
	}
	if b[2], b[3], err = DecisionJSON(r.Decision, r.Facts); err != nil {
		return claimRow{}, err
	}
	return claimRow{
		ID: c.ID(), OrderID: c.OrderID(), ShopperID: c.ShopperID(), SellerID: c.SellerID(),
		Reason: c.Reason().String(), Status: c.Status().String(),
		Amount: c.Amount().Amount(), Currency: c.Amount().Currency().String(),
		Items: string(b[0]), Description: c.Description(), Evidence: string(b[1]),
		DecisionOutcome: r.Decision.Outcome.String(), DecisionReasons: string(b[2]),
		DecisionPolicyVersion: r.Decision.PolicyVersion, DecisionTier: r.Decision.Tier,
		DecisionFacts: string(b[3]), DecidedAt: r.DecidedAt,
		Version: c.Version(), CreatedAt: c.CreatedAt(), UpdatedAt: c.UpdatedAt(),
		RefundAttempt: c.RefundAttempt(), ReviewDeadline: nonZeroTime(c.ReviewDeadline()),
	}, nil
}

func (row claimRow) record() (claimflow.Record, error) {
	var items []claimItemJSON
	var evidence []evidenceJSON
	var reasons []reasonJSON
	var facts factsJSON
	for _, p := range []struct {
		src string
		dst any
	}{{row.Items, &items}, {row.Evidence, &evidence}, {row.DecisionReasons, &reasons}, {row.DecisionFacts, &facts}} {
		if err := json.Unmarshal([]byte(p.src), p.dst); err != nil {
			return claimflow.Record{}, fmt.Errorf("claim %s: %w", row.ID, err)
		}
	}
	reason, err := claim.ParseReason(row.Reason)
	if err != nil {
		return claimflow.Record{}, fmt.Errorf("claim %s: %w", row.ID, err)
	}
	status, err := claim.ParseStatus(row.Status)
	if err != nil {
		return claimflow.Record{}, fmt.Errorf("claim %s: %w", row.ID, err)
	}
	outcome, err := decision.ParseOutcome(row.DecisionOutcome)
	if err != nil {
		return claimflow.Record{}, fmt.Errorf("claim %s: %w", row.ID, err)
	}
	cur, err := money.ParseCurrency(row.Currency)
	if err != nil {
		return claimflow.Record{}, fmt.Errorf("claim %s: %w", row.ID, err)
	}
	p := claim.RehydrateParams{
		ID: row.ID, OrderID: row.OrderID, ShopperID: row.ShopperID, SellerID: row.SellerID,
		Reason: reason, Amount: money.Of(row.Amount, cur), Description: row.Description,
		Status: status, Version: row.Version, CreatedAt: row.CreatedAt.UTC(), UpdatedAt: row.UpdatedAt.UTC(),
		Refund:  claim.RefundRef{Provider: deref(row.RefundProvider), ID: deref(row.RefundID)},
		Failure: claim.Failure{Code: claim.FailureCode(deref(row.FailureCode)), Reason: deref(row.FailureReason)},
	}
	if row.RefundedAt != nil {
		p.Refund.At = row.RefundedAt.UTC()
	}
	if err := row.readAgentColumns(&p); err != nil {
		return claimflow.Record{}, err
	}
	for _, it := range items {
		p.Items = append(p.Items, claim.Item{SKU: it.SKU, Quantity: it.Quantity})
	}
	for _, ev := range evidence {
		p.Evidence = append(p.Evidence, claim.Evidence{Kind: ev.Kind, URL: ev.URL})
	}
	d := decision.Decision{Outcome: outcome, PolicyVersion: row.DecisionPolicyVersion, Tier: row.DecisionTier}
	for _, r := range reasons {
		d.Reasons = append(d.Reasons, decision.Reason{Code: r.Code, Message: r.Message, Staff: r.Staff})
	}
	return claimflow.Record{Claim: claim.Rehydrate(p), Decision: d, Facts: facts.domain(), DecidedAt: row.DecidedAt.UTC()}, nil
}

type eventRow struct {
	ClaimID    string `gorm:"primaryKey"`
	Seq        int    `gorm:"primaryKey"`
	Type       string
	FromStatus *string
	ToStatus   string
	ActorKind  string
	ActorID    string
	Note       string
	Data       *string `gorm:"type:jsonb"`
	CreatedAt  time.Time
}

func (eventRow) TableName() string { return "claim_events" }

// appendEvents writes a claim's pending events after its last sequence
// number, in one statement.
func appendEvents(tx *gorm.DB, claimID string, events []claim.Event) error {
	if len(events) == 0 {
		return nil
	}
	var q strings.Builder
	args, err := insertEvents(&q, nil, claimID, events, "")
	if err != nil {
		return err
	}
	return tx.Exec(q.String(), args...).Error
}

// insertEvents writes to q the INSERT of a claim's pending events after
// its last sequence number, and returns args with its values added. With
// gate, the name of a CTE of the same statement, the events are inserted
// only if gate returned a row, so a claim update that matched nothing
// writes no timeline either. Every part of one statement reads the same
// snapshot, so the statement must write no other event of the claim.
func insertEvents(q *strings.Builder, args []any, claimID string, events []claim.Event, gate string) ([]any, error) {
	args = append(args, claimID, claimID)
	q.WriteString(`INSERT INTO claim_events (claim_id, seq, type, from_status, to_status, actor_kind, actor_id, note, data, created_at)
		SELECT ?, (SELECT coalesce(max(seq), 0) FROM claim_events WHERE claim_id = ?) + v.n,
		       v.type, v.from_status, v.to_status, v.actor_kind, v.actor_id, v.note, v.data, v.created_at
		  FROM `)
	if gate != "" {
		q.WriteString(gate)
		q.WriteString(", ")
	}
	q.WriteString("(VALUES ")
	for i, ev := range events {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?::int, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::jsonb, ?::timestamptz)")
		var data *string
		if ev.Data != nil {
			b, err := json.Marshal(ev.Data)
			if err != nil {
				return nil, fmt.Errorf("event data: %w", err)
			}
			d := string(b)
			data = &d
		}
		args = append(args, i+1, ev.Type, nonEmpty(ev.From.String()), ev.To.String(), ev.Actor.Kind, ev.Actor.ID, ev.Note, data, ev.At)
	}
	q.WriteString(") v(n, type, from_status, to_status, actor_kind, actor_id, note, data, created_at)")
	return args, nil
}

// SubmitClaim implements claimflow.Store. The order row is locked FOR
// UPDATE for the whole transaction, so two claims on one order are checked
// one after the other and can never together exceed what was paid. A
// claim costs three statements besides its jobs', as it sits on the
// decision's path: the lock, one read of all else the decision weighs
// (readIntake) and one write of the claim, its events and its shadow
// decision (insertClaimSQL).
func (s *Store) SubmitClaim(ctx context.Context, orderID, buyerID string, since time.Time,
	decide func(claimflow.Intake) (claimflow.Record, error)) (claimflow.Record, error) {
	var rec claimflow.Record
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		var orow orderRow
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).
			Where("id = ? AND buyer_id = ?", orderID, buyerID).Take(&orow).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return &claimflow.NotFoundError{Resource: "order", ID: orderID, Field: "order_id"}
		}
		if err != nil {
			return err
		}
		in, err := readIntake(tx, orow, buyerID, since)
		if err != nil {
			return err
		}
		rec, err = decide(in)
		if err != nil {
			return err
		}
		row, err := newClaimRow(rec)
		if err != nil {
			return err
		}
		q, args, err := insertClaimSQL(row, rec.Claim.PopEvents(), rec.Shadow, rec.DecidedAt)
		if err != nil {
			return err
		}
		var stored claimRow
		if err := tx.Raw(q, args...).Find(&stored).Error; err != nil {
			return err
		}
		s.keep(&stored)
		return s.enqueue(ctx, tx, row.ID, rec.Next, rec.Timers)
	})
	if err != nil {
		return claimflow.Record{}, storeError(err, "submit claim on order %s", orderID)
	}
	return rec, nil
}

// GetClaim implements claimflow.Store.
func (s *Store) GetClaim(ctx context.Context, id string) (claimflow.Record, error) {
	var row claimRow
	err := s.conn(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return claimflow.Record{}, &claimflow.NotFoundError{Resource: "claim", ID: id}
	}
	if err != nil {
		return claimflow.Record{}, storeError(err, "get claim %s", id)
	}
	return row.record()
}

// GetClaims implements claimflow.Store: one statement.
func (s *Store) GetClaims(ctx context.Context, ids []string) (map[string]claimflow.Record, error) {
	out := make(map[string]claimflow.Record, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []claimRow
	if err := s.conn(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, storeError(err, "get %d claims", len(ids))
	}
	for _, row := range rows {
		r, err := row.record()
		if err != nil {
			return nil, err
		}
		out[row.ID] = r
	}
	return out, nil
}

// ListClaims implements claimflow.Store: newest first, keyset-paginated on
// the id, which sorts by creation time.
func (s *Store) ListClaims(ctx context.Context, f claimflow.ClaimFilter) ([]claimflow.Record, string, error) {
	q := s.conn(ctx).Model(&claimRow{})
	if f.ShopperID != "" {
		q = q.Where("shopper_id = ?", f.ShopperID)
	}
	if f.SellerID != "" {
		q = q.Where("seller_id = ?", f.SellerID)
	}
	if f.Status != nil {
		q = q.Where("status = ?", f.Status.String())
	}
	if f.CreatedFrom != nil {
		q = q.Where("created_at >= ?", *f.CreatedFrom)
	}
	if f.CreatedTo != nil {
		q = q.Where("created_at < ?", *f.CreatedTo)
	}
	if f.After != "" {
		q = q.Where("id < ?", f.After)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	var rows []claimRow
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", storeError(err, "list claims")
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].ID
	}
	out := make([]claimflow.Record, 0, len(rows))
	for _, row := range rows {
		r, err := row.record()
		if err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	return out, next, nil
}

// ClaimEvents implements claimflow.Store.
func (s *Store) ClaimEvents(ctx context.Context, id string) ([]claim.Event, error) {
	var rows []eventRow
	if err := s.conn(ctx).Where("claim_id = ?", id).Order("seq").Find(&rows).Error; err != nil {
		return nil, storeError(err, "events of claim %s", id)
	}
	out := make([]claim.Event, 0, len(rows))
	for _, r := range rows {
		ev := claim.Event{Type: r.Type, Actor: claim.Actor{Kind: r.ActorKind, ID: r.ActorID}, Note: r.Note, At: r.CreatedAt.UTC()}
		var err error
		if ev.To, err = claim.ParseStatus(r.ToStatus); err != nil {
			return nil, err
		}
		if r.FromStatus != nil {
			if ev.From, err = claim.ParseStatus(*r.FromStatus); err != nil {
				return nil, err
			}
		}
		if r.Data != nil {
			if err := json.Unmarshal([]byte(*r.Data), &ev.Data); err != nil {
				return nil, fmt.Errorf("event %d data: %w", r.Seq, err)
			}
		}
		out = append(out, ev)
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
