package financeflow_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

var eur = money.MustCurrency("EUR")

// fakeStore keeps one run and answers ReconcileClaims from fixed claims:
// those refunded in the period, plus those the providers name.
type fakeStore struct {
	financeflow.Store // methods the tests do not reach panic

	claims   map[string]finance.ClaimRefund
	inPeriod []string // claim ids refunded in the period
	ledgers  []finance.LedgerRefund
	asked    []string // the ids ReconcileClaims was asked about

	run      financeflow.Run
	items    []finance.Item
	failed   string
	finished bool
}

func (f *fakeStore) ReconcileClaims(_ context.Context, _ []string, _ finance.Period, ids []string) ([]finance.ClaimRefund, []finance.LedgerRefund, error) {
	f.asked = ids
	seen := map[string]bool{}
	var out []finance.ClaimRefund
	for _, id := range append(append([]string{}, f.inPeriod...), ids...) {
		if c, ok := f.claims[id]; ok && !seen[id] {
			seen[id] = true
			out = append(out, c)
		}
	}
	var ls []finance.LedgerRefund
	for _, l := range f.ledgers {
		if seen[l.ClaimID] {
			ls = append(ls, l)
		}
	}
	return out, ls, nil
}

func (f *fakeStore) CreateRun(_ context.Context, r financeflow.Run) (financeflow.Run, bool, error) {
	f.run = r
	return r, true, nil
}

func (f *fakeStore) StartRun(context.Context, string, time.Time) (financeflow.Run, error) {
	if f.run.Status == financeflow.RunQueued {
		f.run.Status = financeflow.RunRunning
	}
	return f.run, nil
}

func (f *fakeStore) FinishRun(_ context.Context, r financeflow.Run, items []finance.Item) error {
	f.run, f.items, f.finished = r, items, true
	return nil
}

func (f *fakeStore) FailRun(_ context.Context, _ string, _ time.Time, reason string) error {
	f.run.Status, f.failed = financeflow.RunFailed, reason
	return nil
}

// fakeProvider lists its refunds by creation time and counts look-ups.
type fakeProvider struct {
	refunds []finance.ProviderRefund
	listErr error
	gets    []string
	listed  []finance.Period // the windows asked for
}

func (p *fakeProvider) Name() string { return "sandbox" }

