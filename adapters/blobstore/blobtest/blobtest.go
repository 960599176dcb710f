// Package blobtest is the contract every evidenceflow.Blobs
// implementation passes: the same tests, run against each store.
//
//	func TestPostgres(t *testing.T) {
//		t.Parallel()
//		blobs := blobstore.NewPostgres(pool)
//		blobtest.Run(t, func(*testing.T) evidenceflow.Blobs { return blobs })
//	}
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/blobstore"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

// chunk is the PostgreSQL store's row size: the edges worth testing in
// every store.
const chunk = blobstore.ChunkSize

// Run runs the contract against the store open returns (called once per
// test; it may return the same store each time). Every test runs in
// parallel with keys of its own, so the store may be shared with other
// tests.
func Run(t *testing.T, open func(t *testing.T) evidenceflow.Blobs) {
	t.Helper()
	run := newKey(t) // this run's keys never meet another run's

	type testBundle struct {
		ctx   context.Context
		blobs evidenceflow.Blobs
		key   string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		return &testBundle{ctx: context.Background(), blobs: open(t), key: run + "/" + t.Name()}
	}

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		data := randomBytes(t, 3<<20+12345)
		require.NoError(t, b.blobs.Put(b.ctx, b.key, bytes.NewReader(data), int64(len(data)), "image/jpeg"))
		requireBlob(t, b.blobs, b.key, data)
	})

	t.Run("ChunkEdges", func(t *testing.T) {
		t.Parallel()
		for _, size := range []int{1, chunk - 1, chunk, chunk + 1, 2 * chunk} {
			t.Run(fmt.Sprint(size), func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				data := randomBytes(t, size)
				// A reader that hands over a few bytes at a time: stores
				// must not assume full reads.
				r := &trickle{r: bytes.NewReader(data), max: 1000}
				require.NoError(t, b.blobs.Put(b.ctx, b.key, r, int64(size), "application/pdf"))
				requireBlob(t, b.blobs, b.key, data)
			})
		}
	})

	// Sizes are never 0 in use (evidence.size > 0), but 0 must not break.
	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.blobs.Put(b.ctx, b.key, bytes.NewReader(nil), 0, "image/png"))
		requireBlob(t, b.blobs, b.key, []byte{})
	})

	t.Run("OpenMissing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.blobs.Open(b.ctx, b.key)
		require.ErrorIs(t, err, evidenceflow.ErrBlobNotFound)
	})

	t.Run("ShortReader", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		data := randomBytes(t, chunk+100)
		err := b.blobs.Put(b.ctx, b.key, bytes.NewReader(data), int64(len(data))+1, "image/jpeg")
		require.ErrorIs(t, err, blobstore.ErrSizeMismatch)
		requireMissing(t, b.blobs, b.key)
	})

	t.Run("LongReader", func(t *testing.T) {
		t.Parallel()
		for _, give := range []struct {
			name       string
			size, more int
		}{{"ByOne", chunk + 100, 1}, {"ByAChunk", 2 * chunk, chunk}, {"Empty", 0, 1}} {
			t.Run(give.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				data := randomBytes(t, give.size+give.more)
				err := b.blobs.Put(b.ctx, b.key, bytes.NewReader(data), int64(give.size), "image/jpeg")
				require.ErrorIs(t, err, blobstore.ErrSizeMismatch)
				requireMissing(t, b.blobs, b.key)
			})
		}
	})

	t.Run("ReaderError", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		errBroken := errors.New("client went away")
		r := io.MultiReader(bytes.NewReader(randomBytes(t, chunk+10)), errReader{errBroken})
		err := b.blobs.Put(b.ctx, b.key, r, 2*chunk, "image/jpeg")
		require.ErrorIs(t, err, errBroken)
		requireMissing(t, b.blobs, b.key)
	})

	t.Run("KeyTaken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		first := randomBytes(t, chunk+1)
		require.NoError(t, b.blobs.Put(b.ctx, b.key, bytes.NewReader(first), int64(len(first)), "image/jpeg"))

		second := randomBytes(t, 2*chunk)
		err := b.blobs.Put(b.ctx, b.key, bytes.NewReader(second), int64(len(second)), "image/jpeg")
		require.ErrorIs(t, err, blobstore.ErrKeyTaken)
		requireBlob(t, b.blobs, b.key, first)

		// Refused with a short reader too, and the first blob still whole.
		err = b.blobs.Put(b.ctx, b.key, bytes.NewReader(second[:10]), int64(len(second)), "image/jpeg")
		require.Error(t, err)
		requireBlob(t, b.blobs, b.key, first)
	})

	t.Run("ConcurrentKeyTaken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const n = 4
		blobs := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			blobs[i] = randomBytes(t, chunk*2+i)
			wg.Go(func() {
				errs[i] = b.blobs.Put(b.ctx, b.key, bytes.NewReader(blobs[i]), int64(len(blobs[i])), "image/jpeg")
			})
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, won, "two Puts of one key both succeeded")
				won = i
				continue
			}
			require.ErrorIs(t, err, blobstore.ErrKeyTaken)
		}
		require.NotEqual(t, -1, won, "no Put succeeded")
		requireBlob(t, b.blobs, b.key, blobs[won])
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		data := randomBytes(t, 2*chunk+7)
		require.NoError(t, b.blobs.Put(b.ctx, b.key, bytes.NewReader(data), int64(len(data)), "image/jpeg"))
		require.NoError(t, b.blobs.Delete(b.ctx, b.key))
		requireMissing(t, b.blobs, b.key)

		// The key can be used again once deleted.
		require.NoError(t, b.blobs.Put(b.ctx, b.key, bytes.NewReader(data[:10]), 10, "image/jpeg"))
		requireBlob(t, b.blobs, b.key, data[:10])
	})

	t.Run("DeleteMissing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.blobs.Delete(b.ctx, b.key))
	})

	t.Run("ConcurrentPuts", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const n = 8
		blobs := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			blobs[i] = randomBytes(t, chunk*3+i*1000)
			wg.Go(func() {
				key := fmt.Sprintf("%s/%d", b.key, i)
				errs[i] = b.blobs.Put(b.ctx, key, bytes.NewReader(blobs[i]), int64(len(blobs[i])), "image/jpeg")
			})
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i], "put %d", i)
			requireBlob(t, b.blobs, fmt.Sprintf("%s/%d", b.key, i), blobs[i])
		}
	})

	t.Run("CancelledDuringPut", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx, cancel := context.WithCancel(b.ctx)
		defer cancel()
		data := randomBytes(t, 3<<20)
		// The reader cancels ctx once a megabyte has been taken, then goes
		// on yielding: the store must notice ctx, not the reader's end.
		r := &cancelAfter{r: bytes.NewReader(data), after: 1 << 20, cancel: cancel}
		err := b.blobs.Put(ctx, b.key, r, int64(len(data)), "image/jpeg")
		require.ErrorIs(t, err, context.Canceled)
		requireMissing(t, b.blobs, b.key)
	})

	t.Run("OpenReadsLazily", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		data := randomBytes(t, 4*chunk)
		require.NoError(t, b.blobs.Put(b.ctx, b.key, bytes.NewReader(data), int64(len(data)), "image/jpeg"))
		rc, err := b.blobs.Open(b.ctx, b.key)
		require.NoError(t, err)
		// Closed after a part of the blob was read: no error, nothing left
		// open that the store's own clean-up would trip over.
		part := make([]byte, 1000)
		_, err = io.ReadFull(rc, part)
		require.NoError(t, err)
		require.Equal(t, data[:1000], part)
		require.NoError(t, rc.Close())
		require.NoError(t, b.blobs.Delete(b.ctx, b.key))
	})
}

