package claimflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/domain/validation"
)

// The actions an agent may take on a claim.
const (
	ActionApprove         = "approve"
	ActionReject          = "reject"
	ActionRetryRefund     = "retry_refund"
	ActionWaiveChargeback = "waive_chargeback"
)

// OverrideRequest is an agent's action on a claim. Version is the claim's
// version the agent saw: if the claim changed since, the action is refused
// with a *ConflictError, so two agents never both act on one state.
type OverrideRequest struct {
	Action     string // approve, reject, retry_refund, waive_chargeback
	ReasonCode string // reject only: a claim.RejectionReason code
	Note       string // required: why, for the timeline
	Version    int64
}

// ConflictError refuses an action on a claim as it stands: it changed
// since the caller looked (Code "version_conflict"), or the action makes
// no sense in its state (a code that says why). Current is the claim now.
type ConflictError struct {
	Code    string
	Message string
	Current Record
}

func (e *ConflictError) Error() string { return e.Code + ": " + e.Message }

// Override applies an agent's action to claim id, with the agent, the old
// and new state and the note in the timeline:
//   - approve (in review, or rejected when the order can still refund it):
//     the refund step follows;
//   - reject (in review, or a failed refund the agent gives up on), for a
//     reason the shopper is shown;
//   - retry_refund (a failed refund): the refund step runs again;
//   - waive_chargeback (the seller bears a charge): the platform absorbs
//     the cost, the seller's balance drops.
//
// Errors: *validation.Error, *NotFoundError, *ConflictError.
func (s *Service) Override(ctx context.Context, v Viewer, id string, req OverrideRequest) (Record, error) {
	var reason claim.RejectionReason
	switch req.Action {
	case ActionApprove, ActionRetryRefund, ActionWaiveChargeback:
		if req.ReasonCode != "" {
			return Record{}, validation.New("reason_code", "unexpected_field", "is only for the reject action")
		}
	case ActionReject:
		if req.ReasonCode == "" {
			return Record{}, validation.New("reason_code", "required", "is required to reject: the shopper is shown it")
		}
		var err error
		if reason, err = claim.ParseRejectionReason(req.ReasonCode); err != nil {
			return Record{}, validation.New("reason_code", "unknown_rejection_reason", rejectionCodes())
		}
	case "":
		return Record{}, validation.New("action", "required", "is required: approve, reject, retry_refund or waive_chargeback")
	default:
		return Record{}, validation.New("action", "unknown_action", "must be approve, reject, retry_refund or waive_chargeback")
	}
	if err := claim.CheckNote(req.Note); err != nil {
		return Record{}, err
	}
	if err := checkVersion(req.Version); err != nil {
		return Record{}, err
	}
	return s.amend(ctx, id, req.Version, func(c *claim.Claim, refundable money.Money, now time.Time) (Effects, error) {
		agent := v.Actor()
		switch req.Action {
		case ActionApprove:
			if err := c.OverrideApprove(agent, req.Note, refundable, now); err != nil {
				return Effects{}, err
			}
		case ActionReject:
			if err := c.OverrideReject(agent, reason, req.Note, now); err != nil {
				return Effects{}, err
			}
		case ActionRetryRefund:
			if err := c.RetryRefund(agent, req.Note, now); err != nil {
				return Effects{}, err
			}
		default:
			from := c.Chargeback()
			if err := c.WaiveChargeback(agent, req.Note, now); err != nil {
				return Effects{}, err
			}
			return releaseEffects(c, from)
		}
		return then(c), nil
	})
}

// releaseEffects moves a charge taken off the seller to the platform's
// own cost; from was the chargeback before it was released. A protected
// charge not yet confirmed was never the seller's: it moves from what the
// platform advanced.
func releaseEffects(c *claim.Claim, from claim.Chargeback) (Effects, error) {
	account := ledger.SellerReceivable(c.SellerID())
	if from.Advanced() {
		account = ledger.PlatformProtection
	}
	tx, err := ledger.Transfer(ChargebackReleaseKey(c.ID(), c.RefundAttempt()), ledger.KindChargebackRelease,
		account, ledger.ClaimsAbsorbed, c.Amount())
	if err != nil {
		return Effects{}, err
	}
	return then(c, tx), nil
}

// confirmEffects moves a protected charge, now confirmed (final, or
// upheld on contest), from what the platform advanced to the seller's
// receivable; an unprotected charge was the seller's already.
func confirmEffects(c *claim.Claim, from claim.Chargeback) (Effects, error) {
	if !from.Advanced() {
		return then(c), nil
	}
	tx, err := ledger.Transfer(ProtectionConfirmKey(c.ID(), c.RefundAttempt()), ledger.KindProtectionConfirm,
		ledger.PlatformProtection, ledger.SellerReceivable(c.SellerID()), c.Amount())
	if err != nil {
		return Effects{}, err
	}
	return then(c, tx), nil
}

func rejectionCodes() string {
	msg := "must be one of"
	for i, r := range claim.RejectionReasons {
		if i > 0 {
			msg += ","
		}
		msg += " " + r.String()
	}
	return msg
}

// ContestRequest is a seller's case against the charge of a claim.
type ContestRequest struct {
	Statement string
	Evidence  []claim.Evidence
}

