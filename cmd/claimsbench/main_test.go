package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParse(t *testing.T) {
	t.Parallel()
	o, _, err := parse([]string{"-rates", "50, 200", "-duration", "3s", "-concurrency", "8"}, &bytes.Buffer{},
		env(map[string]string{"DATABASE_URL": "postgres://x/y"}))
	require.NoError(t, err)
	require.Equal(t, []int{50, 200}, o.rates)
	require.Equal(t, 3*time.Second, o.duration)
	require.Equal(t, "postgres://x/y", o.db, "-db defaults to DATABASE_URL")
	require.False(t, o.webhook, "no webhooks unless asked")
	require.Empty(t, o.nats, "no NATS unless asked")
	o, _, err = parse([]string{"-db", "postgres://x/y", "-webhook", "-nats", "nats://127.0.0.1:4222"}, &bytes.Buffer{}, env(nil))
	require.NoError(t, err)
	require.True(t, o.webhook)
	require.Equal(t, "nats://127.0.0.1:4222", o.nats)
	o, _, err = parse([]string{"-db", "postgres://x/y", "-backtest", "2000"}, &bytes.Buffer{}, env(nil))
	require.NoError(t, err)
	require.Equal(t, 2000, o.backtest)

	for _, give := range [][]string{
		{"-rates", "fast"},
		{"-rates", "0"},
		{"-duration", "10ms"},
		{"-concurrency", "-1"},
		{"-floor"},
		{"-preload", "10"},
		{"-webhook"},
		{"-nats", "nats://127.0.0.1:4222"},
		{"-db", "postgres://x/y", "-nats", "127.0.0.1:4222"},
		{"-backtest", "1000"},
		{"-backtest", "-1", "-db", "postgres://x/y"},
		{"-backtest", "1000", "-db", "postgres://x/y", "-preload", "10"},
		{"-backtest", "1000", "-db", "postgres://x/y", "-floor"},
		{"surplus"},
	} {
		_, _, err := parse(give, &bytes.Buffer{}, env(nil))
		require.Error(t, err, "%v", give)
	}
}

func TestSampleProcReadsThisProcess(t *testing.T) {
	t.Parallel()
	s, err := sampleProc(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, s.rssBytes)
	require.GreaterOrEqual(t, s.cpu, time.Duration(0))
}

func TestSummaryPicksTheHeadlineRate(t *testing.T) {
	t.Parallel()
	r := &result{Preloaded: 1000, Open: []openStep{
		{Rate: 50, P99ms: 1, Errors: 1},
		{Rate: 200, P50ms: 2, P99ms: 4},
		{Rate: 400, P99ms: 9},
		{Rate: 200, P99ms: 5, Preloaded: true, Errors: 2},
	}}
	r.summarise()
	require.Equal(t, 2.0, r.DecisionP50ms)
	require.Equal(t, 4.0, r.DecisionP99ms)
	require.Equal(t, 5.0, r.DecisionP99msPreloaded)
	require.Equal(t, 1.25, r.PreloadedP99Ratio)
	require.Equal(t, 3, r.Errors)

	var out bytes.Buffer
	require.NoError(t, r.writeJSON(&out))
	var m map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &m))
	for _, k := range []string{"decision_p50_ms", "decision_p99_ms", "e2e_claims_per_s", "e2e_p99_ms", "engine_rss_mb",
		"commits_per_claim", "wal_bytes_per_claim", "errors"} {
		require.Contains(t, m, k)
	}
	require.ErrorContains(t, r.check(), "3 requests failed")
	require.ErrorContains(t, (&result{Concurrency: 4, ClosedLoopClaims: 9}).check(), "closed none")
	require.NoError(t, (&result{Concurrency: 4, ClosedLoopClaims: 9, ClosedLoopClosed: 9}).check())
	out.Reset()
	r.writeTable(&out)
	require.True(t, strings.Contains(out.String(), "+1000"), out.String())
}

func TestBacktestReport(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	points := []rssPoint{{at, 40 << 20}, {at.Add(3 * time.Second), 50 << 20}, {at.Add(7 * time.Second), 45 << 20}}
	require.Equal(t, []float64{40, 40, 40, 50, 50, 50, 50, 45, 45, 45, 45}, tenths(points, at, at.Add(10*time.Second)))
	require.Nil(t, tenths(nil, at, at.Add(time.Second)))

	r := &result{Backtest: &backtestResult{
		Self:      backtestRun{Claims: 1000, Changed: 0, Status: "completed"},
		Candidate: backtestRun{Claims: 1000, Changed: 120, Status: "completed"},
		Intake: []intakeStep{{Rate: 100, Without: openStep{P50ms: 7, P99ms: 30}, During: openStep{P50ms: 9, P99ms: 41, Errors: 1},
			Covered: true}},
		SelfChangedNone: true,
	}}
	r.summarise()
	require.Equal(t, 1, r.Errors, "errors during a backtest count")
	require.Equal(t, 30.0, r.DecisionP99ms, "the headline is the open loop without a backtest")
	require.ErrorContains(t, r.check(), "1 requests failed")
	r.Errors = 0
	require.NoError(t, r.check())
	var out bytes.Buffer
	r.writeTable(&out)
	require.Contains(t, out.String(), "running (covered: true)")
	require.Contains(t, out.String(), "self-backtest changed none: true")

	r.Backtest.SelfChangedNone, r.Backtest.Self.Changed = false, 3
	require.ErrorContains(t, r.check(), "changed 3 of 1000 claims")
}

