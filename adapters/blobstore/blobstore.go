// Package blobstore implements evidenceflow.Blobs twice: in this engine's
// PostgreSQL (the evidence_blobs table, the default) and in an
// S3-compatible bucket. Both stream: neither holds a whole blob in memory,
// and blobtest holds both to the same contract.
//
//	blobs := blobstore.NewPostgres(st.Pool())
//	err := blobs.Put(ctx, evidence.BlobKey(claimID, id), f, size, "image/jpeg")
//	rc, err := blobs.Open(ctx, key) // errors.Is(err, evidenceflow.ErrBlobNotFound)
//	defer rc.Close()
package blobstore

import (
	"errors"
	"fmt"
	"io"
)

// ErrKeyTaken is returned by Put for a key that already holds a blob;
// the stored blob is left as it was.
var ErrKeyTaken = errors.New("blob key already used")

// ErrSizeMismatch is returned by Put when its reader yields more or fewer
// bytes than the size it was given; nothing is stored.
var ErrSizeMismatch = errors.New("reader's length differs from the size given")

// exactReader yields exactly size bytes of r and fails with
// ErrSizeMismatch if r ends early or has more. It looks one byte past the
// end before handing over the last bytes, so a reader that is too long
// fails the upload before the store has received the whole blob.
type exactReader struct {
	r    io.Reader
	size int64
	left int64
	done bool  // all size bytes handed over and r found at its end
	err  error // the first error returned, kept for Put to report
}

func newExactReader(r io.Reader, size int64) *exactReader {
	return &exactReader{r: r, size: size, left: size}
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.done {
		return 0, io.EOF
	}
	if e.left == 0 { // size 0: nothing to hand over, only the end to check
		if err := e.checkEnd(); err != nil {
			return 0, e.fail(err)
		}
		e.done = true
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if e.left == 0 {
		if err := e.checkEnd(); err != nil {
			return 0, e.fail(err)
		}
		e.done = true
		return n, nil
	}
	if errors.Is(err, io.EOF) {
		return n, e.fail(fmt.Errorf("%w: %d bytes, %d expected", ErrSizeMismatch, e.size-e.left, e.size))
	}
	if err != nil {
		return n, e.fail(err)
	}
	return n, nil
}

// checkEnd returns nil if r has nothing after the size bytes.
func (e *exactReader) checkEnd() error {
	var one [1]byte
	n, err := io.ReadAtLeast(e.r, one[:], 1)
	if n > 0 {
		return fmt.Errorf("%w: more than %d bytes", ErrSizeMismatch, e.size)
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

func (e *exactReader) fail(err error) error {
	e.err = err
	return err
}
