package financeflow

import (
	"context"
	"fmt"
	"time"

	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
)

// MaxDailySpan is the longest period Daily sums, day by day.
const MaxDailySpan = 366 * 24 * time.Hour

// DayOutcome counts the claims filed on a UTC day by the outcome the
// engine decided for them.
type DayOutcome struct {
	Day     time.Time // 00:00 UTC
	Outcome decision.Outcome
	Claims  int
}

// DayAmount sums the money a kind of ledger transaction moved on a UTC
// day, in one currency: what was refunded to shoppers (ledger.KindRefund)
// or recovered from sellers (ledger.KindSellerRecovery).
type DayAmount struct {
	Day    time.Time // 00:00 UTC
	Kind   ledger.Kind
	Amount money.Money
}

// Daily is a period's activity, day by day, for finance's overview. Days
// with nothing have no rows.
type Daily struct {
	Period   finance.Period
	Outcomes []DayOutcome // by day, then outcome
	Amounts  []DayAmount  // by day, kind, currency
}

// Daily sums the period's claims by filing day and decided outcome, and
// its refunds and recoveries by day and currency:
//
//	d, err := fin.Daily(ctx, finance.Period{From: from, To: from.AddDate(0, 0, 30)})
//
// The period must be whole UTC days, at most MaxDailySpan long. Errors:
// *validation.Error naming the bound ("from", "to"); the store's.
func (s *Service) Daily(ctx context.Context, p finance.Period) (Daily, error) {
	if _, err := finance.NewPeriod(p.From, p.To); err != nil {
		return Daily{}, err
	}
	p = finance.Period{From: p.From.UTC(), To: p.To.UTC()}
	if !p.From.Equal(finance.Day(p.From).From) {
		return Daily{}, validation.New("from", "invalid_day", "must be the start of a UTC day")
	}
	if !p.To.Equal(finance.Day(p.To).From) {
		return Daily{}, validation.New("to", "invalid_day", "must be the start of a UTC day")
	}
	if p.To.Sub(p.From) > MaxDailySpan {
		return Daily{}, validation.Newf("to", "period_too_long", "a daily summary covers at most %d days", int(MaxDailySpan/(24*time.Hour)))
	}
	d, err := s.store.Daily(ctx, p)
	if err != nil {
		return Daily{}, fmt.Errorf("daily summary %s: %w", p, err)
	}
	d.Period = p
	return d, nil
}
