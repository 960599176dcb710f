package blobstore_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/blobstore"
	"github.com/claimsd/claimsd/adapters/blobstore/blobtest"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

func TestPostgres(t *testing.T) {
	t.Parallel()
	blobs := blobstore.NewPostgres(store.Pool())
	blobtest.Run(t, func(*testing.T) evidenceflow.Blobs { return blobs })
}

// TestPostgresChunks: a blob is stored as full chunks and a last, shorter
// one, numbered from 0.
func TestPostgresChunks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	blobs := blobstore.NewPostgres(store.Pool())
	key := "chunks/" + t.Name()
	data := bytes.Repeat([]byte{7}, 2*blobstore.ChunkSize+10)
	require.NoError(t, blobs.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "image/png"))

	rows, err := store.Pool().Query(ctx, `SELECT seq, length(data) FROM evidence_blobs WHERE blob_key = $1 ORDER BY seq`, key)
	require.NoError(t, err)
	var got [][2]int
	for rows.Next() {
		var seq, n int
		require.NoError(t, rows.Scan(&seq, &n))
		got = append(got, [2]int{seq, n})
	}
	require.NoError(t, rows.Err())
	require.Equal(t, [][2]int{{0, blobstore.ChunkSize}, {1, blobstore.ChunkSize}, {2, 10}}, got)
}

// TestPostgresDeletedWhileRead: a blob deleted under a reader is an
// error, not a short blob that looks whole.
func TestPostgresDeletedWhileRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	blobs := blobstore.NewPostgres(store.Pool())
	key := "deleted-while-read/" + t.Name()
	data := bytes.Repeat([]byte{1}, 3*blobstore.ChunkSize)
	require.NoError(t, blobs.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "image/png"))

	rc, err := blobs.Open(ctx, key)
	require.NoError(t, err)
	defer rc.Close()
	require.NoError(t, blobs.Delete(ctx, key))
	_, err = io.Copy(io.Discard, rc)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// TestPostgresMemory: a 20 MB blob goes in and out without the heap
// growing with it. Not parallel: it measures the process's heap.
func TestPostgresMemory(t *testing.T) {
	blobs := blobstore.NewPostgres(store.Pool())
	peak, allocated := blobtest.Memory(t, blobs, 20<<20)
	t.Logf("postgres, 20 MiB put and read: live heap grew at most %.2f MiB; %.1f MiB allocated in all", mib(peak), mib(allocated))
	require.Less(t, peak, uint64(4<<20), "the live heap grew with the blob")
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }
