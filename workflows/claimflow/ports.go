// Package claimflow holds the claim use cases (put orders and sellers,
// submit a claim and decide it, read claims) and the ports they need. It
// orchestrates the domain; adapters implement the ports.
package claimflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/domain/standing"
)

// ErrNotFound is matched (errors.Is) by every *NotFoundError.
var ErrNotFound = errors.New("not found")

// NotFoundError says which resource is missing, and which request field
// named it, if any. A shopper asking for someone else's order or claim gets
// this too: existence is not revealed.
type NotFoundError struct {
	Resource string // order, seller, claim
	ID       string
	Field    string // request field that named it, e.g. "order_id"; may be ""
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Resource, e.ID) }

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ErrOrderHasClaims is returned by Store.UpsertOrder when an update would
// change what existing claims were checked against (buyer, seller, items,
// amount, currency, payment).
var ErrOrderHasClaims = errors.New("order has claims; only paid_at and delivered_at may change")

// ErrUnavailable marks errors that mean the database cannot be reached
// right now; the request may be retried.
var ErrUnavailable = errors.New("database unavailable")

// ErrIdempotencyKeyReused is returned by Store.ClaimOnce (and the finance
// store's keyed runs) when the key was first used for another request.
var ErrIdempotencyKeyReused = errors.New("idempotency key was used for another request")

// Record is a stored claim with the decision that was made on it.
type Record struct {
	Claim     *claim.Claim
	Decision  decision.Decision
	Facts     decision.Facts
	DecidedAt time.Time
	// Shadow is what the policy in shadow decided when the claim was
	// filed, if one was: stored beside the claim, never acted on. Set only
	// on the record SubmitClaim stores.
	Shadow *decision.Decision
	// Next lists the steps to schedule with the record, in the same
	// transaction (an approved claim's refund); Timers the steps to run
	// later (a review deadline).
	Next   []Step
	Timers []Timer
}

// LiveClaim is another claim on the same order that still holds its amount
// (every claim that was not rejected).
type LiveClaim struct {
	ID     string
	Items  []claim.Item
	Amount money.Money
}

// Intake is what a claim is checked and decided against, read under the
// order's row lock so concurrent claims on one order are serialised.
type Intake struct {
	Order      *order.Order
	Seller     *seller.Seller
	LiveClaims []LiveClaim
	// The shopper's history: first paid order, claims filed since the
	// history window began, and the amount of those not rejected (in the
	// order's currency).
	ShopperFirstOrderAt time.Time
	ShopperClaims       int
	ShopperClaimed      int64
	// Counterfeit claims against the seller since the window began, not
	// rejected.
	SellerCounterfeitClaims int
	// The seller's standing as last computed (one indexed read);
	// standing.LevelStandard with score 50 for a seller never computed.
	SellerStanding      standing.Level
	SellerStandingScore int
	// Shoppers linked to this one by a shared identity signal, their
	// claims since the window began (any outcome), the amount of those
	// not rejected in the order's currency, and the kinds of signal that
	// linked them.
	LinkedShoppers int
	LinkedClaims   int
	LinkedClaimed  int64
	LinkedSignals  []string
}

// ClaimFilter selects claims for a list. Zero fields do not filter.
type ClaimFilter struct {
	ShopperID   string
	SellerID    string
	Status      *claim.Status
	CreatedFrom *time.Time
	CreatedTo   *time.Time
	Limit       int
	After       string // cursor: list claims older than this id
}

