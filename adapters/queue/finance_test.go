package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/queue"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// waitRun polls a reconciliation run until it has finished (giving up,
// rather than hanging, if it never does).
func waitRun(t *testing.T, fin *financeflow.Service, id string) financeflow.Run {
	t.Helper()
	for start := time.Now(); time.Since(start) < time.Minute; {
		run, err := fin.Run(context.Background(), id)
		require.NoError(t, err)
		if run.Status == financeflow.RunCompleted || run.Status == financeflow.RunFailed {
			return run
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("reconciliation run %s did not finish", id)
	return financeflow.Run{}
}

// TestWorkersReconcile: River workers run a reconciliation finance asked
// for, and on start queue and run yesterday's, once however often the
// schedule fires.
func TestWorkersReconcile(t *testing.T) {
	t.Parallel()
	st := pgtest.Store(t, "queue_reconcile")
	p := sandbox.New(st.DB(), sandbox.Config{})
	// Yesterday is over for the schedule an hour after midnight; in that
	// first hour the engine's clock runs an hour ahead.
	skew := time.Duration(0)
	if time.Now().UTC().Hour() == 0 {
		skew = time.Hour
	}
	fin := financeflow.New(financeflow.Config{Store: st, Providers: []financeflow.ProviderRecords{p},
		Now: func() time.Time { return time.Now().Add(skew) }})
	steps := stepsFor(t, st, p)
	steps.Reconcile = fin
	w, err := queue.NewWorkers(st.Pool(), steps, queue.Config{})
	require.NoError(t, err)
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() { require.NoError(t, w.Stop(context.Background())) })

	c := client{t: t, e: router(st)}
	shopper := uniq("shp")
	_, orderID := seedOrder(c, shopper, 1500, uniq("pay"))
	cl := fileClaim(c, shopper, orderID)
	require.Equal(t, claim.StatusClosed, waitFor(t, st, cl["id"].(string)))

	now := time.Now().UTC()
	p1, err := finance.NewPeriod(now.Add(-time.Hour), now.Add(time.Hour))
	require.NoError(t, err)
	run, err := fin.RequestReconciliation(context.Background(), claimflow.Viewer{Role: "finance", Subject: "fin"}, p1)
	require.NoError(t, err)
	run = waitRun(t, fin, run.ID)
	require.Equal(t, financeflow.RunCompleted, run.Status, run.Error)
	require.Equal(t, 1, run.Summary.Matched)
	require.Zero(t, run.OpenExceptions)
	require.Equal(t, []finance.KindTotals{{Currency: run.Summary.Totals[0].Currency, Claims: 1500, Provider: 1500, Ledger: 1500}}, run.Summary.Totals)

	// The schedule ran at start: yesterday's run is queued once and done.
	var daily financeflow.Run
	for start := time.Now(); daily.ID == ""; {
		require.Less(t, time.Since(start), time.Minute, "the schedule queued no run for yesterday")
		runs, err := fin.Runs(context.Background(), financeflow.RunFilter{})
		require.NoError(t, err)
		for _, r := range runs {
			if r.Trigger == financeflow.TriggerSchedule {
				daily = r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	daily = waitRun(t, fin, daily.ID)
	require.Equal(t, financeflow.RunCompleted, daily.Status, daily.Error)
	require.Equal(t, finance.Day(now.Add(skew).AddDate(0, 0, -1)), daily.Period)
	again, err := fin.ScheduleDaily(context.Background())
	require.NoError(t, err)
	require.Empty(t, again, "each day is reconciled once")
}

// failingRecords is a provider whose records cannot be read.
type failingRecords struct{ *sandbox.Provider }

func (failingRecords) ListRefunds(context.Context, time.Time, time.Time) ([]finance.ProviderRefund, error) {
	return nil, &claimflow.PaymentError{Code: "unavailable", Message: "the provider is down"}
}

// TestReconciliationFailsAfterItsLastAttempt: a run whose provider cannot
// be read is retried, then marked failed with the reason.
func TestReconciliationFailsAfterItsLastAttempt(t *testing.T) {
	t.Parallel()
	st := pgtest.Store(t, "queue_reconcile_fail")
	fin := financeflow.New(financeflow.Config{Store: st,
		Providers: []financeflow.ProviderRecords{failingRecords{sandbox.New(st.DB(), sandbox.Config{})}}})
	now := time.Now().UTC()
	p, err := finance.NewPeriod(now.Add(-time.Hour), now)
	require.NoError(t, err)
	run, err := fin.RequestReconciliation(context.Background(), claimflow.Viewer{Role: "finance", Subject: "fin"}, p)
	require.NoError(t, err)
	// As the job's attempts would: retried while attempts remain, failed
	// on the last.
	require.Error(t, fin.RunReconciliation(context.Background(), run.ID, false))
	got, err := fin.Run(context.Background(), run.ID)
	require.NoError(t, err)
	require.Equal(t, financeflow.RunRunning, got.Status)
	require.Error(t, fin.RunReconciliation(context.Background(), run.ID, true))
	got, err = fin.Run(context.Background(), run.ID)
	require.NoError(t, err)
	require.Equal(t, financeflow.RunFailed, got.Status)
	require.Contains(t, got.Error, "the provider is down")
	require.NoError(t, fin.RunReconciliation(context.Background(), run.ID, false), "a failed run is left alone")
}
