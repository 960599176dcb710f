package pgstore

import (
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/claimsd/claimsd/domain/claim"
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
	}).Scan(&r)
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
