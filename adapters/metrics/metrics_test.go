package metrics_test

import (
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/metrics"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
)

var store *pgstore.Store

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, "metrics", &store)) }

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	b, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(b)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	m := metrics.New(store.Pool(), nil)
	_, err := store.DB().Exec(`INSERT INTO policies (version, status, document, created_by, created_at) VALUES
		('m-active', 'active', '{}', 'system', now()), ('m-shadow', 'shadow', '{}', 'risk:rita', now()), ('m-draft', 'draft', '{}', 'risk:rita', now())`)
	require.NoError(t, err)
	m.ObserveRequest("/v1/claims", "POST", 201, 3*time.Millisecond)
	m.ObserveStep("refund", 1, nil, 20*time.Millisecond)
	m.ObserveStep("refund", 2, errors.New("timeout"), 20*time.Millisecond)
	out := scrape(t, m)
	for _, want := range []string{
		`claimsd_http_request_duration_seconds_count{method="POST",route="/v1/claims",status="201"} 1`,
		`claimsd_step_duration_seconds_count{result="ok",step="refund"} 1`,
		`claimsd_step_duration_seconds_count{result="retry",step="refund"} 1`,
		`claimsd_step_retries_total{step="refund"} 1`,
		`claimsd_db_connections{state="max"} 20`,
		`claimsd_db_scrape_ok 1`,
		`claimsd_policy_version{status="active",version="m-active"} 1`,
		`claimsd_policy_version{status="shadow",version="m-shadow"} 1`,
	} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, "m-draft", "only the versions that decide are shown")
}

func TestMetricsWithoutDatabase(t *testing.T) {
	t.Parallel()
	out := scrape(t, metrics.New(nil, nil))
	require.NotContains(t, out, "claimsd_db_scrape_ok")
	require.Contains(t, out, "go_goroutines")
}
