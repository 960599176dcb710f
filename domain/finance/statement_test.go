package finance_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
)

func TestCategoryOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give ledger.Kind
		want finance.Category
	}{
		{give: ledger.KindSellerCharge, want: finance.CategoryCharge},
		{give: ledger.KindSellerChargeReversal, want: finance.CategoryReversal},
		{give: ledger.KindChargebackRelease, want: finance.CategoryReversal},
		{give: ledger.KindSellerRecovery, want: finance.CategoryRecovery},
		{give: ledger.KindChargebackReleaseReversal, want: finance.CategoryAdjustment},
		{give: ledger.KindRefund, want: finance.CategoryAdjustment},
		{give: ledger.KindRefundReversal, want: finance.CategoryAdjustment},
		{give: ledger.Kind("write_off"), want: finance.CategoryAdjustment},
		{give: ledger.Kind(""), want: finance.CategoryAdjustment},
	}
	for _, tt := range tests {
		t.Run(string(tt.give), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, finance.CategoryOf(tt.give))
		})
	}
}

func newStatement(t *testing.T, opening []money.Money) *finance.Statement {
	t.Helper()
	s, err := finance.NewStatement(opening)
	require.NoError(t, err)
	return s
}

func TestStatement(t *testing.T) {
	t.Parallel()
	s := newStatement(t, []money.Money{euros(10_000), money.Of(-500, usd)})

	steps := []struct {
		kind        ledger.Kind
		amount      money.Money
		wantCat     finance.Category
		wantBalance money.Money
	}{
		{kind: ledger.KindSellerCharge, amount: euros(1999), wantCat: finance.CategoryCharge, wantBalance: euros(11_999)},
		{kind: ledger.KindSellerCharge, amount: money.Of(3000, usd), wantCat: finance.CategoryCharge, wantBalance: money.Of(2500, usd)},
		{kind: ledger.KindSellerChargeReversal, amount: euros(-1999), wantCat: finance.CategoryReversal, wantBalance: euros(10_000)},
		{kind: ledger.KindChargebackRelease, amount: euros(-1000), wantCat: finance.CategoryReversal, wantBalance: euros(9000)},
		{kind: ledger.KindSellerRecovery, amount: euros(-4000), wantCat: finance.CategoryRecovery, wantBalance: euros(5000)},
		{kind: ledger.KindSellerRecovery, amount: money.Of(-2500, usd), wantCat: finance.CategoryRecovery, wantBalance: money.Of(0, usd)},
		{kind: ledger.KindChargebackReleaseReversal, amount: euros(1000), wantCat: finance.CategoryAdjustment, wantBalance: euros(6000)},
		{kind: ledger.Kind("write_off"), amount: euros(-6000), wantCat: finance.CategoryAdjustment, wantBalance: euros(0)},
		{kind: ledger.KindSellerCharge, amount: money.Of(700, gbp), wantCat: finance.CategoryCharge, wantBalance: money.Of(700, gbp)},
	}
	for i, st := range steps {
		cat, balance, err := s.Add(st.kind, st.amount)
		require.NoError(t, err, "step %d", i)
		require.Equal(t, st.wantCat, cat, "step %d", i)
		require.Equal(t, st.wantBalance, balance, "step %d", i)
	}

	want := []finance.StatementTotals{
		{Currency: eur, Opening: 10_000, Charges: 1999, Reversals: -1999 - 1000, Recoveries: -4000, Adjustments: 1000 - 6000, Closing: 0},
		{Currency: gbp, Charges: 700, Closing: 700},
		{Currency: usd, Opening: -500, Charges: 3000, Recoveries: -2500, Closing: 0},
	}
	got := s.Totals()
	require.Equal(t, want, got)
	for _, tot := range got {
		require.Equal(t, tot.Opening+tot.Charges+tot.Reversals+tot.Recoveries+tot.Adjustments, tot.Closing, tot.Currency.String())
	}
}