func (p *fakeProvider) ListRefunds(_ context.Context, from, to time.Time) ([]finance.ProviderRefund, error) {
	p.listed = append(p.listed, finance.Period{From: from, To: to})
	if p.listErr != nil {
		return nil, p.listErr
	}
	var out []finance.ProviderRefund
	for _, r := range p.refunds {
		if !r.Created.Before(from) && r.Created.Before(to) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (p *fakeProvider) GetRefund(_ context.Context, id string) (finance.ProviderRefund, bool, error) {
	p.gets = append(p.gets, id)
	for _, r := range p.refunds {
		if r.ID == id {
			return r, true, nil
		}
	}
	return finance.ProviderRefund{}, false, nil
}

var day = finance.Day(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))

func closed(id, refundID string, amount int64) finance.ClaimRefund {
	return finance.ClaimRefund{ClaimID: id, Status: claim.StatusClosed, Provider: "sandbox", RefundID: refundID, Amount: money.Of(amount, eur)}
}

func refund(id, claimID string, amount int64, at time.Time) finance.ProviderRefund {
	return finance.ProviderRefund{Provider: "sandbox", ID: id, ClaimID: claimID, Status: finance.RefundSucceeded,
		Amount: money.Of(amount, eur), Created: at}
}

func paid(claimID string, amount int64) finance.LedgerRefund {
	return finance.LedgerRefund{ClaimID: claimID, Provider: "sandbox", Net: money.Of(amount, eur)}
}

func reconcile(t *testing.T, st *fakeStore, p *fakeProvider) *fakeStore {
	t.Helper()
	now := day.To.Add(2 * time.Hour)
	svc := financeflow.New(financeflow.Config{Store: st, Providers: []financeflow.ProviderRecords{p}, Now: func() time.Time { return now }})
	run, err := svc.RequestReconciliation(context.Background(), claimflow.Viewer{Role: "finance", Subject: "fin"}, day)
	require.NoError(t, err)
	require.Equal(t, []string{"sandbox"}, run.Providers)
	require.NoError(t, svc.RunReconciliation(context.Background(), run.ID, false))
	require.True(t, st.finished)
	return st
}

// TestReconcileWindow: the provider's refunds are read an hour either
// side of the period; those belong to the run that are its claims' or
// made in the period, and a claim's refund the listing missed is read by
// id.
func TestReconcileWindow(t *testing.T) {
	t.Parallel()
	st := &fakeStore{
		claims: map[string]finance.ClaimRefund{
			"c_in":     closed("c_in", "re_in", 100),
			"c_early":  closed("c_early", "re_early", 200), // refunded just before midnight by the provider's clock
			"c_old":    closed("c_old", "re_old", 300),     // the provider made it days ago (pending until today)
			"c_before": closed("c_before", "re_before", 400),
		},
		inPeriod: []string{"c_in", "c_early", "c_old"},
		ledgers:  []finance.LedgerRefund{paid("c_in", 100), paid("c_early", 200), paid("c_old", 300), paid("c_before", 400)},
	}
	p := &fakeProvider{refunds: []finance.ProviderRefund{
		refund("re_in", "c_in", 100, day.From.Add(time.Hour)),
		refund("re_early", "c_early", 200, day.From.Add(-time.Minute)),
		refund("re_old", "c_old", 300, day.From.AddDate(0, 0, -3)),
		// Yesterday's claim, in the margin: not this run's.
		refund("re_before", "c_before", 400, day.From.Add(-30*time.Minute)),
		// Another system's refund in the period: counted, not reconciled.
		refund("re_foreign", "", 999, day.From.Add(2*time.Hour)),
		// A refund in the period naming a claim the engine lacks.
		refund("re_ghost", "c_ghost", 50, day.From.Add(3*time.Hour)),
	}}
	reconcile(t, st, p)

	require.ElementsMatch(t, []string{"c_in", "c_ghost"}, st.asked, "claims named by the period's refunds")
	require.Equal(t, []string{"re_old"}, p.gets, "only the refund the listing missed is read by id")
	kinds := map[string]finance.ItemKind{}
	for _, it := range st.items {
		kinds[it.ClaimID] = it.Kind
	}
	require.Equal(t, map[string]finance.ItemKind{
		"c_in": finance.KindMatched, "c_early": finance.KindMatched, "c_old": finance.KindMatched,
		"c_ghost": finance.KindMissingClaim,
	}, kinds)
	require.Equal(t, 3, st.run.ProviderRefunds, "the period's refunds, by the provider's clock")
	require.Equal(t, 1, st.run.ForeignRefunds)
	require.Equal(t, 3, st.run.Summary.Matched)
	require.Equal(t, 1, st.run.OpenExceptions)
	require.Equal(t, financeflow.RunCompleted, st.run.Status)
	require.False(t, st.run.FinishedAt.IsZero())
}

// TestItemSeqsFitTheStore: a seq or cursor past what the store keeps (a
// 32-bit integer) is refused before the store is asked.
func TestItemSeqsFitTheStore(t *testing.T) {
	t.Parallel()
	svc := financeflow.New(financeflow.Config{Store: &fakeStore{}, Now: time.Now})
	v := claimflow.Viewer{Role: "finance", Subject: "fin"}
	for _, seq := range []int{financeflow.MaxSeq + 1, 1 << 40} {
		_, err := svc.ResolveException(context.Background(), v, "rcn_1", seq, "note")
		var nf *claimflow.NotFoundError
		require.ErrorAs(t, err, &nf, seq)
	}
	for _, after := range []int{-1, financeflow.MaxSeq + 1} {
		err := svc.RunItems(context.Background(), financeflow.ItemFilter{RunID: "rcn_1", AfterSeq: after}, nil)
		var ve *validation.Error
		require.ErrorAs(t, err, &ve, after)
		require.Equal(t, "cursor", ve.Field)
	}
}

// TestReconcileWindowStartsAtTheEpoch: the first day there is widens
// forwards only; no provider is asked for time before the Unix epoch.
func TestReconcileWindowStartsAtTheEpoch(t *testing.T) {
	t.Parallel()
	first := finance.Day(time.Unix(0, 0))
	st := &fakeStore{}
	p := &fakeProvider{}
	svc := financeflow.New(financeflow.Config{Store: st, Providers: []financeflow.ProviderRecords{p},
		Now: func() time.Time { return first.To.Add(2 * time.Hour) }})
	run, err := svc.RequestReconciliation(context.Background(), claimflow.Viewer{Role: "finance", Subject: "fin"}, first)
	require.NoError(t, err)
	require.NoError(t, svc.RunReconciliation(context.Background(), run.ID, false))
	require.True(t, st.finished)
	require.Equal(t, []finance.Period{{From: time.Unix(0, 0).UTC(), To: first.To.Add(time.Hour)}}, p.listed)
}

// TestReconcileFailsOnItsLastAttempt: a provider that cannot be read
// leaves the run for a retry, and on the last attempt marks it failed
// with the reason.
func TestReconcileFailsOnItsLastAttempt(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	p := &fakeProvider{listErr: errors.New("connection refused")}
	svc := financeflow.New(financeflow.Config{Store: st, Providers: []financeflow.ProviderRecords{p},
		Now: func() time.Time { return day.To.Add(time.Hour) }})
	run, err := svc.RequestReconciliation(context.Background(), claimflow.Viewer{Role: "finance", Subject: "fin"}, day)
	require.NoError(t, err)
	require.ErrorContains(t, svc.RunReconciliation(context.Background(), run.ID, false), "connection refused")
	require.Equal(t, financeflow.RunRunning, st.run.Status)
	require.Error(t, svc.RunReconciliation(context.Background(), run.ID, true))
	require.Equal(t, financeflow.RunFailed, st.run.Status)
	require.Contains(t, st.failed, "connection refused")
	require.NoError(t, svc.RunReconciliation(context.Background(), run.ID, true), "a failed run is left alone")
	require.False(t, st.finished)
}

func TestRequestReconciliationRefuses(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	svc := financeflow.New(financeflow.Config{Store: &fakeStore{}, Now: func() time.Time { return now }})
	tests := []struct {
		name      string
		give      finance.Period
		wantField string
		wantCode  string
	}{
		{name: "longer than 31 days", give: finance.Period{From: now.AddDate(0, -2, 0), To: now}, wantField: "to", wantCode: "period_too_long"},
		{name: "starts now", give: finance.Period{From: now, To: now.Add(time.Hour)}, wantField: "from", wantCode: "period_in_future"},
		{name: "starts in year 1", give: finance.Period{From: time.Time{}, To: time.Time{}.AddDate(0, 0, 1)}, wantField: "from", wantCode: "out_of_range"},
		{name: "starts before the epoch", give: finance.Period{From: time.Unix(-3600, 0), To: time.Unix(3600, 0)}, wantField: "from", wantCode: "out_of_range"},
		{name: "ends past year 9999", give: finance.Period{From: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), To: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
			wantField: "to", wantCode: "out_of_range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := svc.RequestReconciliation(context.Background(), claimflow.Viewer{Role: "finance", Subject: "fin"}, tt.give)
			var ve *validation.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tt.wantField, ve.Field)
			require.Equal(t, tt.wantCode, ve.Code)
		})
	}
}

