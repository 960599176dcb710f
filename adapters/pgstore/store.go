// Package pgstore implements the claim store on PostgreSQL through gorm,
// with pgx underneath. One pgx pool serves gorm (through database/sql) and
// anything that needs pgx directly.
//
//	st, err := pgstore.Open(ctx, url, pgstore.PoolConfig{MaxConns: 16})
//	defer st.Close()
//	err = st.Migrate(ctx)
package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/claimsd/claimsd/workflows/claimflow"
)

// PoolConfig sizes the connection pool.
type PoolConfig struct {
	MaxConns int32 // default 16
	MinConns int32
	Logger   *slog.Logger // slow queries and errors; nil is silent
}

// Store is the PostgreSQL implementation of claimflow.Store and
// claimflow.IdempotencyStore.
type Store struct {
	pool  *pgxpool.Pool
	sqlDB *sql.DB
	db    *gorm.DB
}

var (
	_ claimflow.Store            = (*Store)(nil)
	_ claimflow.IdempotencyStore = (*Store)(nil)
)

// Open connects to the database at url. It does not migrate.
func Open(ctx context.Context, url string, pc PoolConfig) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if pc.MaxConns <= 0 {
		pc.MaxConns = 16
	}
	cfg.MaxConns = pc.MaxConns
	cfg.MinConns = min(pc.MinConns, pc.MaxConns)
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.ConnConfig.RuntimeParams["application_name"] = "claimsd"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	sqlDB.SetMaxOpenConns(int(pc.MaxConns))
	sqlDB.SetMaxIdleConns(int(pc.MaxConns))
	gl := logger.Discard
	if pc.Logger != nil {
		gl = logger.NewSlogLogger(pc.Logger, logger.Config{
			SlowThreshold:             500 * time.Millisecond,
			LogLevel:                  logger.Warn,
			IgnoreRecordNotFoundError: true,
		})
	}
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 gl,
		SkipDefaultTransaction: true, // every write we make is already in an explicit transaction
		TranslateError:         false,
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open gorm: %w", err)
	}
	return &Store{pool: pool, sqlDB: sqlDB, db: db}, nil
}

// Close releases every connection.
func (s *Store) Close() {
	_ = s.sqlDB.Close()
	s.pool.Close()
}

// Pool returns the pgx pool, for components that speak pgx directly.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// DB returns the database/sql handle over the same pool.
func (s *Store) DB() *sql.DB { return s.sqlDB }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

type txKey struct{}

// conn returns the transaction ctx carries, or the pool.
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx
	}
	return s.db.WithContext(ctx)
}

// inTx runs fn in the transaction ctx carries, or in a new one.
func (s *Store) inTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(tx)
	}
	return s.db.WithContext(ctx).Transaction(fn)
}

// isUniqueViolation reports a unique_violation (23505) on the constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && (constraint == "" || pgErr.ConstraintName == constraint)
}

// isForeignKeyViolation reports a foreign_key_violation (23503) on the constraint.
func isForeignKeyViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503" && (constraint == "" || pgErr.ConstraintName == constraint)
}
