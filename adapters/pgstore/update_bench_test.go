package pgstore_test

import (
	"context"
	"testing"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// BenchmarkUpdateRecord times one workflow step's transaction: a refunded
// claim charged to its seller and closed in one change, which writes two
// events, two ledger transactions (the refund's and the charge's) and the
// contest window's timer; as the store writes it, and as it wrote it with
// gorm, one statement per part. stmts/op counts the statements the
// database ran per change: BEGIN and COMMIT, and the ledger's balance
// checks, one per posting, that run at COMMIT.
func BenchmarkUpdateRecord(b *testing.B) {
	for _, bb := range []struct {
		give string
		st   claimflow.StepStore
	}{
		{give: "one statement", st: store},
		{give: "gorm", st: pgstore.LegacyStore{Store: store}},
	} {
		b.Run(bb.give, func(b *testing.B) {
			ctx := context.Background()
			s := newSeller(ctx, b, store)
			ids := make([]string, b.N)
			for i := range ids {
				ids[i] = refundedClaim(ctx, b, store, s)
			}
			counted := countStatements(ctx, b)

			b.ReportAllocs()
			before, _ := counted()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := bb.st.UpdateRecord(ctx, ids[i], chargeRefunded); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if n, ok := counted(); ok {
				b.ReportMetric(float64(n-before-1)/float64(b.N), "stmts/op")
			}
		})
	}
}

// countStatements returns a reader of how many statements the test
// database has run, from pg_stat_statements; its reader says false where
// the extension is not loaded.
func countStatements(ctx context.Context, b *testing.B) func() (int64, bool) {
	b.Helper()
	if _, err := store.DB().ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		b.Logf("statements not counted: %v", err)
		return func() (int64, bool) { return 0, false }
	}
	return func() (int64, bool) {
		var n int64
		err := store.DB().QueryRowContext(ctx, `SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
			WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
		if err != nil {
			b.Logf("statements not counted: %v", err)
			return 0, false
		}
		return n, true
	}
}
