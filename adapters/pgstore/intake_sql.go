package pgstore

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// intakeSQL reads what a claim's decision weighs beside the order, in one
// statement: the seller, the order's live claims, the shopper's and the
// seller's history since @since, the seller's standing and the shopper's
// linked accounts (linkedSQL). It runs after the statement that locks the
// order, never in it: a statement sees what was committed when it began,
// and a claim committed by the transaction the lock waited for must be
// among the live claims, or two claims could together exceed what was
// paid.
const intakeSQL = `
	SELECT s.id AS seller_id, s.name AS seller_name, s.risk_score AS seller_risk_score,
	       s.verified AS seller_verified, s.stripe_account AS seller_stripe_account,
	       (SELECT coalesce(json_agg(json_build_object('id', c.id, 'items', c.items, 'amount', c.amount) ORDER BY c.id), '[]')
	          FROM claims c WHERE c.order_id = @order AND c.status <> @rejected) AS live,
	       (SELECT min(paid_at) FROM orders WHERE buyer_id = @buyer AND paid_at IS NOT NULL) AS first_order_at,
	       (SELECT count(*) FROM claims WHERE shopper_id = @buyer AND created_at >= @since) AS claims,
	       (SELECT coalesce(sum(amount), 0)::bigint FROM claims WHERE shopper_id = @buyer AND created_at >= @since
	            AND status <> @rejected AND currency = @currency) AS claimed,
	       (SELECT count(*) FROM claims WHERE seller_id = @seller AND created_at >= @since
	            AND reason = @counterfeit AND status <> @rejected) AS counterfeit,
	       st.level AS standing, st.score AS score,
	       l.shoppers AS linked_shoppers, l.signals AS linked_signals,
	       l.claims AS linked_claims, l.claimed AS linked_claimed
	  FROM sellers s
	  LEFT JOIN seller_standing st ON st.seller_id = s.id
	 CROSS JOIN (` + linkedSQL + `) l
	 WHERE s.id = @seller`

// intakeRow is intakeSQL's row.
type intakeRow struct {
	Seller       sellerRow `gorm:"embedded;embeddedPrefix:seller_"`
	Live         string    // [{"id", "items", "amount"}, …]
	FirstOrderAt *time.Time
	Claims       int
	Claimed      int64
	Counterfeit  int
	Standing     *string
	Score        *int
	Linked       linkedAccounts `gorm:"embedded;embeddedPrefix:linked_"`
}