// scheduleStore remembers the last scheduled run and the runs queued.
type scheduleStore struct {
	fakeStore
	last      *financeflow.Run
	created   []finance.Period
	abandoned int
}

func (s *scheduleStore) FailAbandonedRuns(context.Context, time.Time) (int, error) {
	return s.abandoned, nil
}

func (s *scheduleStore) LastScheduledRun(context.Context) (financeflow.Run, bool, error) {
	if s.last == nil {
		return financeflow.Run{}, false, nil
	}
	return *s.last, true, nil
}

func (s *scheduleStore) CreateRun(_ context.Context, r financeflow.Run) (financeflow.Run, bool, error) {
	s.created = append(s.created, r.Period)
	return r, true, nil
}

// TestScheduleDaily: yesterday is queued once it is over (with the
// margin); days missed since the last scheduled run are caught up, a week
// at most.
func TestScheduleDaily(t *testing.T) {
	t.Parallel()
	noon := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	dayAgo := func(n int) finance.Period { return finance.Day(noon.AddDate(0, 0, -n)) }
	runOf := func(p finance.Period) *financeflow.Run {
		return &financeflow.Run{Period: p, Trigger: financeflow.TriggerSchedule}
	}
	tests := []struct {
		name string
		now  time.Time
		last *financeflow.Run
		want []finance.Period
	}{
		{name: "first ever: yesterday only", now: noon, want: []finance.Period{dayAgo(1)}},
		{name: "yesterday done", now: noon, last: runOf(dayAgo(1))},
		{name: "two days missed", now: noon, last: runOf(dayAgo(3)), want: []finance.Period{dayAgo(2), dayAgo(1)}},
		{name: "a month missed: a week", now: noon, last: runOf(dayAgo(30)),
			want: []finance.Period{dayAgo(7), dayAgo(6), dayAgo(5), dayAgo(4), dayAgo(3), dayAgo(2), dayAgo(1)}},
		{name: "just after midnight: yesterday not settled", now: time.Date(2026, 11, 27, 0, 30, 0, 0, time.UTC), last: runOf(dayAgo(2))},
		{name: "an hour after midnight", now: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC), last: runOf(dayAgo(2)), want: []finance.Period{dayAgo(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := &scheduleStore{last: tt.last}
			svc := financeflow.New(financeflow.Config{Store: st, Now: func() time.Time { return tt.now }})
			runs, err := svc.ScheduleDaily(context.Background())
			require.NoError(t, err)
			require.Equal(t, tt.want, st.created)
			require.Len(t, runs, len(tt.want))
			for _, r := range runs {
				require.Equal(t, financeflow.TriggerSchedule, r.Trigger)
			}
		})
	}
}

