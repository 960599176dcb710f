package pgstore

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm/logger"
)

// TestQuietLoggerRendersOnlyWhatItLogs: a statement that went well and
// fast is neither rendered nor logged; a failed or slow one is logged as
// gorm's slog logger logs it.
func TestQuietLoggerRendersOnlyWhatItLogs(t *testing.T) {
	var buf bytes.Buffer
	l := quietLogger{Interface: logger.NewSlogLogger(slog.New(slog.NewTextHandler(&buf, nil)), logger.Config{
		SlowThreshold: time.Second, LogLevel: logger.Warn, ParameterizedQueries: true,
	}), slow: time.Second}
	rendered := 0
	fc := func() (string, int64) { rendered++; return "SELECT 1", 1 }
	ctx := context.Background()

	l.Trace(ctx, time.Now(), fc, nil)
	require.Zero(t, rendered)
	require.Empty(t, buf.String())

	l.Trace(ctx, time.Now(), fc, errors.New("boom"))
	require.Equal(t, 1, rendered)
	require.Contains(t, buf.String(), "boom")

	buf.Reset()
	l.Trace(ctx, time.Now().Add(-2*time.Second), fc, nil)
	require.Equal(t, 2, rendered)
	require.Contains(t, buf.String(), "SQL executed")
}

// TestQuietLoggerKeepsValuesOut: through gorm, a failed statement is
// logged without the values it was given, read with Scan or not.
func TestQuietLoggerKeepsValuesOut(t *testing.T) {
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		t.Skip("needs TEST_DATABASE_URL")
	}
	var buf bytes.Buffer
	st, err := Open(context.Background(), url, PoolConfig{Logger: slog.New(slog.NewTextHandler(&buf, nil)), MaxConns: 2})
	require.NoError(t, err)
	t.Cleanup(st.Close)

	var n int
	require.Error(t, st.db.Raw(`SELECT length(?) / 0`, "the shopper's own words").Scan(&n).Error)
	require.Contains(t, buf.String(), "SQL executed")
	require.Contains(t, buf.String(), "division by zero")
	require.NotContains(t, buf.String(), "own words")
	buf.Reset()
	require.Error(t, st.db.Exec(`SELECT length(?) / 0`, "the shopper's own words").Error)
	require.Contains(t, buf.String(), "division by zero")
	require.NotContains(t, buf.String(), "own words")
	buf.Reset()
	require.NoError(t, st.db.Raw(`SELECT ?::int`, "7").Scan(&n).Error)
	require.Equal(t, 7, n)
	require.Empty(t, buf.String(), "a statement that went well is not logged")
}

func TestWithoutLiterals(t *testing.T) {
	for give, want := range map[string]string{
		"SELECT 1":                 "SELECT 1",
		"SELECT length('a b') / 0": "SELECT length(?) / 0",
		"WHERE a = 'it''s' AND b = 'x' AND c = 2":   "WHERE a = ? AND b = ? AND c = 2",
		"SELECT 'unclosed":                          "SELECT ?",
		"INSERT INTO t VALUES ('', '''', 'a''''b')": "INSERT INTO t VALUES (?, ?, ?)",
	} {
		require.Equal(t, want, withoutLiterals(give), give)
	}
}