func requireBlob(t *testing.T, blobs evidenceflow.Blobs, key string, want []byte) {
	t.Helper()
	rc, err := blobs.Open(context.Background(), key)
	require.NoError(t, err)
	h := sha256.New()
	n, err := io.Copy(h, rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	require.Equal(t, int64(len(want)), n, "blob's length")
	wantSum := sha256.Sum256(want)
	require.Equal(t, hex.EncodeToString(wantSum[:]), hex.EncodeToString(h.Sum(nil)), "blob's sha256")
}

func requireMissing(t *testing.T, blobs evidenceflow.Blobs, key string) {
	t.Helper()
	rc, err := blobs.Open(context.Background(), key)
	if err == nil {
		_ = rc.Close()
	}
	require.ErrorIs(t, err, evidenceflow.ErrBlobNotFound)
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func newKey(t testing.TB) string {
	return "blobtest/" + hex.EncodeToString(randomBytes(t, 6))
}

// trickle hands over at most max bytes a Read.
type trickle struct {
	r   io.Reader
	max int
}

func (tr *trickle) Read(p []byte) (int, error) {
	if len(p) > tr.max {
		p = p[:tr.max]
	}
	return tr.r.Read(p)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// cancelAfter calls cancel once after bytes have been read.
type cancelAfter struct {
	r      io.Reader
	after  int
	read   int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	if c.read >= c.after {
		c.cancel()
	}
	return n, err
}

// Memory puts and opens a blob of size bytes through blobs, from a
// generated stream into a hash (no copy of it anywhere), and reports how
// much the live heap grew: sampled, after a collection, every MiB on the
// way in and on the way out. A store that held the blob would grow by
// about size. It also reports the bytes allocated in all, which garbage
// collection takes back but which show the work done. The test calling
// it must not run in parallel: the heap is the process's.
func Memory(t *testing.T, blobs evidenceflow.Blobs, size int64) (peakGrowth, allocated uint64) {
	t.Helper()
	ctx := context.Background()
	key := newKey(t) + "/memory"
	var seed [32]byte
	_, _ = rand.Read(seed[:])

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := &sampler{base: before.HeapAlloc}

	src := &generated{rng: mrand.NewChaCha8(seed), left: size, sample: s.sample}
	require.NoError(t, blobs.Put(ctx, key, src, size, "application/pdf"))
	t.Cleanup(func() { _ = blobs.Delete(context.Background(), key) })

	rc, err := blobs.Open(ctx, key)
	require.NoError(t, err)
	want := &generated{rng: mrand.NewChaCha8(seed), left: size}
	got, err := io.Copy(&compare{want: want, sample: s.sample}, rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	require.Equal(t, size, got)

	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	return s.peak, after.TotalAlloc - before.TotalAlloc
}

// sampler keeps the largest live heap growth seen, sampled every MiB.
type sampler struct {
	base, peak uint64
	since      int
}

func (s *sampler) sample(n int) {
	s.since += n
	if s.since < 1<<20 {
		return
	}
	s.since = 0
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	if m.HeapAlloc > s.base && m.HeapAlloc-s.base > s.peak {
		s.peak = m.HeapAlloc - s.base
	}
}

// generated yields left pseudo-random bytes of rng.
type generated struct {
	rng    *mrand.ChaCha8
	left   int64
	sample func(int)
}

func (g *generated) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	_, _ = g.rng.Read(p)
	g.left -= int64(len(p))
	if g.sample != nil {
		g.sample(len(p))
	}
	return len(p), nil
}

// compare checks what it is written against want's bytes.
type compare struct {
	want   io.Reader
	buf    []byte
	sample func(int)
}

func (c *compare) Write(p []byte) (int, error) {
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	w := c.buf[:len(p)]
	if _, err := io.ReadFull(c.want, w); err != nil {
		return 0, fmt.Errorf("more bytes than were put: %w", err)
	}
	if !bytes.Equal(w, p) {
		return 0, errors.New("bytes differ from those put")
	}
	c.sample(len(p))
	return len(p), nil
}
