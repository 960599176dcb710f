// Package ledger is the engine's double-entry book. A Transaction moves
// money between accounts through postings that sum to zero in every
// currency; NewTransaction refuses anything else, and the database checks
// it again at commit.
//
//	tx, err := ledger.NewTransaction("claim/clm_1/refund", ledger.KindRefund,
//		ledger.Posting{Account: ledger.ClaimsClearing, Amount: amount},
//		ledger.Posting{Account: ledger.ProviderCash("sandbox"), Amount: neg},
//	)
//
// Amounts are signed: debits positive, credits negative. The accounts:
//
//   - provider_cash:<provider>: the platform's money held at a payment
//     provider; a refund credits it (money leaves).
//   - claims_clearing: what the platform paid out on claims and has not yet
//     charged to anyone; a refund debits it, a seller charge credits it.
//   - seller_receivable:<seller>: what a seller owes the platform; a
//     seller charge debits it. Its balance is the seller's debt.
//   - claims_absorbed: what the platform bore itself, charges it took off
//     sellers (waived, or reversed on contest); an expense.
//   - payouts_netted: seller debts withheld from their payouts; the
//     payouts system owes the platform this cash.
//   - payments_received: seller debts paid to the platform directly.
//   - platform_protection: what the platform advanced for protected
//     sellers (charges not yet confirmed); a protected charge debits it,
//     its confirmation, release or void credits it, so it nets to zero
//     once every protected charge is settled.
package ledger

import (
	"errors"
	"fmt"

	"github.com/claimsd/claimsd/domain/money"
)

// Account is a ledger account name.
type Account string

// ClaimsClearing holds refunds paid out until they are charged on.
const ClaimsClearing Account = "claims_clearing"

// ClaimsAbsorbed is the cost of claims the platform bears itself.
const ClaimsAbsorbed Account = "claims_absorbed"

// PayoutsNetted holds seller debts withheld from payouts.
const PayoutsNetted Account = "payouts_netted"

// PaymentsReceived holds seller debts the sellers paid directly.
const PaymentsReceived Account = "payments_received"

// PlatformProtection holds what the platform advanced for protected
// sellers: the cost of a protected charge sits here until the charge is
// confirmed (then it moves to the seller's receivable), released (to
// claims_absorbed) or voided (back to claims_clearing). It nets to zero
// once every protected charge is settled.
const PlatformProtection Account = "platform_protection"

// ProviderCash is the platform's money at a payment provider.
func ProviderCash(provider string) Account { return Account("provider_cash:" + provider) }

// SellerReceivable is what a seller owes the platform.
func SellerReceivable(sellerID string) Account { return Account("seller_receivable:" + sellerID) }

// Kind says what a transaction records.
type Kind string

// Transaction kinds.
const (
	KindRefund               Kind = "refund"
	KindSellerCharge         Kind = "seller_charge"
	KindRefundReversal       Kind = "refund_reversal"
	KindSellerChargeReversal Kind = "seller_charge_reversal"
	KindSellerRecovery       Kind = "seller_recovery"
	// A charge taken off the seller: the platform absorbs it.
	KindChargebackRelease Kind = "chargeback_release"
	// A release undone because its refund failed after all.
	KindChargebackReleaseReversal Kind = "chargeback_release_reversal"
	// A protected charge: the platform carries it until it is confirmed.
	KindProtectedCharge Kind = "protected_charge"
	// A protected charge confirmed: it moves to the seller's receivable.
	KindProtectionConfirm Kind = "protection_confirm"
)

// Posting is one leg of a transaction.
type Posting struct {
	Account Account
	Amount  money.Money // debit positive, credit negative; never zero
}

// Transaction is a balanced set of postings with an idempotency key: the
// store writes a key once, so recording the same business event twice is
// harmless.
type Transaction struct {
	key      string
	kind     Kind
	postings []Posting
}

// ErrUnbalanced is returned when postings do not sum to zero per currency.
var ErrUnbalanced = errors.New("ledger transaction does not balance")

// NewTransaction validates and returns a transaction: a key, at least two
// non-zero postings on named accounts, summing to zero in every currency.
func NewTransaction(key string, kind Kind, postings ...Posting) (Transaction, error) {
	if key == "" {
		return Transaction{}, errors.New("ledger transaction needs a key")
	}
	if len(postings) < 2 {
		return Transaction{}, fmt.Errorf("ledger transaction %s: needs at least two postings", key)
	}
	sums := map[money.Currency]money.Money{}
	for i, p := range postings {
		if p.Account == "" {
			return Transaction{}, fmt.Errorf("ledger transaction %s: posting %d has no account", key, i)
		}
		if p.Amount.Currency().IsZero() {
			return Transaction{}, fmt.Errorf("ledger transaction %s: posting %d has no currency", key, i)
		}
		if p.Amount.IsZero() {
			return Transaction{}, fmt.Errorf("ledger transaction %s: posting %d is zero", key, i)
		}
		s, ok := sums[p.Amount.Currency()]
		if !ok {
			s = money.Of(0, p.Amount.Currency())
		}
		sum, err := s.Add(p.Amount)
		if err != nil {
			return Transaction{}, fmt.Errorf("ledger transaction %s: %w", key, err)
		}
		sums[p.Amount.Currency()] = sum
	}
	for cur, s := range sums {
		if !s.IsZero() {
			return Transaction{}, fmt.Errorf("%w: %s is off by %s", ErrUnbalanced, key, money.Of(s.Amount(), cur))
		}
	}
	return Transaction{key: key, kind: kind, postings: append([]Posting(nil), postings...)}, nil
}

// Transfer returns a two-legged transaction moving amount (positive) from
// one account to another: from is credited, to is debited.
func Transfer(key string, kind Kind, from, to Account, amount money.Money) (Transaction, error) {
	if !amount.IsPositive() {
		return Transaction{}, fmt.Errorf("ledger transfer %s: amount must be positive, got %s", key, amount)
	}
	neg, err := amount.Neg()
	if err != nil {
		return Transaction{}, err
	}
	return NewTransaction(key, kind, Posting{Account: to, Amount: amount}, Posting{Account: from, Amount: neg})
}

// Key returns the transaction's idempotency key.
func (t Transaction) Key() string { return t.key }

// Kind returns what the transaction records.
func (t Transaction) Kind() Kind { return t.kind }

// Postings returns a copy of the legs.
func (t Transaction) Postings() []Posting { return append([]Posting(nil), t.postings...) }
