package financeflow_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// reportStore answers Daily and TrialBalance from fixed rows.
type reportStore struct {
	financeflow.Store // methods the tests do not reach panic
	daily             financeflow.Daily
	trial             []financeflow.AccountBalance
}

func (s *reportStore) Daily(context.Context, finance.Period) (financeflow.Daily, error) {
	return s.daily, nil
}

func (s *reportStore) TrialBalance(context.Context, time.Time) ([]financeflow.AccountBalance, error) {
	return s.trial, nil
}

func TestOverviewLaysTheDaysOut(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	d2, d3 := day.AddDate(0, 0, 1), day.AddDate(0, 0, 2)
	jpy, bhd := money.MustCurrency("JPY"), money.MustCurrency("BHD")
	top := money.MaxAmount(eur)
	st := &reportStore{daily: financeflow.Daily{
		Outcomes: []financeflow.DayOutcome{
			{Day: day, Outcome: decision.OutcomeInstantRefund, Claims: 1},
			{Day: day, Outcome: decision.OutcomeManualReview, Claims: 2},
			{Day: d3, Outcome: decision.OutcomeInstantRefund, Claims: 7},
			{Day: d3, Outcome: decision.OutcomeRejected, Claims: 1},
			{Day: day.AddDate(0, 0, 3), Outcome: decision.OutcomeInstantRefund, Claims: 50}, // after the period
		},
		Amounts: []financeflow.DayAmount{
			{Day: day, Kind: ledger.KindRefund, Amount: money.Of(top, eur)},
			{Day: day, Kind: ledger.KindRefund, Amount: money.Of(top, eur)},
			{Day: d3, Kind: ledger.KindRefund, Amount: money.Of(3500, eur)},
			{Day: d2, Kind: ledger.KindSellerRecovery, Amount: money.Of(1000, eur)},
			{Day: d3, Kind: ledger.KindRefund, Amount: money.Of(1999, jpy)},
			{Day: d2, Kind: ledger.KindSellerCharge, Amount: money.Of(5, bhd)}, // not an overview's kind
		},
	}}
	svc := financeflow.New(financeflow.Config{Store: st})
	ov, err := svc.Overview(context.Background(), finance.Period{From: day, To: day.AddDate(0, 0, 3)})
	require.NoError(t, err)

	require.Equal(t, []time.Time{day, d2, d3}, ov.Days)
	require.Equal(t, []int64{3, 0, 8}, ov.Filed)
	require.Equal(t, []int64{1, 0, 7}, ov.Outcome(decision.OutcomeInstantRefund))
	require.Equal(t, []int64{2, 0, 0}, ov.Outcome(decision.OutcomeManualReview))
	require.Equal(t, []int64{0, 0, 1}, ov.Outcome(decision.OutcomeRejected))
	require.Len(t, ov.Decided, len(decision.Outcomes))
	require.Equal(t, []int64{33, 0, 88}, ov.Shares, "1 of 3, no claims, 7 of 8 (87.5 rounds up)")
	require.Equal(t, int64(11), ov.Claims)
	require.Equal(t, int64(8), ov.Instant)
	share, ok := ov.Share()
	require.True(t, ok)
	require.Equal(t, int64(73), share)

	require.Equal(t, []financeflow.CurrencyDays{
		{Currency: eur, Refunded: []int64{2 * top, 0, 3500}, Recovered: []int64{0, 1000, 0},
			TotalRefunded: money.Of(2*top+3500, eur), TotalRecovered: money.Of(1000, eur)},
		{Currency: jpy, Refunded: []int64{0, 0, 1999}, Recovered: []int64{0, 0, 0},
			TotalRefunded: money.Of(1999, jpy), TotalRecovered: money.Of(0, jpy)},
	}, ov.Money, "by currency code, never added across currencies; no BHD, which moved nothing the overview shows")
}