func TestStatementOpenings(t *testing.T) {
	t.Parallel()
	s := newStatement(t, []money.Money{money.Of(300, usd), euros(100), euros(50)})
	require.Equal(t, []finance.StatementTotals{
		{Currency: eur, Opening: 150, Closing: 150},
		{Currency: usd, Opening: 300, Closing: 300},
	}, s.Totals())

	require.Empty(t, newStatement(t, nil).Totals())

	// Openings that add up beyond int64 are refused, not wrapped.
	_, err := finance.NewStatement([]money.Money{euros(math.MaxInt64), money.Of(1, usd), euros(8997)})
	require.ErrorIs(t, err, money.ErrOverflow)
	require.ErrorContains(t, err, "EUR")
}

func TestStatementOverflow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opening []money.Money
		before  []money.Money // seller charges added first, which succeed
		give    money.Money   // the seller charge that overflows
	}{
		{name: "closing over max", opening: []money.Money{euros(math.MaxInt64)}, give: euros(1)},
		{name: "closing under min", opening: []money.Money{euros(math.MinInt64)}, give: euros(-1)},
		{name: "charges over max, closing fine", opening: []money.Money{euros(-10)}, before: []money.Money{euros(math.MaxInt64)}, give: euros(1)},
		{name: "charges under min, closing fine", opening: []money.Money{euros(10)}, before: []money.Money{euros(math.MinInt64)}, give: euros(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStatement(t, append(tt.opening, money.Of(5, usd)))
			for _, m := range tt.before {
				_, _, err := s.Add(ledger.KindSellerCharge, m)
				require.NoError(t, err)
			}
			before := s.Totals()

			_, _, err := s.Add(ledger.KindSellerCharge, tt.give)
			require.ErrorIs(t, err, money.ErrOverflow)
			require.Equal(t, before, s.Totals(), "totals unchanged")

			// The statement goes on working.
			_, balance, err := s.Add(ledger.KindSellerRecovery, money.Of(-5, usd))
			require.NoError(t, err)
			require.Equal(t, money.Of(0, usd), balance)
		})
	}
}

// TestStatementRandomPostings: whatever postings a statement adds up, each
// currency closes at its opening plus the sum of its postings, the running
// balance Add returns is that sum so far, and the categories add up to the
// closing.
func TestStatementRandomPostings(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	kinds := []ledger.Kind{
		ledger.KindSellerCharge, ledger.KindSellerChargeReversal, ledger.KindChargebackRelease,
		ledger.KindSellerRecovery, ledger.KindChargebackReleaseReversal, ledger.KindRefund,
	}
	for round := range 200 {
		want := map[money.Currency]int64{}
		var opening []money.Money
		for range r.IntN(4) {
			m := money.Of(r.Int64N(2_000_000)-1_000_000, currencies[r.IntN(len(currencies))])
			opening = append(opening, m)
			want[m.Currency()] += m.Amount()
		}
		openings := map[money.Currency]int64{}
		for c, v := range want {
			openings[c] = v
		}
		s := newStatement(t, opening)
		for range r.IntN(100) {
			m := money.Of(r.Int64N(2_000_000)-1_000_000, currencies[r.IntN(len(currencies))])
			kind := kinds[r.IntN(len(kinds))]
			cat, balance, err := s.Add(kind, m)
			require.NoError(t, err)
			require.Equal(t, finance.CategoryOf(kind), cat)
			want[m.Currency()] += m.Amount()
			require.Equal(t, money.Of(want[m.Currency()], m.Currency()), balance, "round %d", round)
		}

		got := s.Totals()
		require.Len(t, got, len(want), "round %d", round)
		require.True(t, slices.IsSortedFunc(got, func(a, b finance.StatementTotals) int {
			return strings.Compare(a.Currency.String(), b.Currency.String())
		}), "round %d: totals in currency order", round)
		for _, tot := range got {
			require.Equal(t, openings[tot.Currency], tot.Opening, "round %d %s", round, tot.Currency)
			require.Equal(t, want[tot.Currency], tot.Closing, "round %d %s", round, tot.Currency)
			require.Equal(t, tot.Opening+tot.Charges+tot.Reversals+tot.Recoveries+tot.Adjustments, tot.Closing, "round %d %s", round, tot.Currency)
		}
	}
}

// The period a report covers (finance.go).

