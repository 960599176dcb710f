package money

// maxAmount is what MaxAmount returns for every currency today.
const maxAmount int64 = 1_000_000_000_000 // 10^12 minor units

// MaxAmount returns the largest single amount, in minor units of c, that
// the engine accepts: an order's amount, a unit price, an order line
// (quantity × unit_amount), a claim, a recovery, a decision policy limit,
// an amount filter. Larger input is refused with a validation error that
// names the field; balances and totals are not single amounts and may be
// larger.
//
//	if amount > money.MaxAmount(cur) { ... refuse ... }
//
// It is 10^12 minor units in every supported currency, which is
//
//	10,000,000,000.00 in two-decimal currencies (EUR, USD, GBP, ...)
//	1,000,000,000,000 in currencies without a minor unit (JPY, KRW, VND, CLP, ISK)
//	1,000,000,000.000 in three-decimal currencies (BHD, KWD, OMR, JOD, TND)
//
// How it was chosen. The engine adds amounts up in int64 minor units (an
// order's lines, ledger balances, the trial balance, statements, chargeback
// and reconciliation totals), so the bound that keeps those sums from
// overflowing is a bound in minor units, whatever the currency's exponent:
// the exponent changes what one maximal amount is worth, not how many of
// them fit in an int64. At 10^12, one int64 sum holds 9,223,372 maximal
// amounts (math.MaxInt64 / 10^12). Within one request nothing comes close:
// an order has at most 200 lines, so its total is at most 2 × 10^14, and a
// line's product of quantity (at most 1,000,000) and unit price (at most
// 10^12) is at most 10^18, below math.MaxInt64 before it is even checked.
// Across requests, a balance or a total would overflow only after more
// than nine million maximal claims on one account in one currency (92
// quadrillion EUR, or 9.2 × 10^18 of the smallest-valued units): no
// marketplace moves that much. Even so, every such sum is checked
// (AddMinor in Go; PostgreSQL sums in numeric, brought into int64 only
// when they fit), so a total that cannot be expressed is ErrOverflow,
// never a wrapped number.
//
// One bound in minor units, rather than a table in major units, is also
// the most generous choice for the currencies whose units are worth least
// (VND, IDR, KRW), where a major-unit bound of the same safety would turn
// away real orders. 10^12 is below 2^53, so every amount the engine
// accepts is exact even in JSON readers that hold numbers as doubles.
func MaxAmount(c Currency) int64 { return maxAmount }

// Max returns MaxAmount(c) as Money, for messages: "10000000000.00 EUR".
func Max(c Currency) Money { return Money{amount: MaxAmount(c), currency: c} }
