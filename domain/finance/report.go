package finance

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/claimsd/claimsd/domain/money"
)

// Percent is 100·part/whole rounded to the nearest whole percent (a half
// rounds up), for shares of counts such as the claims refunded at once:
// 1 of 3 is 33, 2 of 3 is 67, 1 of 8 is 13. ok is false unless
// 0 <= part <= whole and whole > 0: there is no share of nothing. It is
// exact for every int64.
func Percent(part, whole int64) (percent int64, ok bool) {
	if whole <= 0 || part < 0 || part > whole {
		return 0, false
	}
	// (200·part + whole) / (2·whole), in 128 bits so it cannot wrap; the
	// quotient is at most 100.
	hi, lo := bits.Mul64(200, uint64(part))
	lo, carry := bits.Add64(lo, uint64(whole), 0)
	q, _ := bits.Div64(hi+carry, lo, 2*uint64(whole))
	return int64(q), true
}

// TrialTotals sum one currency of a trial balance: its accounts' debits
// and credits, in minor units. The books balance in that currency when
// they are equal.
type TrialTotals struct {
	Currency money.Currency
	Debits   int64
	Credits  int64
}

// Balanced reports whether the currency's debits equal its credits.
func (t TrialTotals) Balanced() bool { return t.Debits == t.Credits }

// TrialBalance adds a trial balance up, one account line at a time.
type TrialBalance struct {
	totals map[string]*TrialTotals
}

// NewTrialBalance starts an empty trial balance.
func NewTrialBalance() *TrialBalance { return &TrialBalance{totals: map[string]*TrialTotals{}} }

// Add records an account's debits and credits (both positive) in a
// currency. Errors: money.ErrOverflow when a total would leave the int64
// range; the totals are then unchanged.
func (tb *TrialBalance) Add(c money.Currency, debits, credits int64) error {
	t, ok := tb.totals[c.String()]
	if !ok {
		t = &TrialTotals{Currency: c}
		tb.totals[c.String()] = t
	}
	d, err := money.AddMinor(t.Debits, debits)
	if err != nil {
		return fmt.Errorf("trial balance debits in %s: %w", c, err)
	}
	cr, err := money.AddMinor(t.Credits, credits)
	if err != nil {
		return fmt.Errorf("trial balance credits in %s: %w", c, err)
	}
	t.Debits, t.Credits = d, cr
	return nil
}

// Totals returns the totals per currency, in currency order.
func (tb *TrialBalance) Totals() []TrialTotals {
	out := make([]TrialTotals, 0, len(tb.totals))
	for _, t := range tb.totals {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b TrialTotals) int { return strings.Compare(a.Currency.String(), b.Currency.String()) })
	return out
}
