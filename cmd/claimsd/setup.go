package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/claimsd/claimsd/adapters/embeddedpg"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/queue"
	"github.com/claimsd/claimsd/config"
)

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// database is an open store, the job queue it schedules steps on and,
// when claimsd started it, the embedded PostgreSQL behind it.
type database struct {
	*pgstore.Store
	jobs     *queue.Inserter
	embedded *embeddedpg.Server
}

// openDatabase connects to DATABASE_URL, or starts (or reuses) the
// embedded PostgreSQL in the data directory when it is unset. opts adjust
// the pool's configuration.
func openDatabase(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...func(*pgstore.PoolConfig)) (*database, error) {
	db := &database{}
	url := cfg.DatabaseURL
	if url == "" {
		dir, err := clusterDir(cfg, log)
		if err != nil {
			return nil, err
		}
		srv, err := embeddedpg.Start(ctx, embeddedpg.Config{Dir: dir, Port: cfg.EmbeddedPGPort, RunAs: cfg.EmbeddedPGUser, Logger: log})
		if err != nil && !strings.Contains(err.Error(), "DATABASE_URL") {
			err = fmt.Errorf("%w\n(set DATABASE_URL=postgres://... to use a PostgreSQL server of your own)", err)
		}
		if err != nil {
			return nil, err
		}
		db.embedded = srv
		url = srv.URL()
	}
	pc := pgstore.PoolConfig{MaxConns: cfg.DBMaxConns, MinConns: cfg.DBMinConns, Logger: log}
	for _, o := range opts {
		o(&pc)
	}
	st, err := pgstore.Open(ctx, url, pc)
	if err != nil {
		db.stopEmbedded(context.WithoutCancel(ctx), log)
		return nil, err
	}
	if err := st.Ping(ctx); err != nil {
		st.Close()
		db.stopEmbedded(context.WithoutCancel(ctx), log)
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	db.Store = st
	ins, err := queue.NewInserter(st.DB(), queueConfig(cfg, log))
	if err != nil {
		st.Close()
		db.stopEmbedded(context.WithoutCancel(ctx), log)
		return nil, err
	}
	st.SetEnqueuer(ins)
	db.jobs = ins
	return db, nil
}

// migrateQueue applies the job queue's migrations; pass it to Migrate.
func (db *database) migrateQueue(ctx context.Context) ([]string, error) {
	return queue.Migrate(ctx, db.Pool())
}

// stopEmbedded gives up the embedded PostgreSQL, if there is one: the last
// claimsd process using it stops it.
func (db *database) stopEmbedded(ctx context.Context, log *slog.Logger) {
	if db.embedded == nil {
		return
	}
	if err := db.embedded.Stop(ctx); err != nil {
		log.Error("stop embedded postgres", "err", err)
	}
}

// clusterDir chooses where the embedded cluster lives: <data dir>/pg, or,
// when claimsd runs as root and the unprivileged database user cannot
// reach that folder (a checkout under /root, say), a folder of its own
// under /var/lib/claimsd keyed by the data directory, so restarts find it.
func clusterDir(cfg config.Config, log *slog.Logger) (string, error) {
	dir := filepath.Join(cfg.DataDir, "pg")
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return "", fmt.Errorf("create data directory: %w", err)
	}
	if os.Geteuid() != 0 || embeddedpg.Reachable(dir, cfg.EmbeddedPGUser) == nil {
		return dir, nil
	}
	sum := sha256.Sum256([]byte(cfg.DataDir))
	alt := filepath.Join("/var/lib/claimsd", "pg-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(filepath.Dir(alt), 0o755); err != nil {
		return "", fmt.Errorf("make a place for the embedded database: %w", err)
	}
	// Said once, when the place is chosen; every later command finds it.
	level := slog.LevelDebug
	if _, err := os.Stat(alt); errors.Is(err, os.ErrNotExist) {
		level = slog.LevelInfo
	}
	log.Log(context.Background(), level, "the database user cannot reach the data directory, so the embedded database lives elsewhere",
		"data_dir", cfg.DataDir, "cluster_dir", alt, "user", cfg.EmbeddedPGUser)
	return alt, nil
}

// leave closes the store and gives up the embedded PostgreSQL, which stops
// it unless another claimsd process still uses it.
func (db *database) leave(log *slog.Logger) {
	db.Close()
	db.stopEmbedded(context.Background(), log)
}
