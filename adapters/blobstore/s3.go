package blobstore

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

// S3Config says where an S3 store keeps its blobs.
type S3Config struct {
	Endpoint  string // host:port, no scheme
	Bucket    string // must exist: NewS3 does not create it
	Region    string // optional; asked of the server when empty
	AccessKey string
	SecretKey string
	Secure    bool   // https
	Prefix    string // optional, put before every key (e.g. "claimsd/")
}

// S3 stores blobs as objects in an S3-compatible bucket, one object per
// key (Prefix + key).
//
//	blobs, err := blobstore.NewS3(ctx, blobstore.S3Config{
//		Endpoint: "s3.eu-west-1.amazonaws.com", Bucket: "claimsd-evidence",
//		Region: "eu-west-1", AccessKey: id, SecretKey: secret, Secure: true,
//	})
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
}

var _ evidenceflow.Blobs = (*S3)(nil)

// NewS3 connects to cfg's server and checks that the bucket exists; it
// does not create it (buckets, their policies and lifecycles are the
// operator's).
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("s3 blob store: endpoint and bucket are required")
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 blob store %s: %w", cfg.Endpoint, err)
	}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3 blob store: check bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3 blob store: bucket %q does not exist at %s (create it first; claimsd does not)", cfg.Bucket, cfg.Endpoint)
	}
	return &S3{client: client, bucket: cfg.Bucket, prefix: cfg.Prefix}, nil
}

// Put uploads r as one PUT of size bytes, streamed: minio-go reads r as it
// sends and signs it in 64 KiB chunks (over http) or sends it unsigned
// under TLS (over https), holding no copy of the object.
//
// The options are chosen for that and for atomicity:
//   - DisableMultipart: above its 16 MiB part size minio-go would upload
//     parts, each read whole into a buffer of the part size first. One PUT
//     keeps memory flat up to S3's 5 GiB single-PUT limit (evidence files
//     are at most tens of MiB), and an object appears only once its whole
//     body has arrived, so a failed Put leaves no object and no
//     half-finished multipart upload.
//   - SendContentMd5 stays off: for a reader that cannot seek minio-go
//     would read the whole object into memory to hash it first.
//   - If-None-Match: * makes the server refuse a key already used,
//     atomically (S3 since 2024, MinIO, versitygw); ErrKeyTaken.
//
// A server may refuse a taken key as soon as it has the headers and close
// the connection while the body is still being sent: the client then sees
// a reset connection, not the 412. So does a connection that broke after
// the object was stored. Each Put therefore carries a random mark in its
// metadata, and a Put that failed without an answer asks what the key
// holds: its own mark is success, another's ErrKeyTaken.
//
// r is wrapped so that it cannot seek (minio-go would otherwise take
// other paths) and so that a length other than size fails the request
// before its last bytes are sent (ErrSizeMismatch). A failed Put deletes
// nothing: a PUT cut short stores nothing, and deleting could remove a
// blob stored under the same key before.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if size < 0 {
		return fmt.Errorf("put blob %s: negative size %d", key, size)
	}
	mark := make([]byte, 16)
	_, _ = rand.Read(mark)
	opts := minio.PutObjectOptions{
		ContentType:      contentType,
		DisableMultipart: true,
		UserMetadata:     map[string]string{putMarkMeta: hex.EncodeToString(mark)},
	}
	opts.SetMatchETagExcept("*")
	er := newExactReader(r, size)
	if size == 0 {
		// minio-go sends no body for size 0 and so never reads r: check
		// here that r is empty.
		if _, err := er.Read(nil); !errors.Is(err, io.EOF) {
			return fmt.Errorf("put blob %s: %w", key, err)
		}
	}
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, er, size, opts)
	if err == nil {
		return nil
	}
	if er.err != nil { // our reader stopped the upload: say why
		return fmt.Errorf("put blob %s: %w", key, er.err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("put blob %s: %w (%w)", key, ctx.Err(), err)
	}
	resp := minio.ToErrorResponse(err)
	if resp.StatusCode == http.StatusPreconditionFailed || resp.Code == "PreconditionFailed" {
		return fmt.Errorf("put blob %s: %w", key, ErrKeyTaken)
	}
	if resp.StatusCode != 0 { // the server answered: it stored nothing
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	info, serr := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
	if serr != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	if info.Metadata.Get("X-Amz-Meta-"+putMarkMeta) == hex.EncodeToString(mark) {
		return nil // stored; only the answer was lost
	}
	return fmt.Errorf("put blob %s: %w (%w)", key, ErrKeyTaken, err)
}

// putMarkMeta is the metadata field holding a Put's random mark.
const putMarkMeta = "Claimsd-Put"

// Open starts the GET and reads its first bytes, so that a missing key is
// ErrBlobNotFound here and not at the caller's first Read, with one
// request (a HEAD first would be a second round trip, and a race with a
// Delete). The rest is read from the same response as it is consumed; ctx
// governs that response too.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.openError(key, err)
	}
	br := bufio.NewReaderSize(obj, 32<<10)
	if _, err := br.Peek(1); err != nil && !errors.Is(err, io.EOF) {
		_ = obj.Close()
		return nil, s.openError(key, err)
	}
	return &s3Reader{Reader: br, obj: obj}, nil
}

func (s *S3) openError(key string, err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return fmt.Errorf("open blob %s: %w", key, evidenceflow.ErrBlobNotFound)
	}
	return fmt.Errorf("open blob %s: %w", key, err)
}

// s3Reader reads through the buffer Open peeked with.
type s3Reader struct {
	*bufio.Reader
	obj *minio.Object
}

func (r *s3Reader) Close() error { return r.obj.Close() }

// Delete removes the object; S3 answers a missing key with success.
func (s *S3) Delete(ctx context.Context, key string) error {
	err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}