// TestProviderMissingFailsTheRunAtOnce: a run naming a provider this
// process lacks fails at once, rather than completing empty.
func TestProviderMissingFailsTheRunAtOnce(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	now := day.To.Add(2 * time.Hour)
	api := financeflow.New(financeflow.Config{Store: st, Providers: []financeflow.ProviderRecords{&fakeProvider{}}, Now: func() time.Time { return now }})
	run, err := api.RequestReconciliation(context.Background(), claimflow.Viewer{Role: "finance", Subject: "fin"}, day)
	require.NoError(t, err)
	worker := financeflow.New(financeflow.Config{Store: st, Now: func() time.Time { return now }})
	require.NoError(t, worker.RunReconciliation(context.Background(), run.ID, false))
	require.Equal(t, financeflow.RunFailed, st.run.Status)
	require.Contains(t, st.failed, "not configured")
	require.False(t, st.finished)
}

// chargebackStore answers Chargebacks from a fixed list.
type chargebackStore struct {
	fakeStore
	chargebacks []financeflow.Chargeback
}

func (s *chargebackStore) Chargebacks(_ context.Context, _ financeflow.ChargebackFilter, fn func(financeflow.Chargeback) error) error {
	for _, cb := range s.chargebacks {
		if err := fn(cb); err != nil {
			return err
		}
	}
	return nil
}

