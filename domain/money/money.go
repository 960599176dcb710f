// Package money holds amounts as integer minor units with an ISO 4217
// currency. There is no floating point anywhere in this package: 12.34 EUR
// is Money{amount: 1234, currency: "EUR"}.
//
//	price, err := money.New(1999, "EUR")
//	total, err := price.Add(shipping)
package money

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ErrCurrencyMismatch is returned when two amounts of different currencies
// are combined.
var ErrCurrencyMismatch = errors.New("currency mismatch")

// ErrOverflow is returned when arithmetic would leave the int64 range.
// Once amounts are bounded by MaxAmount only a total of millions of
// maximal amounts can meet it; it then means "this total cannot be
// expressed", and no figure is shown rather than a wrong one.
var ErrOverflow = errors.New("amount overflows")

// ErrUnknownCurrency is returned for a code that is not an ISO 4217
// currency this engine handles.
var ErrUnknownCurrency = errors.New("unknown currency")

// Currency is an ISO 4217 alphabetic code such as "EUR". Only ParseCurrency
// builds one, so a Currency value is always known.
type Currency struct{ code string }

// currencies maps each supported ISO 4217 code to its number of minor-unit
// digits (EUR 2, JPY 0, BHD 3).
var currencies = map[string]int{
	"AED": 2, "ARS": 2, "AUD": 2, "BGN": 2, "BHD": 3, "BRL": 2, "CAD": 2,
	"CHF": 2, "CLP": 0, "CNY": 2, "COP": 2, "CZK": 2, "DKK": 2, "EGP": 2,
	"EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2,
	"ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "MAD": 2, "MXN": 2,
	"MYR": 2, "NGN": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PEN": 2, "PHP": 2,
	"PKR": 2, "PLN": 2, "QAR": 2, "RON": 2, "SAR": 2, "SEK": 2, "SGD": 2,
	"THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "UAH": 2, "USD": 2, "VND": 0,
	"ZAR": 2,
}

// ParseCurrency returns the Currency for an upper-case ISO 4217 code, or
// ErrUnknownCurrency.
func ParseCurrency(code string) (Currency, error) {
	if _, ok := currencies[code]; !ok {
		return Currency{}, fmt.Errorf("%w: %q", ErrUnknownCurrency, code)
	}
	return Currency{code: code}, nil
}

// Currencies returns every supported currency, by code.
func Currencies() []Currency {
	out := make([]Currency, 0, len(currencies))
	for code := range currencies {
		out = append(out, Currency{code: code})
	}
	slices.SortFunc(out, func(a, b Currency) int { return strings.Compare(a.code, b.code) })
	return out
}

// MustCurrency is ParseCurrency for constants in tests and defaults; it
// panics on an unknown code.
func MustCurrency(code string) Currency {
	c, err := ParseCurrency(code)
	if err != nil {
		panic(err)
	}
	return c
}

// String returns the ISO code, or "" for the zero Currency.
func (c Currency) String() string { return c.code }

// IsZero reports whether c was never set.
func (c Currency) IsZero() bool { return c.code == "" }

// Exponent is the number of minor-unit digits: 2 for EUR, 0 for JPY.
func (c Currency) Exponent() int { return currencies[c.code] }

// Money is an amount in minor units of a currency. The zero value is not a
// valid amount; build one with New.
type Money struct {
	amount   int64
	currency Currency
}

// New returns amount minor units of the currency code.
func New(amount int64, code string) (Money, error) {
	c, err := ParseCurrency(code)
	if err != nil {
		return Money{}, err
	}
	return Money{amount: amount, currency: c}, nil
}

// Of returns amount minor units of an already parsed currency.
func Of(amount int64, c Currency) Money { return Money{amount: amount, currency: c} }

// Amount returns the signed amount in minor units.
func (m Money) Amount() int64 { return m.amount }

// Currency returns the amount's currency.
func (m Money) Currency() Currency { return m.currency }

// IsPositive reports whether the amount is greater than zero.
func (m Money) IsPositive() bool { return m.amount > 0 }

// IsZero reports whether the amount is zero.
func (m Money) IsZero() bool { return m.amount == 0 }

// Add returns m+o. It fails on a currency mismatch or overflow.
func (m Money) Add(o Money) (Money, error) {
	if m.currency != o.currency {
		return Money{}, fmt.Errorf("%w: %s and %s", ErrCurrencyMismatch, m.currency, o.currency)
	}
	sum, err := AddMinor(m.amount, o.amount)
	if err != nil {
		return Money{}, err
	}
	return Money{amount: sum, currency: m.currency}, nil
}

// AddMinor returns a+b, two amounts in minor units of one currency, or
// ErrOverflow when the sum leaves the int64 range. Totals kept as plain
// int64 fields add with it, never with +:
//
//	if t.Charged, err = money.AddMinor(t.Charged, cb.Amount.Amount()); err != nil { ... }
func AddMinor(a, b int64) (int64, error) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, ErrOverflow
	}
	return a + b, nil
}

// Sub returns m-o. It fails on a currency mismatch or overflow.
func (m Money) Sub(o Money) (Money, error) {
	if o.amount == math.MinInt64 {
		return Money{}, ErrOverflow
	}
	return m.Add(Money{amount: -o.amount, currency: o.currency})
}

// Neg returns -m. It fails for the one amount whose negation overflows.
func (m Money) Neg() (Money, error) {
	if m.amount == math.MinInt64 {
		return Money{}, ErrOverflow
	}
	return Money{amount: -m.amount, currency: m.currency}, nil
}

// MulInt returns m*n. It fails on overflow.
func (m Money) MulInt(n int64) (Money, error) {
	if m.amount != 0 && n != 0 {
		p := m.amount * n
		if p/n != m.amount || (m.amount == -1 && n == math.MinInt64) || (n == -1 && m.amount == math.MinInt64) {
			return Money{}, ErrOverflow
		}
		return Money{amount: p, currency: m.currency}, nil
	}
	return Money{amount: 0, currency: m.currency}, nil
}

// Cmp compares m and o: -1 if m<o, 0 if equal, +1 if m>o. It fails on a
// currency mismatch.
func (m Money) Cmp(o Money) (int, error) {
	if m.currency != o.currency {
		return 0, fmt.Errorf("%w: %s and %s", ErrCurrencyMismatch, m.currency, o.currency)
	}
	switch {
	case m.amount < o.amount:
		return -1, nil
	case m.amount > o.amount:
		return 1, nil
	}
	return 0, nil
}

// String formats the amount with its decimal point and currency, e.g.
// "12.34 EUR" or "-5 JPY", for logs and plain-language messages.
func (m Money) String() string { return m.Decimal() + " " + m.currency.code }

// Decimal writes the amount in its currency's major unit, exactly, with as
// many decimals as the currency has minor-unit digits and no currency
// code: 1999 EUR is "19.99", -5 JPY is "-5", 1 BHD is "0.001". Exports
// and downloads write it beside the minor units.
func (m Money) Decimal() string {
	var u uint64
	if m.amount < 0 {
		u = uint64(-(m.amount + 1)) + 1 // -math.MinInt64 overflows int64
	} else {
		u = uint64(m.amount)
	}
	digits := strconv.FormatUint(u, 10)
	if exp := m.currency.Exponent(); exp > 0 {
		if len(digits) <= exp {
			digits = strings.Repeat("0", exp-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-exp] + "." + digits[len(digits)-exp:]
	}
	if m.amount < 0 {
		return "-" + digits
	}
	return digits
}
