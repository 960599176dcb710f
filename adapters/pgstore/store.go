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
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// PoolConfig sizes the connection pool.
type PoolConfig struct {
	MaxConns int32 // default 16
	MinConns int32
	Logger   *slog.Logger // slow queries and errors; nil is silent
	// AsyncCommit, for loading data that can be loaded again, lets a
	// commit return before its WAL reaches the disk (synchronous_commit
	// off): many small transactions in a row then cost no disk flush each.
	// A crash may lose the last moments' commits, in order, never part of
	// one. Never for the engine's own work, whose effects leave it.
	AsyncCommit bool
}

// Store is the PostgreSQL implementation of claimflow.Store and
// financeflow.Store. A Store handed to a keyed request's use case is bound
// to that request's transaction (see once).
type Store struct {
	pool  *pgxpool.Pool
	sqlDB *sql.DB
	db    *gorm.DB
	// tx, when set, is the transaction every method runs in: the store a
	// keyed request's use case works on (see once).
	tx *gorm.DB
	// filed, on a bound store, is the row of the claim it last filed, as
	// stored: ClaimOnce keeps it without reading it back.
	filed *claimRow

	enqueuer Enqueuer
}

var _ claimflow.Store = (*Store)(nil)

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
	if pc.AsyncCommit {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	// database/sql keeps no idle connections of its own (OpenDBFromPool
	// sets that): a connection it held idle would count as taken in the
	// pgx pool and starve pgx users of the same pool.
	sqlDB := stdlib.OpenDBFromPool(pool)
	gl := logger.Discard
	if pc.Logger != nil {
		const slow = 500 * time.Millisecond
		gl = quietLogger{Interface: logger.NewSlogLogger(pc.Logger, logger.Config{
			SlowThreshold:             slow,
			LogLevel:                  logger.Warn,
			IgnoreRecordNotFoundError: true,
			ParameterizedQueries:      true, // log SQL without its values: they hold shoppers' words
		}), slow: slow}
	}
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 gl,
		SkipDefaultTransaction: true, // every write we make is already in an explicit transaction
		DisableAutomaticPing:   true, // callers ping when they need to; a database that is down must not stop Open
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

// bound returns the store working in tx: every method runs in it.
func (s *Store) bound(tx *gorm.DB) *Store {
	b := *s
	b.tx, b.filed = tx, nil
	return &b
}

// keep remembers row as the claim a bound store last filed, or forgets it
// (nil) once a claim was changed after. An unbound store is shared by
// concurrent callers and keeps nothing.
func (s *Store) keep(row *claimRow) {
	if s.tx != nil {
		s.filed = row
	}
}

// conn returns the store's transaction, or the pool.
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if s.tx != nil {
		return s.tx
	}
	return s.db.WithContext(ctx)
}

// inTx runs fn in the store's transaction, or in a new one.
func (s *Store) inTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if s.tx != nil {
		return fn(s.tx)
	}
	return s.db.WithContext(ctx).Transaction(fn)
}

// sqlTxOf is the *sql.Tx under gorm's transaction tx, for what must join
// it (a job inserted by River, a query gorm cannot scan); doing names the
// work for the error when tx is not a transaction.
func sqlTxOf(tx *gorm.DB, doing string) (*sql.Tx, error) {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return nil, fmt.Errorf("%s: not in a transaction", doing)
	}
	return sqlTx, nil
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

// storeError wraps err with what was being done, and marks the errors that
// mean the database cannot be reached (connection refused or lost, server
// shutting down or starting) with claimflow.ErrUnavailable, so callers can
// answer "try again" rather than "our fault". A sum too large for bigint is
// marked money.ErrOverflow.
func storeError(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if isUnavailable(err) {
		return fmt.Errorf("%s: %w: %w", msg, claimflow.ErrUnavailable, err)
	}
	if isOutOfRange(err) {
		return fmt.Errorf("%s: %w: %w", msg, money.ErrOverflow, err)
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// isOutOfRange reports numeric_value_out_of_range (22003). Every SQL sum
// of amounts is written sum(amount)::bigint: PostgreSQL adds bigint in
// numeric, which cannot wrap, and the cast refuses a total beyond bigint
// with this error rather than hand back a figure that is not the total.
func isOutOfRange(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "22003"
}

func isUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01-57P03: admin shutdown,
		// crash shutdown, cannot connect now.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err)
}
