package finance

import (
	"time"

	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
)

// RecoveryMethod is how money a seller owed came back to the platform.
// Only the package's variables and ParseRecoveryMethod produce one.
type RecoveryMethod struct{ slug string }

// The ways a seller's debt is recovered.
var (
	// RecoveryPayoutNetting: withheld from a payout owed to the seller.
	RecoveryPayoutNetting = RecoveryMethod{"payout_netting"}
	// RecoveryTransferReversal: a Connect transfer to the seller reversed
	// at the payment provider.
	RecoveryTransferReversal = RecoveryMethod{"transfer_reversal"}
	// RecoveryPaymentReceived: the seller paid the platform.
	RecoveryPaymentReceived = RecoveryMethod{"payment_received"}
)

// RecoveryMethods lists every method.
var RecoveryMethods = []RecoveryMethod{RecoveryPayoutNetting, RecoveryTransferReversal, RecoveryPaymentReceived}

// ParseRecoveryMethod returns the method for its slug. Errors:
// *validation.Error on field "method".
func ParseRecoveryMethod(s string) (RecoveryMethod, error) {
	for _, m := range RecoveryMethods {
		if m.slug == s {
			return m, nil
		}
	}
	if s == "" {
		return RecoveryMethod{}, validation.New("method", "required", "is required")
	}
	return RecoveryMethod{}, validation.Newf("method", "invalid_method",
		"must be one of payout_netting, transfer_reversal, payment_received, not %q", s)
}

// String returns the method's slug.
func (m RecoveryMethod) String() string { return m.slug }

// Account is where the recovered money is now: the payouts system's
// withholdings, the platform's cash at the provider (a reversed transfer
// lands in the platform's Stripe balance) or money received directly.
func (m RecoveryMethod) Account() ledger.Account {
	switch m {
	case RecoveryPayoutNetting:
		return ledger.PayoutsNetted
	case RecoveryTransferReversal:
		return ledger.ProviderCash("stripe")
	}
	return ledger.PaymentsReceived
}

// Limits on a recovery's free text.
const (
	MaxReference = 200
	MaxNote      = 2000
)

// Recovery is money a seller owed that came back to the platform.
type Recovery struct {
	ID         string
	SellerID   string
	Amount     money.Money
	Method     RecoveryMethod
	Reference  string // the payout, transfer reversal or payment it came through
	Note       string
	RecordedBy string
	RecordedAt time.Time
}

// NewRecovery validates a recovery. Errors: *validation.Error naming the
// field; an amount above money.MaxAmount is "amount_too_large".
func NewRecovery(id, sellerID string, amount money.Money, method RecoveryMethod, reference, note, by string, at time.Time) (Recovery, error) {
	if err := validation.CheckID("seller_id", sellerID); err != nil {
		return Recovery{}, err
	}
	if amount.Currency().IsZero() {
		return Recovery{}, validation.New("currency", "required", "is required")
	}
	if !amount.IsPositive() {
		return Recovery{}, validation.New("amount", "invalid_amount", "must be a positive number of minor units")
	}
	if err := validation.CheckMaxAmount("amount", amount.Amount(), amount.Currency()); err != nil {
		return Recovery{}, err
	}
	if method == (RecoveryMethod{}) {
		return Recovery{}, validation.New("method", "required", "is required")
	}
	if err := validation.CheckText("reference", reference, 1, MaxReference); err != nil {
		return Recovery{}, err
	}
	if err := validation.CheckText("note", note, 0, MaxNote); err != nil {
		return Recovery{}, err
	}
	return Recovery{ID: id, SellerID: sellerID, Amount: amount, Method: method, Reference: reference,
		Note: note, RecordedBy: by, RecordedAt: at.UTC()}, nil
}

// Check refuses a recovery of more than the seller owes in its currency
// (owed: the seller's receivable balances). Errors: *RefusedError with
// code "over_recovery".
func (r Recovery) Check(owed []money.Money) error {
	due := money.Of(0, r.Amount.Currency())
	for _, m := range owed {
		if m.Currency() == r.Amount.Currency() {
			due = m
		}
	}
	if r.Amount.Amount() > due.Amount() {
		if !due.IsPositive() {
			return refused("over_recovery", "seller %s owes nothing in %s; nothing can be recovered",
				r.SellerID, r.Amount.Currency())
		}
		return refused("over_recovery", "seller %s owes %s; a recovery of %s is more than that",
			r.SellerID, due, r.Amount)
	}
	return nil
}

// LedgerKey is the key of the recovery's ledger transaction.
func (r Recovery) LedgerKey() string { return "recovery/" + r.ID }

// Transaction is the ledger transaction of the recovery: the seller's
// receivable falls, the method's account rises.
func (r Recovery) Transaction() (ledger.Transaction, error) {
	return ledger.Transfer(r.LedgerKey(), ledger.KindSellerRecovery,
		ledger.SellerReceivable(r.SellerID), r.Method.Account(), r.Amount)
}

// Description is the text the ledger and statements show for the
// recovery.
func (r Recovery) Description() string {
	d := r.Method.String() + " " + r.Reference
	if r.Note != "" {
		d += ": " + r.Note
	}
	return d
}
