package main

import (
	"bytes"
	"encoding/json"
	"os"
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

	for _, give := range [][]string{
		{"-rates", "fast"},
		{"-rates", "0"},
		{"-duration", "10ms"},
		{"-concurrency", "-1"},
		{"-floor"},
		{"-preload", "10"},
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