// Contest records a seller's contest of the charge of one of their
// claims, within the window. Errors: *validation.Error, *NotFoundError
// (also for a claim against another seller), *ConflictError.
func (s *Service) Contest(ctx context.Context, v Viewer, id string, req ContestRequest) (Record, error) {
	if _, err := s.Get(ctx, v, id); err != nil {
		return Record{}, err
	}
	return s.amend(ctx, id, 0, func(c *claim.Claim, _ money.Money, now time.Time) (Effects, error) {
		if err := c.Contest(v.Actor(), req.Statement, req.Evidence, now); err != nil {
			return Effects{}, err
		}
		return then(c), nil
	})
}

// The outcomes of a contest.
const (
	ContestUphold  = "uphold"
	ContestReverse = "reverse"
)

// ResolveContest settles a seller's contest: uphold keeps the charge
// (a protected charge is then moved to the seller's receivable), reverse
// takes it off the seller (a reversing ledger entry; for a protected
// charge the platform's advance becomes its cost). Errors:
// *validation.Error, *NotFoundError, *ConflictError.
func (s *Service) ResolveContest(ctx context.Context, v Viewer, id, outcome, note string, version int64) (Record, error) {
	if outcome != ContestUphold && outcome != ContestReverse {
		if outcome == "" {
			return Record{}, validation.New("outcome", "required", "is required: uphold or reverse")
		}
		return Record{}, validation.New("outcome", "unknown_outcome", "must be uphold or reverse")
	}
	if err := claim.CheckNote(note); err != nil {
		return Record{}, err
	}
	if err := checkVersion(version); err != nil {
		return Record{}, err
	}
	return s.amend(ctx, id, version, func(c *claim.Claim, _ money.Money, now time.Time) (Effects, error) {
		from := c.Chargeback()
		if err := c.ResolveContest(v.Actor(), outcome == ContestUphold, note, now); err != nil {
			return Effects{}, err
		}
		if outcome == ContestUphold {
			return confirmEffects(c, from)
		}
		return releaseEffects(c, from)
	})
}

// checkVersion refuses the claim version an agent acted on when it is
// missing (0) or cannot be a version (below 1).
func checkVersion(version int64) error {
	switch {
	case version == 0:
		return validation.New("version", "required", "is required: the claim's version you acted on")
	case version < 0:
		return validation.New("version", "out_of_range", "must be 1 or more: the claim's version you acted on, as the claim shows it")
	}
	return nil
}

// amend runs fn on the locked claim, refusing with a *ConflictError when
// version (if not 0) is not the claim's, or when fn refuses.
func (s *Service) amend(ctx context.Context, id string, version int64,
	fn func(c *claim.Claim, refundable money.Money, now time.Time) (Effects, error)) (Record, error) {
	if validation.CheckID("id", id) != nil {
		return Record{}, &NotFoundError{Resource: "claim", ID: id}
	}
	rec, err := s.store.AmendClaim(ctx, id, func(c *claim.Claim, refundable money.Money) (Effects, error) {
		if version != 0 && c.Version() != version {
			return Effects{}, &ConflictError{Code: "version_conflict", Message: fmt.Sprintf(
				"the claim changed since version %d: it is at version %d, %s; reload it and decide again", version, c.Version(), c.Status())}
		}
		return fn(c, refundable, s.now().UTC())
	})
	var ce *ConflictError
	var re *claim.RefusedError
	switch {
	case errors.As(err, &ce):
	case errors.As(err, &re):
		ce = &ConflictError{Code: re.Code, Message: re.Message}
	default:
		return rec, err
	}
	// Answer with the claim as it is now, so the caller sees why.
	cur, gerr := s.store.GetClaim(ctx, id)
	if gerr != nil {
		return Record{}, gerr
	}
	ce.Current = cur
	return Record{}, ce
}

// ReviewQueue lists the claims waiting for a person, earliest deadline
// first (overdue ones lead), with the next page's cursor.
func (s *Service) ReviewQueue(ctx context.Context, f QueueFilter) ([]Record, *QueueCursor, error) {
	return s.store.ReviewQueue(ctx, f)
}

// Detail is everything an agent needs to decide a claim.
type Detail struct {
	Record  Record
	Events  []claim.Event
	Shopper History
	Seller  History
	// The seller's profile and what they owe now, per currency.
	SellerProfile *seller.Seller
	SellerOwed    []money.Money
}

// recentClaims is how many of a shopper's or seller's newest claims a
// detail lists.
const recentClaims = 10

// Detail returns claim id with its timeline and the recent history of its
// shopper and seller. Errors: *NotFoundError.
func (s *Service) Detail(ctx context.Context, v Viewer, id string) (Detail, error) {
	rec, err := s.Get(ctx, v, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Record: rec}
	c := rec.Claim
	since := s.now().UTC().Add(-HistoryWindow)
	if d.Events, err = s.store.ClaimEvents(ctx, id); err != nil {
		return Detail{}, err
	}
	if d.Shopper, err = s.store.ClaimHistory(ctx, HistoryFilter{ShopperID: c.ShopperID(), Since: since, Exclude: id, Recent: recentClaims}); err != nil {
		return Detail{}, err
	}
	if d.Seller, err = s.store.ClaimHistory(ctx, HistoryFilter{SellerID: c.SellerID(), Since: since, Exclude: id, Recent: recentClaims}); err != nil {
		return Detail{}, err
	}
	if d.SellerProfile, err = s.store.GetSeller(ctx, c.SellerID()); err != nil {
		return Detail{}, err
	}
	if d.SellerOwed, err = s.store.Balances(ctx, ledger.SellerReceivable(c.SellerID())); err != nil {
		return Detail{}, err
	}
	return d, nil
}