func TestOverviewOfNothing(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	svc := financeflow.New(financeflow.Config{Store: &reportStore{}})
	ov, err := svc.Overview(context.Background(), finance.Period{From: day, To: day.AddDate(0, 0, 7)})
	require.NoError(t, err)
	require.Len(t, ov.Days, 7)
	require.Equal(t, make([]int64, 7), ov.Filed)
	require.Equal(t, make([]int64, 7), ov.Shares)
	require.Empty(t, ov.Money)
	_, ok := ov.Share()
	require.False(t, ok, "no share of no claims")
}

// TestOverviewNeverWrapsATotal: amounts stored before they were bounded
// can add up beyond int64; the overview refuses to show such a total.
func TestOverviewNeverWrapsATotal(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		give []financeflow.DayAmount
		want string
	}{
		{name: "a day", give: []financeflow.DayAmount{
			{Day: day, Kind: ledger.KindRefund, Amount: money.Of(math.MaxInt64, eur)},
			{Day: day, Kind: ledger.KindRefund, Amount: money.Of(1, eur)},
		}, want: "overview refund on 2026-03-01 in EUR"},
		{name: "the period", give: []financeflow.DayAmount{
			{Day: day, Kind: ledger.KindSellerRecovery, Amount: money.Of(math.MaxInt64, eur)},
			{Day: day.AddDate(0, 0, 1), Kind: ledger.KindSellerRecovery, Amount: money.Of(1, eur)},
		}, want: "overview recovered in EUR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := financeflow.New(financeflow.Config{Store: &reportStore{daily: financeflow.Daily{Amounts: tt.give}}})
			_, err := svc.Overview(context.Background(), finance.Period{From: day, To: day.AddDate(0, 0, 2)})
			require.ErrorIs(t, err, money.ErrOverflow)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestTrialBalanceReport(t *testing.T) {
	t.Parallel()
	jpy := money.MustCurrency("JPY")
	rows := []financeflow.AccountBalance{
		{Account: "claims_clearing", Currency: eur, Debits: 3000, Credits: 3000, Balance: 0},
		{Account: "claims_clearing", Currency: jpy, Debits: 500, Credits: 500, Balance: 0},
		{Account: "provider_cash:sandbox", Currency: eur, Debits: 0, Credits: 3000, Balance: -3000},
		{Account: "seller_receivable:sel_1", Currency: eur, Debits: 3000, Credits: 0, Balance: 3000},
		{Account: "seller_receivable:sel_1", Currency: jpy, Debits: 400, Credits: 0, Balance: 400},
	}
	svc := financeflow.New(financeflow.Config{Store: &reportStore{trial: rows}})
	tb, err := svc.TrialBalance(context.Background(), time.Time{})
	require.NoError(t, err)
	require.Equal(t, rows, tb.Accounts)
	require.Equal(t, []finance.TrialTotals{
		{Currency: eur, Debits: 6000, Credits: 6000},
		{Currency: jpy, Debits: 900, Credits: 500},
	}, tb.Totals)
	require.True(t, tb.Totals[0].Balanced())
	require.False(t, tb.Totals[1].Balanced())
	require.Equal(t, []financeflow.AccountBalance{rows[1], rows[4]}, tb.In(jpy))

	svc = financeflow.New(financeflow.Config{Store: &reportStore{trial: []financeflow.AccountBalance{
		{Account: "a", Currency: eur, Debits: math.MaxInt64}, {Account: "b", Currency: eur, Debits: 1},
	}}})
	_, err = svc.TrialBalance(context.Background(), time.Time{})
	require.ErrorIs(t, err, money.ErrOverflow)
	require.ErrorContains(t, err, "trial balance debits in EUR")

	svc = financeflow.New(financeflow.Config{Store: &reportStore{}})
	tb, err = svc.TrialBalance(context.Background(), time.Time{})
	require.NoError(t, err)
	require.Empty(t, tb.Accounts)
	require.NotNil(t, tb.Totals, "an empty list, not none")
}
