package finance

import (
	"fmt"
	"slices"
	"strings"

	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
)

// Category groups a seller statement's entries.
type Category string

// Statement categories.
const (
	// CategoryCharge: a refund charged to the seller.
	CategoryCharge Category = "charge"
	// CategoryReversal: a charge taken back (the refund failed, the charge
	// was waived or reversed on contest).
	CategoryReversal Category = "reversal"
	// CategoryRecovery: money the seller owed that came back.
	CategoryRecovery Category = "recovery"
	// CategoryAdjustment: any other posting to the seller's receivable.
	CategoryAdjustment Category = "adjustment"
)

// CategoryOf returns the statement category of a ledger transaction kind.
func CategoryOf(k ledger.Kind) Category {
	switch k {
	case ledger.KindSellerCharge, ledger.KindProtectionConfirm:
		return CategoryCharge
	case ledger.KindSellerChargeReversal, ledger.KindChargebackRelease:
		return CategoryReversal
	case ledger.KindSellerRecovery:
		return CategoryRecovery
	}
	return CategoryAdjustment
}

// StatementTotals sum one currency of a seller statement, in signed minor
// units as the ledger holds them (what the seller owes is positive):
// Closing = Opening + Charges + Reversals + Recoveries + Adjustments.
type StatementTotals struct {
	Currency    money.Currency
	Opening     int64
	Charges     int64
	Reversals   int64
	Recoveries  int64
	Adjustments int64
	Closing     int64
}

// Statement adds up a seller's receivable over a period, one entry at a
// time, so entries can be streamed rather than held.
type Statement struct {
	totals map[string]*StatementTotals
}

// NewStatement starts a statement from the balances owed before the
// period, normally one per currency (several in one currency are added
// up). Errors: money.ErrOverflow when they add up beyond int64.
func NewStatement(opening []money.Money) (*Statement, error) {
	s := &Statement{totals: map[string]*StatementTotals{}}
	for _, m := range opening {
		t := s.of(m.Currency())
		sum, err := money.AddMinor(t.Opening, m.Amount())
		if err != nil {
			return nil, fmt.Errorf("opening balance in %s: %w", m.Currency(), err)
		}
		t.Opening, t.Closing = sum, sum
	}
	return s, nil
}

func (s *Statement) of(c money.Currency) *StatementTotals {
	t, ok := s.totals[c.String()]
	if !ok {
		t = &StatementTotals{Currency: c}
		s.totals[c.String()] = t
	}
	return t
}

// Add records one posting to the seller's receivable and returns its
// category and the balance after it. Errors: money.ErrOverflow when a
// total would leave the int64 range; the statement is then unchanged.
func (s *Statement) Add(kind ledger.Kind, amount money.Money) (Category, money.Money, error) {
	t := s.of(amount.Currency())
	cat := CategoryOf(kind)
	var field *int64
	switch cat {
	case CategoryCharge:
		field = &t.Charges
	case CategoryReversal:
		field = &t.Reversals
	case CategoryRecovery:
		field = &t.Recoveries
	default:
		field = &t.Adjustments
	}
	sum, err := money.AddMinor(*field, amount.Amount())
	if err != nil {
		return "", money.Money{}, fmt.Errorf("statement %s in %s: %w", cat, amount.Currency(), err)
	}
	closing, err := money.AddMinor(t.Closing, amount.Amount())
	if err != nil {
		return "", money.Money{}, fmt.Errorf("statement closing balance in %s: %w", amount.Currency(), err)
	}
	*field, t.Closing = sum, closing
	return cat, money.Of(t.Closing, amount.Currency()), nil
}

// Totals returns the totals per currency, in currency order.
func (s *Statement) Totals() []StatementTotals {
	out := make([]StatementTotals, 0, len(s.totals))
	for _, t := range s.totals {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b StatementTotals) int { return strings.Compare(a.Currency.String(), b.Currency.String()) })
	return out
}