// readIntake reads, in one statement, what a claim on orow's order is
// decided against; tx has locked the order's row.
func readIntake(tx *gorm.DB, orow orderRow, buyerID string, since time.Time) (claimflow.Intake, error) {
	o, err := orow.domain()
	if err != nil {
		return claimflow.Intake{}, err
	}
	var r intakeRow
	res := tx.Raw(intakeSQL, map[string]any{
		"order": orow.ID, "buyer": buyerID, "since": since, "rejected": claim.StatusRejected.String(),
		"currency": orow.Currency, "seller": orow.SellerID, "counterfeit": claim.ReasonCounterfeit.String(),
		"max": maxLinks,
	}).Find(&r)
	if res.Error != nil {
		return claimflow.Intake{}, fmt.Errorf("intake of %s on %s: %w", buyerID, orow.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return claimflow.Intake{}, fmt.Errorf("seller %s: %w", orow.SellerID, gorm.ErrRecordNotFound)
	}
	in := claimflow.Intake{Order: o, Seller: r.Seller.domain()}

	var live []struct {
		ID     string          `json:"id"`
		Items  json.RawMessage `json:"items"`
		Amount int64           `json:"amount"`
	}
	if err := json.Unmarshal([]byte(r.Live), &live); err != nil {
		return claimflow.Intake{}, fmt.Errorf("live claims on %s: %w", o.ID(), err)
	}
	for _, l := range live {
		var items []claimItemJSON
		if err := json.Unmarshal(l.Items, &items); err != nil {
			return claimflow.Intake{}, fmt.Errorf("claim %s items: %w", l.ID, err)
		}
		lc := claimflow.LiveClaim{ID: l.ID, Amount: money.Of(l.Amount, o.Currency())}
		for _, it := range items {
			lc.Items = append(lc.Items, claim.Item{SKU: it.SKU, Quantity: it.Quantity})
		}
		in.LiveClaims = append(in.LiveClaims, lc)
	}

	if r.FirstOrderAt != nil {
		in.ShopperFirstOrderAt = r.FirstOrderAt.UTC()
	}
	in.ShopperClaims, in.ShopperClaimed, in.SellerCounterfeitClaims = r.Claims, r.Claimed, r.Counterfeit
	in.SellerStanding, in.SellerStandingScore = standing.LevelStandard, standing.NoHistoryScore
	if r.Standing != nil && r.Score != nil {
		if in.SellerStanding, err = standing.ParseLevel(*r.Standing); err != nil {
			return claimflow.Intake{}, fmt.Errorf("standing of %s: %w", o.SellerID(), err)
		}
		in.SellerStandingScore = *r.Score
	}
	in.LinkedShoppers, in.LinkedClaims, in.LinkedClaimed, in.LinkedSignals =
		r.Linked.Shoppers, r.Linked.Claims, r.Linked.Claimed, r.Linked.kinds()
	return in, nil
}

// claimColumns are the columns a new claim's row is written with, in
// the order insertClaimSQL gives their values.
const claimColumns = `id, order_id, shopper_id, seller_id, reason, status, amount, currency, items, description,
	evidence, decision_outcome, decision_reasons, decision_policy_version, decision_tier, decision_facts,
	decided_at, version, created_at, updated_at, refund_id, refund_provider, refunded_at, failure_code,
	failure_reason, charged_at, refund_attempt, review_deadline, escalated_at, rejection_code,
	chargeback_status, contest_by, chargeback, chargeback_protected`

// insertClaimSQL returns one statement that writes a new claim's row, its
// events and, when there is one, what the version in shadow decided
// (decided at), and returns the row as stored. The events and the shadow
// decision name the claim by its id: the foreign keys to it are checked
// when the statement ends, after every part of it has run, and the
// triggers on both tables fire as they do for separate inserts.
func insertClaimSQL(row claimRow, events []claim.Event, shadow *decision.Decision, at time.Time) (string, []any, error) {
	var q strings.Builder
	q.WriteString("WITH c AS (\n\tINSERT INTO claims (" + claimColumns + ")\n\tVALUES (")
	args := []any{
		row.ID, row.OrderID, row.ShopperID, row.SellerID, row.Reason, row.Status, row.Amount, row.Currency, row.Items, row.Description,
		row.Evidence, row.DecisionOutcome, row.DecisionReasons, row.DecisionPolicyVersion, row.DecisionTier, row.DecisionFacts,
		row.DecidedAt, row.Version, row.CreatedAt, row.UpdatedAt, row.RefundID, row.RefundProvider, row.RefundedAt, row.FailureCode,
		row.FailureReason, row.ChargedAt, row.RefundAttempt, row.ReviewDeadline, row.EscalatedAt, row.RejectionCode,
		row.ChargebackStatus, row.ContestBy, row.Chargeback, row.ChargebackProtected,
	}
	q.WriteString(placeholders(len(args)))
	q.WriteString(")\n\tRETURNING *\n)")
	if len(events) > 0 {
		q.WriteString(", e AS (\n\tINSERT INTO claim_events (claim_id, seq, type, from_status, to_status, actor_kind, actor_id, note, data, created_at)\n\tVALUES ")
		for i, ev := range events {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + placeholders(10) + ")")
			var data *string
			if ev.Data != nil {
				b, err := json.Marshal(ev.Data)
				if err != nil {
					return "", nil, fmt.Errorf("event data: %w", err)
				}
				d := string(b)
				data = &d
			}
			// A new claim has no events yet, so its events number from 1.
			args = append(args, row.ID, i+1, ev.Type, nonEmpty(ev.From.String()), ev.To.String(), ev.Actor.Kind, ev.Actor.ID, ev.Note, data, ev.At)
		}
		q.WriteString("\n)")
	}
	if shadow != nil {
		codes := make([]string, len(shadow.Reasons))
		for i, r := range shadow.Reasons {
			codes[i] = r.Code
		}
		q.WriteString(", sd AS (\n\tINSERT INTO policy_shadow_decisions (claim_id, version, outcome, reasons, tier, decided_at)\n\tVALUES (" + placeholders(6) + ")\n)")
		args = append(args, row.ID, shadow.PolicyVersion, shadow.Outcome.String(), textArray(codes), shadow.Tier, at)
	}
	q.WriteString("\nSELECT * FROM c")
	return q.String(), args, nil
}

// placeholders is n comma-separated placeholders.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
