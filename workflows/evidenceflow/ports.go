package evidenceflow

import (
	"context"
	"errors"
	"io"
)

// ErrBlobNotFound is returned by Blobs.Open for a key that holds nothing.
var ErrBlobNotFound = errors.New("blob not found")

// Blobs stores evidence files' bytes under keys (evidence.BlobKey). Two
// stores implement it: this engine's PostgreSQL (the default) and an
// S3-compatible bucket; a contract suite holds both to the same behaviour.
// Neither holds a whole file in memory.
type Blobs interface {
	// Put stores the size bytes r yields under key, a key not used
	// before. r yielding more or fewer than size bytes is an error and
	// stores nothing.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open returns the blob's bytes, read as they are consumed.
	// Errors: ErrBlobNotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the blob; a key that holds nothing is no error.
	Delete(ctx context.Context, key string) error
}

// Media reads files as they are uploaded. adapters/media implements it.
type Media interface {
	// Clean recognises src's type from its bytes (one of evidence.Types),
	// checks it is whole, and writes it to dst without its metadata
	// (EXIF, GPS, XMP, comments, text chunks); an image's EXIF orientation
	// is kept. dst is a fresh file: Clean may go back to patch a length.
	// Errors: *evidence.UnsupportedError, *evidence.UnreadableError,
	// src's and dst's (wrapped).
	Clean(dst Spool, src io.Reader) (Info, error)
	// Thumbnail decodes a cleaned image whole (refusing one over
	// evidence.MaxPixels) and returns a JPEG at most side pixels on its
	// longer side, turned upright. Errors: *evidence.UnreadableError.
	Thumbnail(src io.Reader, info Info, side int) ([]byte, error)
}

// Spool is where Clean writes: a file it may patch.
type Spool interface {
	io.Writer
	io.WriterAt
}

// Info is what Clean found of a file.
type Info struct {
	ContentType   string // one of evidence.Types
	Width, Height int    // an image's; 0 for a PDF
	// Orientation is an image's EXIF orientation, 1–8; 1 when it has none.
	Orientation int
	// DecodeBytes is about how much memory decoding the image takes
	// (estimated from its header: its size, and how it is stored), so
	// decodes can be budgeted before they start; 0 for a PDF.
	DecodeBytes int64
}