// Store is the persistence the claim use cases need. Implementations run
// each method in one transaction; a Store that ClaimOnce hands over is
// bound to ClaimOnce's transaction and runs them all in it.
type Store interface {
	LedgerReader
	ShopperOrderReader
	ContestWindowReader
	ContestQueueReader
	// UpsertSeller creates or replaces a seller; created reports which.
	UpsertSeller(ctx context.Context, s *seller.Seller, now time.Time) (created bool, err error)
	// UpsertOrder creates or replaces an order. Errors: *NotFoundError
	// (its seller, Field "seller_id"), ErrOrderHasClaims.
	UpsertOrder(ctx context.Context, o *order.Order, now time.Time) (created bool, err error)
	// SubmitClaim locks the order, reads the Intake (history since the
	// given time) and calls decide; it stores the returned record, its
	// events and its Next steps in the same transaction. Errors: *NotFoundError when the order
	// does not exist or does not belong to buyerID; decide's error.
	SubmitClaim(ctx context.Context, orderID, buyerID string, since time.Time, decide func(Intake) (Record, error)) (Record, error)
	// GetClaim returns one claim. Errors: *NotFoundError.
	GetClaim(ctx context.Context, id string) (Record, error)
	// GetClaims returns the claims of ids, by id, in one read; an id it
	// does not know is left out.
	GetClaims(ctx context.Context, ids []string) (map[string]Record, error)
	// GetOrder returns one order. Errors: *NotFoundError.
	GetOrder(ctx context.Context, id string) (*order.Order, error)
	// GetSeller returns one seller. Errors: *NotFoundError.
	GetSeller(ctx context.Context, id string) (*seller.Seller, error)
	// ListClaims returns claims newest first and the cursor of the next
	// page ("" at the end).
	ListClaims(ctx context.Context, f ClaimFilter) ([]Record, string, error)
	// ClaimEvents returns a claim's timeline in order.
	ClaimEvents(ctx context.Context, id string) ([]claim.Event, error)
	// AmendClaim locks the claim's order, then the claim, and calls fn
	// with the claim and what its order can still refund besides it (what
	// was paid less what the order's other live claims hold). Unless fn
	// returns an error it writes the claim, its new events and fn's
	// Effects in one transaction and returns the stored record. Errors:
	// *NotFoundError, fn's error.
	AmendClaim(ctx context.Context, id string, fn func(c *claim.Claim, refundable money.Money) (Effects, error)) (Record, error)
	// ReviewQueue lists claims waiting for a person, earliest deadline
	// first, and the cursor of the next page ("" at the end).
	ReviewQueue(ctx context.Context, f QueueFilter) ([]Record, *QueueCursor, error)
	// ClaimHistory summarises the claims of one shopper or one seller.
	ClaimHistory(ctx context.Context, f HistoryFilter) (History, error)
	// ClaimOnce runs fn at most once per (scope, key): in one transaction,
	// with a Store bound to it (fn's reads, writes and scheduled steps
	// commit with the key or not at all), and keeps the claim as fn left
	// it with the key and the request's hash. A later call with the same
	// scope, key and hash returns the kept claim with replayed true,
	// without calling fn; a concurrent one waits for the first to commit.
	// Errors: ErrIdempotencyKeyReused when the hash differs; fn's error,
	// in which case nothing is kept.
	ClaimOnce(ctx context.Context, scope, key string, hash []byte, fn func(tx Store) (Record, error)) (rec Record, replayed bool, err error)
}

// QueueFilter selects claims of the review queue. Zero fields do not
// filter; the amount bounds apply to claims in Currency.
type QueueFilter struct {
	Reason    *claim.Reason
	SellerID  string
	Currency  money.Currency
	MinAmount *int64
	MaxAmount *int64
	Limit     int
	After     *QueueCursor // from a previous page
}

// QueueCursor is where a page of the review queue ended.
type QueueCursor struct {
	Deadline time.Time
	ID       string
}

// HistoryFilter selects whose history to read: a shopper's or a seller's.
type HistoryFilter struct {
	ShopperID string
	SellerID  string
	Since     time.Time
	Exclude   string // a claim to leave out (the one being looked at)
	Recent    int    // how many of the newest claims to list
}

// History is a summary of someone's claims.
type History struct {
	Claims   int            // since the window began
	ByStatus map[string]int // claims per status
	// Refunded is what their claims were refunded, per currency (claims
	// refunded, charged on or closed).
	Refunded []money.Money
	Recent   []Record // the newest first
}

// LedgerReader reads account balances.
type LedgerReader interface {
	// Balances returns the account's balance per currency (debits
	// positive); an account never posted to has none.
	Balances(ctx context.Context, account ledger.Account) ([]money.Money, error)
}