func TestReceiverCountsDeliveriesByWebhookID(t *testing.T) {
	t.Parallel()
	r, err := startReceiver()
	require.NoError(t, err)
	defer r.close()
	created := time.Now().Add(-30 * time.Millisecond).UTC()
	post := func(id string) {
		body := fmt.Sprintf(`{"id":%q,"type":"claim.submitted","created_at":%q,"position":1}`, id, created.Format(time.RFC3339Nano))
		req, err := http.NewRequest(http.MethodPost, r.url, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("webhook-id", id)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
	}
	post("evt_a")
	post("evt_b")
	post("evt_a")
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Equal(t, 3, r.deliveries)
	require.Equal(t, 1, r.duplicates)
	require.Len(t, r.seen, 2)
	a := r.seen["evt_a"]
	require.True(t, a.created.Equal(created), "created_at is read from the body")
	require.GreaterOrEqual(t, a.at.Sub(a.created), 30*time.Millisecond)

	p50, p99, most := lagQuantiles([]time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond})
	require.InDelta(t, 20, p50, 0.1)
	require.InDelta(t, 30, p99, 0.1)
	require.InDelta(t, 30, most, 0.1)
}

func TestReportShowsOutboundOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := &result{}
	require.NoError(t, r.writeJSON(&out))
	require.NotContains(t, out.String(), "webhooks")
	require.NotContains(t, out.String(), "nats")

	r = &result{Webhooks: &webhookResult{Deliveries: 12, Duplicates: 1, Events: 11, Delivered: 11, AllDelivered: true, LagP50ms: 40, LagP99ms: 90},
		NATS: &natsResult{Stream: "CLAIMSD_EVENTS", Published: 11, Events: 11, Messages: 11, AllPublished: true}}
	out.Reset()
	require.NoError(t, r.writeJSON(&out))
	var m map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &m))
	require.Contains(t, m, "webhooks")
	require.Contains(t, m, "nats")
	require.Contains(t, out.String(), `"lag_p99_ms": 90`)
	require.Contains(t, out.String(), `"all_published": true`)
	out.Reset()
	r.writeTable(&out)
	require.Contains(t, out.String(), "12 deliveries, 1 duplicates; 11 of 11 events")
	require.Contains(t, out.String(), "NATS CLAIMSD_EVENTS")
	require.NoError(t, r.check())
	r.Webhooks.AllDelivered, r.Webhooks.Delivered = false, 10
	require.ErrorContains(t, r.check(), "10 of 11")
}

// TestSmokeWithOutbound starts an engine on TEST_DATABASE_URL's server
// and runs a second of load with the webhook receiver, and the NATS
// stream when a server answers at 127.0.0.1:4222 (or TEST_NATS_URL).
func TestSmokeWithOutbound(t *testing.T) {
	dbURL := os.Getenv("TEST_DATABASE_URL")
	if dbURL == "" || testing.Short() {
		t.Skip("needs TEST_DATABASE_URL, and not -short")
	}
	bin := filepath.Join(t.TempDir(), "claimsd")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/claimsd/claimsd/cmd/claimsd").CombinedOutput()
	require.NoError(t, err, "%s", out)
	args := []string{"-claimsd", bin, "-db", dbURL, "-warmup", "0s", "-duration", "1s", "-rates", "5", "-concurrency", "2",
		"-check", "-json", "-webhook"}
	natsURL := os.Getenv("TEST_NATS_URL")
	if natsURL == "" {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second); err == nil {
			_ = c.Close()
			natsURL = "nats://127.0.0.1:4222"
		}
	}
	if natsURL != "" {
		args = append(args, "-nats", natsURL)
	}
	// The bench waits for the webhooks with no limit, printing progress.
	var stdout, stderr bytes.Buffer
	err = run(t.Context(), args, &stdout, &stderr, env(nil))
	require.NoError(t, err, "%s", stderr.String())
	var res result
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &res), stdout.String())
	require.NotNil(t, res.Webhooks)
	require.True(t, res.Webhooks.AllDelivered)
	require.Positive(t, res.Webhooks.Events)
	require.Positive(t, res.Webhooks.LagP50ms)
	if natsURL != "" {
		require.NotNil(t, res.NATS)
		require.True(t, res.NATS.AllPublished)
		require.GreaterOrEqual(t, res.NATS.Published, uint64(res.NATS.Events))
	} else {
		require.Nil(t, res.NATS)
	}
}
