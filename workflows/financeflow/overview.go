package financeflow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
)

// Overview lays a period's activity out day by day, as finance's
// overview charts it: the claims filed each day and the outcome decided
// for them, the share refunded at once, and the money refunded and
// recovered each day in each currency. Currencies are never added
// together. Every slice indexed by day has one entry for each of Days.
type Overview struct {
	Period finance.Period
	// Days are the period's UTC days, oldest first.
	Days []time.Time
	// Filed counts each day's claims, whatever their outcome.
	Filed []int64
	// Decided counts each day's claims by outcome, one series for each of
	// decision.Outcomes, in that order.
	Decided []OutcomeDays
	// Shares is the percentage of each day's claims refunded at once,
	// rounded to the nearest whole percent; 0 on a day without claims.
	Shares []int64
	// Claims and Instant count the period's claims, and those of them
	// refunded at once.
	Claims, Instant int64
	// Money is each currency's refunds and recoveries, by currency code;
	// a currency with neither has none.
	Money []CurrencyDays
}

// OutcomeDays counts each day's claims decided with one outcome.
type OutcomeDays struct {
	Outcome decision.Outcome
	Claims  []int64
}

// CurrencyDays sums one currency's money moved each day: refunded to
// shoppers and recovered from sellers, in minor units, with the period's
// totals.
type CurrencyDays struct {
	Currency                      money.Currency
	Refunded, Recovered           []int64
	TotalRefunded, TotalRecovered money.Money
}

// Outcome returns the day-by-day counts of one outcome (nil for none the
// engine decides).
func (o Overview) Outcome(oc decision.Outcome) []int64 {
	for _, d := range o.Decided {
		if d.Outcome == oc {
			return d.Claims
		}
	}
	return nil
}

// Share is the percentage of the period's claims refunded at once,
// rounded to the nearest whole percent; ok is false when no claim was
// filed.
func (o Overview) Share() (percent int64, ok bool) { return finance.Percent(o.Instant, o.Claims) }

// Overview sums the period's activity day by day (see Daily, whose rules
// the period follows):
//
//	ov, err := fin.Overview(ctx, finance.Period{From: from, To: from.AddDate(0, 0, 30)})
//
// Errors: Daily's; money.ErrOverflow for a total beyond int64.
func (s *Service) Overview(ctx context.Context, p finance.Period) (Overview, error) {
	d, err := s.Daily(ctx, p)
	if err != nil {
		return Overview{}, err
	}
	return d.Overview()
}

// Overview lays d out day by day over d.Period; rows for days outside it
// are left out. Errors: money.ErrOverflow for a day's or the period's
// total beyond int64.
func (d Daily) Overview() (Overview, error) {
	n := 0
	for t := d.Period.From; t.Before(d.Period.To); t = t.AddDate(0, 0, 1) {
		n++
	}
	o := Overview{Period: d.Period, Days: make([]time.Time, n), Filed: make([]int64, n), Shares: make([]int64, n)}
	index := make(map[time.Time]int, n)
	for i := range o.Days {
		o.Days[i] = d.Period.From.AddDate(0, 0, i)
		index[o.Days[i]] = i
	}
	for _, oc := range decision.Outcomes {
		o.Decided = append(o.Decided, OutcomeDays{Outcome: oc, Claims: make([]int64, n)})
	}

	for _, r := range d.Outcomes {
		i, ok := index[r.Day]
		if !ok {
			continue
		}
		if c := o.Outcome(r.Outcome); c != nil {
			c[i] += int64(r.Claims)
		}
		o.Filed[i] += int64(r.Claims)
		o.Claims += int64(r.Claims)
		if r.Outcome == decision.OutcomeInstantRefund {
			o.Instant += int64(r.Claims)
		}
	}
	instant := o.Outcome(decision.OutcomeInstantRefund)
	for i := range o.Days {
		o.Shares[i], _ = finance.Percent(instant[i], o.Filed[i])
	}

	byCur := map[string]*CurrencyDays{}
	for _, a := range d.Amounts {
		i, ok := index[a.Day]
		if !ok {
			continue
		}
		if a.Kind != ledger.KindRefund && a.Kind != ledger.KindSellerRecovery {
			continue
		}
		cur := a.Amount.Currency()
		c, seen := byCur[cur.String()]
		if !seen {
			c = &CurrencyDays{Currency: cur, Refunded: make([]int64, n), Recovered: make([]int64, n)}
			byCur[cur.String()] = c
		}
		day := c.Refunded
		if a.Kind == ledger.KindSellerRecovery {
			day = c.Recovered
		}
		sum, err := money.AddMinor(day[i], a.Amount.Amount())
		if err != nil {
			return Overview{}, fmt.Errorf("overview %s on %s in %s: %w", a.Kind, o.Days[i].Format(time.DateOnly), cur, err)
		}
		day[i] = sum
	}
	for _, c := range byCur {
		var err error
		if c.TotalRefunded, err = sumDays(c.Refunded, c.Currency); err != nil {
			return Overview{}, fmt.Errorf("overview refunded in %s: %w", c.Currency, err)
		}
		if c.TotalRecovered, err = sumDays(c.Recovered, c.Currency); err != nil {
			return Overview{}, fmt.Errorf("overview recovered in %s: %w", c.Currency, err)
		}
		o.Money = append(o.Money, *c)
	}
	slices.SortFunc(o.Money, func(a, b CurrencyDays) int { return strings.Compare(a.Currency.String(), b.Currency.String()) })
	return o, nil
}

// sumDays adds up a currency's amounts day by day.
func sumDays(days []int64, c money.Currency) (money.Money, error) {
	total := money.Of(0, c)
	for _, v := range days {
		var err error
		if total, err = total.Add(money.Of(v, c)); err != nil {
			return money.Money{}, err
		}
	}
	return total, nil
}
