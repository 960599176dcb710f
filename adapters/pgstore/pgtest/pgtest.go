// Package pgtest gives a test package its own migrated PostgreSQL
// database: a fresh database on TEST_DATABASE_URL's server when it is set
// (CI sets it to the machine's PostgreSQL), otherwise on a private embedded
// PostgreSQL started for the package's tests and stopped after them.
//
//	var store *pgstore.Store
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, "httpapi", &store)) }
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/claimsd/claimsd/adapters/embeddedpg"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/queue"
)

// Main sets up the package's database, stores an open store in *out,
// migrated (the job queue's tables too) and scheduling steps as River jobs, runs the tests and tears everything down. It returns the exit code.
func Main(m *testing.M, name string, out **pgstore.Store) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	url, cleanup, err := Database(ctx, name)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer cleanup()
	st, err := open(context.Background(), url, 20)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer st.Close()
	*out = st
	return m.Run()
}

// Store gives one test a migrated database of its own, for tests that
// read everything in it (reconciliation, timers); it is dropped when the
// test ends.
func Store(t testing.TB, name string) *pgstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url, cleanup, err := Database(ctx, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(cleanup)
	st, err := open(ctx, url, 10)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

// open connects to url, migrates (the job queue's tables too) and makes
// the store schedule steps as River jobs.
func open(ctx context.Context, url string, conns int32) (*pgstore.Store, error) {
	st, err := pgstore.Open(ctx, url, pgstore.PoolConfig{MaxConns: conns})
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx, func(ctx context.Context) ([]string, error) {
		return queue.Migrate(ctx, st.Pool())
	}); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	ins, err := queue.NewInserter(st.DB(), queue.Config{})
	if err != nil {
		st.Close()
		return nil, err
	}
	st.SetEnqueuer(ins)
	return st, nil
}

// Database creates an empty database named after the test package and
// returns its URL and a cleanup that drops it (and stops the embedded
// server, if one was started).
func Database(ctx context.Context, name string) (string, func(), error) {
	base := os.Getenv("TEST_DATABASE_URL")
	stop := func() {}
	if base == "" {
		dir, err := os.MkdirTemp("", "claimsd-test-pg-")
		if err != nil {
			return "", nil, err
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			return "", nil, err
		}
		log := slog.New(slog.DiscardHandler)
		srv, err := embeddedpg.Start(ctx, embeddedpg.Config{Dir: dir, Logger: log})
		if err != nil {
			_ = os.RemoveAll(dir)
			return "", nil, fmt.Errorf("no TEST_DATABASE_URL, and the embedded PostgreSQL did not start: %w", err)
		}
		base = srv.URL()
		stop = func() {
			_ = srv.Stop(context.Background())
			_ = os.RemoveAll(dir)
		}
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	dbName := fmt.Sprintf("claimsd_test_%s_%s", name, hex.EncodeToString(suffix))
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("connect to %s: %w", redact(base), err)
	}
	defer func() { _ = admin.Close(ctx) }()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{dbName}.Sanitize()); err != nil {
		stop()
		return "", nil, fmt.Errorf("create test database: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		stop()
		return "", nil, err
	}
	u.Path = "/" + dbName
	cleanup := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{dbName}.Sanitize()+" WITH (FORCE)")
			_ = c.Close(ctx)
		}
		stop()
	}
	return u.String(), cleanup, nil
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the database"
	}
	return u.Redacted()
}
