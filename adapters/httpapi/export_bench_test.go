package httpapi_test

import (
	"context"
	"flag"
	"fmt"
	"github.com/claimsd/claimsd/adapters/auth"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// discard is a ResponseWriter that keeps nothing but a byte count, so the
// benchmark measures the export and not a buffer of its output.
type discard struct {
	header http.Header
	n      int64
	status int
}

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }
func (d *discard) WriteHeader(s int)           { d.status = s }
func (d *discard) Flush()                      {}

// heapPeak runs fn and returns the most heap found live by a collection
// while it ran, above what was live before it started, sampled every
// millisecond. (Heap in use would also count garbage not yet collected,
// which grows with the collector's target rather than with the export.)
func heapPeak(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	runtime.GC()
	base := read()
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := read(); v > base {
					mu.Lock()
					peak = max(peak, v-base)
					mu.Unlock()
				}
			}
		}
	}()
	fn()
	close(done)
	mu.Lock()
	defer mu.Unlock()
	return peak
}

// seedStatement gives a new seller n charges, one a second, straight in
// SQL; each description holds quotes and starts like a formula.
func seedStatement(b *testing.B, n int) (sellerID string, from time.Time) {
	b.Helper()
	sellerID = fmt.Sprintf("sel_bench_%d_%d", n, time.Now().UnixNano())
	from = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	if _, err := store.DB().ExecContext(ctx, `INSERT INTO sellers (id, name, risk_score, created_at, updated_at)
		VALUES ($1, 'Bench', 10, now(), now())`, sellerID); err != nil {
		b.Fatal(err)
	}
	if _, err := store.DB().ExecContext(ctx, `
		WITH t AS (
		    INSERT INTO ledger_transactions (key, kind, description, created_at)
		    SELECT 'bench/' || $1 || '/' || g, 'seller_charge', '=charge "' || g || '", with a comma', $2::timestamptz + g * interval '1 second'
		      FROM generate_series(1, $3::int) g
		    RETURNING id)
		INSERT INTO ledger_postings (transaction_id, account, amount, currency)
		SELECT t.id, v.account, v.amount, 'EUR' FROM t,
		       LATERAL (VALUES ('seller_receivable:' || $1, 1999), ('claims_clearing', -1999)) v(account, amount)`,
		sellerID, from, n); err != nil {
		b.Fatal(err)
	}
	return sellerID, from
}

// exportRows sets the statement sizes BenchmarkStatementExport exports.
var exportRows = flag.String("export-rows", "10000,100000", "comma-separated statement sizes for BenchmarkStatementExport")

// BenchmarkStatementExport streams a seller's statement of each size in
// -export-rows through the real router and database, as CSV and as JSON.
// peak-heap-MB is the most live heap during one export: it stays flat as
// the statement grows, because rows go out as they come.
func BenchmarkStatementExport(b *testing.B) {
	fin := financeflow.New(financeflow.Config{Store: store})
	e := httpapi.New(httpapi.Deps{Claims: claimflow.NewService(store, policyfile.Default(), time.Now), Finance: fin,
		Secret: secret})
	tok, err := auth.MintToken(secret, "finance", "fin", time.Hour, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	var sizes []int
	for _, f := range strings.Split(*exportRows, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("-export-rows: %q is not a row count", f)
		}
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		sellerID, from := seedStatement(b, n)
		for _, format := range []string{"csv", "json"} {
			b.Run(fmt.Sprintf("rows=%d/%s", n, format), func(b *testing.B) {
				b.ReportAllocs()
				var peak uint64
				var size int64
				for b.Loop() {
					req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/v1/sellers/%s/statement?from=%s&to=%s&format=%s",
						sellerID, from.Format("2006-01-02"), from.AddDate(1, 0, 0).Format("2006-01-02"), format), nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					w := &discard{header: http.Header{}}
					peak = max(peak, heapPeak(func() { e.ServeHTTP(w, req) }))
					if w.status != http.StatusOK {
						b.Fatalf("status %d", w.status)
					}
					size = w.n
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(size)/(1<<20), "export-MB")
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