// TestChargebackTotals: totals of the largest amounts are exact, and a
// total beyond int64 (only amounts stored before they were bounded can
// make one) is money.ErrOverflow, never a wrapped number.
func TestChargebackTotals(t *testing.T) {
	t.Parallel()
	charge := func(id string, amount int64, status string) financeflow.Chargeback {
		return financeflow.Chargeback{ClaimID: id, Amount: money.Of(amount, eur), Status: status}
	}
	maxEUR := money.MaxAmount(eur)
	tests := []struct {
		name    string
		give    []financeflow.Chargeback
		want    []financeflow.ChargebackTotals
		wantErr string
	}{
		{
			name: "two maximal charges and ordinary ones",
			give: []financeflow.Chargeback{charge("clm_a", maxEUR, "open"), charge("clm_b", maxEUR, "final"),
				charge("clm_c", 1999, "waived"), charge("clm_d", 1, "open")},
			want: []financeflow.ChargebackTotals{{Currency: eur, Count: 4, Charged: 2*maxEUR + 2000, Released: 1999, Standing: 2*maxEUR + 1}},
		},
		{
			name:    "charged beyond int64",
			give:    []financeflow.Chargeback{charge("clm_a", math.MaxInt64, "waived"), charge("clm_b", 8997, "open")},
			wantErr: "chargebacks charged in EUR",
		},
		{
			name:    "standing beyond int64",
			give:    []financeflow.Chargeback{charge("clm_a", math.MaxInt64-8997, "open"), charge("clm_b", -9000, "voided"), charge("clm_c", 8998, "open")},
			wantErr: "chargebacks standing in EUR",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := financeflow.New(financeflow.Config{Store: &chargebackStore{chargebacks: tt.give}})
			var seen int
			got, err := svc.Chargebacks(context.Background(), financeflow.ChargebackFilter{Period: day}, func(financeflow.Chargeback) error {
				seen++
				return nil
			})
			if tt.wantErr != "" {
				require.ErrorIs(t, err, money.ErrOverflow)
				require.ErrorContains(t, err, tt.wantErr)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, len(tt.give), seen)
		})
	}
}

// TestReconcileTotalBeyondInt64FailsTheRun: a run whose totals cannot be
// held in int64 fails at once with the reason, rather than completing
// with wrapped totals or being retried to the same end.
func TestReconcileTotalBeyondInt64FailsTheRun(t *testing.T) {
	t.Parallel()
	at := day.From.Add(time.Hour)
	st := &fakeStore{
		claims:   map[string]finance.ClaimRefund{"clm_1": closed("clm_1", "re_1", 1999), "clm_2": closed("clm_2", "re_2", 1)},
		inPeriod: []string{"clm_1", "clm_2"},
		ledgers:  []finance.LedgerRefund{paid("clm_1", 1999), paid("clm_2", 1)},
	}
	// The provider's own figures are not bounded by the engine.
	p := &fakeProvider{refunds: []finance.ProviderRefund{refund("re_1", "clm_1", math.MaxInt64, at), refund("re_2", "clm_2", 1, at)}}
	now := day.To.Add(2 * time.Hour)
	svc := financeflow.New(financeflow.Config{Store: st, Providers: []financeflow.ProviderRecords{p}, Now: func() time.Time { return now }})
	run, err := svc.RequestReconciliation(context.Background(), claimflow.Viewer{Role: "finance", Subject: "fin"}, day)
	require.NoError(t, err)
	require.NoError(t, svc.RunReconciliation(context.Background(), run.ID, false), "a permanent failure: the run says why")
	require.Equal(t, financeflow.RunFailed, st.run.Status)
	require.Contains(t, st.failed, "provider total in EUR")
	require.Contains(t, st.failed, money.ErrOverflow.Error())
	require.False(t, st.finished)
}