func TestNewPeriod(t *testing.T) {
	t.Parallel()
	cet := time.FixedZone("CET", 3600)
	from := time.Date(2025, 3, 1, 0, 0, 0, 0, cet)
	to := time.Date(2025, 3, 8, 0, 0, 0, 0, cet)

	p, err := finance.NewPeriod(from, to)
	require.NoError(t, err)
	require.Equal(t, time.Date(2025, 2, 28, 23, 0, 0, 0, time.UTC), p.From)
	require.Equal(t, time.Date(2025, 3, 7, 23, 0, 0, 0, time.UTC), p.To)
	require.Equal(t, time.UTC, p.From.Location())
	require.Equal(t, time.UTC, p.To.Location())
	require.Equal(t, "2025-02-28T23:00:00Z/2025-03-07T23:00:00Z", p.String())

	p, err = finance.NewPeriod(from, from.Add(time.Nanosecond))
	require.NoError(t, err)
	require.Equal(t, time.Nanosecond, p.To.Sub(p.From))
}

func TestNewPeriodRefuses(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		give     [2]time.Time // from, to
		want     string       // field
		wantCode string
	}{
		{name: "from unset", give: [2]time.Time{{}, at}, want: "from", wantCode: "required"},
		{name: "both unset", give: [2]time.Time{{}, {}}, want: "from", wantCode: "required"},
		{name: "to unset", give: [2]time.Time{at, {}}, want: "to", wantCode: "required"},
		{name: "to equals from", give: [2]time.Time{at, at}, want: "to", wantCode: "invalid_period"},
		{name: "to before from", give: [2]time.Time{at, at.Add(-time.Nanosecond)}, want: "to", wantCode: "invalid_period"},
		{name: "same instant in another zone", give: [2]time.Time{at, at.In(time.FixedZone("X", 7200))}, want: "to", wantCode: "invalid_period"},
		{name: "from before the epoch", give: [2]time.Time{time.Unix(-1, 0), at}, want: "from", wantCode: "out_of_range"},
		{name: "from in year 1, not unset", give: [2]time.Time{time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), at}, want: "from", wantCode: "out_of_range"},
		{name: "to past year 9999", give: [2]time.Time{at, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, want: "to", wantCode: "out_of_range"},
		{name: "to past year 9999 in UTC only", give: [2]time.Time{at, time.Date(9999, 12, 31, 23, 30, 0, 0, time.FixedZone("W", -3600))}, want: "to", wantCode: "out_of_range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := finance.NewPeriod(tt.give[0], tt.give[1])
			var ve *validation.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tt.want, ve.Field)
			require.Equal(t, tt.wantCode, ve.Code)
		})
	}
}

func TestDay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give time.Time
		want time.Time // the day's start, UTC
	}{
		{name: "late in a zone west of UTC is the next UTC day",
			give: time.Date(2025, 3, 10, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)), want: time.Date(2025, 3, 11, 0, 0, 0, 0, time.UTC)},
		{name: "early in a zone east of UTC is the previous UTC day",
			give: time.Date(2025, 3, 10, 1, 0, 0, 0, time.FixedZone("JST", 9*3600)), want: time.Date(2025, 3, 9, 0, 0, 0, 0, time.UTC)},
		{name: "midnight UTC", give: time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC), want: time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)},
		{name: "last nanosecond UTC", give: time.Date(2025, 3, 10, 23, 59, 59, 999_999_999, time.UTC), want: time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)},
		{name: "end of year", give: time.Date(2024, 12, 31, 22, 0, 0, 0, time.FixedZone("BRT", -3*3600)), want: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "leap day", give: time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), want: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := finance.Day(tt.give)
			require.Equal(t, finance.Period{From: tt.want, To: tt.want.AddDate(0, 0, 1)}, got)
			require.True(t, got.Contains(tt.give))
		})
	}
}

func TestPeriodContains(t *testing.T) {
	t.Parallel()
	p := finance.Day(time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC))
	tests := []struct {
		name string
		give time.Time
		want bool
	}{
		{name: "from", give: p.From, want: true},
		{name: "from in another zone", give: p.From.In(time.FixedZone("EST", -5*3600)), want: true},
		{name: "just before to", give: p.To.Add(-time.Nanosecond), want: true},
		{name: "to", give: p.To, want: false},
		{name: "just before from", give: p.From.Add(-time.Nanosecond), want: false},
		{name: "a day later", give: p.To.Add(12 * time.Hour), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, p.Contains(tt.give))
		})
	}
}
