package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/claimsd/claimsd/adapters/pgstore"
)

// NumberAll runs the relay (relayOnce is its RunOnce) until every event in
// st's database is numbered. A transaction open anywhere on the server
// (another test's) holds numbering back, so it waits as long as that
// takes, saying so every ten seconds; it sets no limit of its own.
func NumberAll(t testing.TB, st *pgstore.Store, relayOnce func(context.Context) (int, error)) {
	t.Helper()
	NumberWhere(t, st, relayOnce, "true")
}

// NumberWhere is NumberAll for the events matching where (SQL over the
// events table, with args as its parameters): it waits for those only.
func NumberWhere(t testing.TB, st *pgstore.Store, relayOnce func(context.Context) (int, error), where string, args ...any) {
	t.Helper()
	ctx := context.Background()
	lastReport := time.Now()
	for {
		if _, err := relayOnce(ctx); err != nil {
			t.Fatalf("relay: %v", err)
		}
		var waiting int
		if err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM events WHERE position IS NULL AND (`+where+`)`, args...).Scan(&waiting); err != nil {
			t.Fatalf("count events not numbered: %v", err)
		}
		if waiting == 0 {
			return
		}
		if time.Since(lastReport) > 10*time.Second {
			lastReport = time.Now()
			t.Logf("still waiting: %d events not numbered", waiting)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
