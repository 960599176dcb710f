package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

// ChunkSize is the most bytes one evidence_blobs row holds.
const ChunkSize = 256 << 10

// Postgres stores blobs in this engine's database, in the evidence_blobs
// table (migration 0018): a blob is its rows seq 0, 1, … of at most
// ChunkSize bytes each. It needs no other service, so it is the default.
//
//	blobs := blobstore.NewPostgres(st.Pool())
type Postgres struct {
	pool *pgxpool.Pool
}

var _ evidenceflow.Blobs = (*Postgres)(nil)

// NewPostgres returns a store on pool's database, migrated.
func NewPostgres(pool *pgxpool.Pool) *Postgres {
	return &Postgres{pool: pool}
}

// Put reads r ChunkSize bytes at a time into one buffer and inserts each
// chunk as a row, all in one transaction: a failure (r's length, r's own
// error, ctx, the database) rolls back every chunk. A key already used
// fails on its first chunk's primary key, with ErrKeyTaken. A blob of size
// 0 is one empty chunk, so that it can be opened.
func (p *Postgres) Put(ctx context.Context, key string, r io.Reader, size int64, _ string) (err error) {
	if size < 0 {
		return fmt.Errorf("put blob %s: negative size %d", key, size)
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			// ctx may be what failed: roll back on a context of our own.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = tx.Rollback(rctx)
		}
	}()

	er := newExactReader(r, size)
	// At least one byte, so that a size 0 read still reaches er's end check.
	buf := make([]byte, max(1, min(size, ChunkSize)))
	for seq := int32(0); ; seq++ {
		n, rerr := io.ReadFull(er, buf)
		if rerr != nil && !errors.Is(rerr, io.EOF) && !errors.Is(rerr, io.ErrUnexpectedEOF) {
			return fmt.Errorf("put blob %s: read: %w", key, rerr)
		}
		if n > 0 || seq == 0 {
			_, err := tx.Exec(ctx, `INSERT INTO evidence_blobs (blob_key, seq, data) VALUES ($1, $2, $3)`, key, seq, buf[:n])
			if isUniqueViolation(err) {
				return fmt.Errorf("put blob %s: %w", key, ErrKeyTaken)
			}
			if err != nil {
				return fmt.Errorf("put blob %s: insert chunk %d: %w", key, seq, err)
			}
		}
		if rerr != nil { // io.EOF or io.ErrUnexpectedEOF: er checked the length
			break
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("put blob %s: commit: %w", key, err)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// Open reads chunk 0 (ErrBlobNotFound if there is none) and the number of
// the last, and returns a reader that fetches each further chunk with a
// query of its own as it is consumed: no connection is held between
// reads, however slowly the caller reads. ctx governs those queries too.
// A chunk gone missing while the blob is read (the blob was deleted) is
// io.ErrUnexpectedEOF, never a short blob that looks whole.
func (p *Postgres) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rd := &pgReader{ctx: ctx, pool: p.pool, key: key}
	found, err := rd.fetch(0)
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", key, err)
	}
	if !found {
		return nil, fmt.Errorf("open blob %s: %w", key, evidenceflow.ErrBlobNotFound)
	}
	return rd, nil
}

// Delete removes every chunk of key's blob.
func (p *Postgres) Delete(ctx context.Context, key string) error {
	if _, err := p.pool.Exec(ctx, `DELETE FROM evidence_blobs WHERE blob_key = $1`, key); err != nil {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}

// pgReader reads a blob's chunks in order, one query each.
type pgReader struct {
	ctx  context.Context
	pool *pgxpool.Pool
	key  string

	last   int32  // the blob's last seq, read with chunk 0
	seq    int32  // the seq of the chunk in buf
	buf    []byte // the current chunk; its storage is reused for the next
	off    int    // how much of buf has been read
	closed bool
}

// fetch reads chunk seq into buf (and, for chunk 0, the last seq). It
// reports false if there is no such chunk.
func (rd *pgReader) fetch(seq int32) (bool, error) {
	rows, err := rd.pool.Query(rd.ctx,
		`SELECT data, (SELECT max(seq) FROM evidence_blobs WHERE blob_key = $1 AND $2 = 0)
		 FROM evidence_blobs WHERE blob_key = $1 AND seq = $2`, rd.key, seq)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return false, rows.Err()
	}
	// DriverBytes points into the connection's buffer until rows.Close:
	// copying it into buf keeps one chunk's storage for the whole read.
	var data pgtype.DriverBytes
	var last *int32
	if err := rows.Scan(&data, &last); err != nil {
		return false, err
	}
	rd.buf = append(rd.buf[:0], data...)
	rd.seq, rd.off = seq, 0
	if last != nil {
		rd.last = *last
	}
	rows.Close()
	return true, rows.Err()
}

func (rd *pgReader) Read(p []byte) (int, error) {
	if rd.closed {
		return 0, errors.New("read blob " + rd.key + ": reader closed")
	}
	for rd.off == len(rd.buf) {
		if rd.seq >= rd.last {
			return 0, io.EOF
		}
		found, err := rd.fetch(rd.seq + 1)
		if err != nil {
			return 0, fmt.Errorf("read blob %s: chunk %d: %w", rd.key, rd.seq+1, err)
		}
		if !found {
			return 0, fmt.Errorf("read blob %s: chunk %d of %d gone (deleted while read): %w",
				rd.key, rd.seq+1, rd.last+1, io.ErrUnexpectedEOF)
		}
	}
	n := copy(p, rd.buf[rd.off:])
	rd.off += n
	return n, nil
}

// Close lets buf go; the reader holds no connection.
func (rd *pgReader) Close() error {
	rd.closed = true
	rd.buf = nil
	return nil
}
