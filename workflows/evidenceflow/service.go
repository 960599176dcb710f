package evidenceflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/evidence"
	"github.com/claimsd/claimsd/domain/ident"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"golang.org/x/sync/semaphore"
)

// Store keeps evidence rows and the notes of blobs to delete; pgstore
// implements it.
type Store interface {
	// ClaimEvidence returns a claim's files, oldest first.
	ClaimEvidence(ctx context.Context, claimID string) ([]evidence.File, error)
	// Evidence returns one file of a claim. Errors:
	// *claimflow.NotFoundError (resource "evidence").
	Evidence(ctx context.Context, claimID, id string) (evidence.File, error)
	// NoteUpload notes blob keys an upload is about to store, so a blob
	// whose row is never written is found and deleted.
	NoteUpload(ctx context.Context, keys []string, now time.Time) error
	// AddEvidence records f if its claim holds fewer than maxFiles files
	// (under a lock on the claim's files) and removes the notes of its
	// keys. Errors: *evidence.TooManyError.
	AddEvidence(ctx context.Context, f evidence.File, maxFiles int) error
	// BlobsToDelete returns up to limit noted keys to delete now: those of
	// deleted rows, and of uploads noted before pendingBefore.
	BlobsToDelete(ctx context.Context, pendingBefore time.Time, limit int) ([]string, error)
	// ForgetBlobs removes the notes of keys whose blobs are deleted.
	ForgetBlobs(ctx context.Context, keys []string) error
	// HolderSeesClaim reports whether the claim has a confirmed
	// counterfeit line of a brand that lists subject as a rights holder.
	HolderSeesClaim(ctx context.Context, claimID, subject string) (bool, error)
}

// Claims gives a claim as a viewer may see it; claimflow.Service is one.
type Claims interface {
	// Get errors: *claimflow.NotFoundError, also for a claim the viewer
	// may not see.
	Get(ctx context.Context, v claimflow.Viewer, id string) (claimflow.Record, error)
}

var _ Claims = (*claimflow.Service)(nil)

// Config sets the service's limits.
type Config struct {
	Limits evidence.Limits // zero fields: evidence.DefaultLimits'
	// Decoders is how many images may be decoded at once (decoding is
	// work for a core); default 2.
	Decoders int
	// DecodeMemory is how much memory the images being decoded at once
	// (for their thumbnails) may take together, by their estimate
	// (Info.DecodeBytes); an image whose estimate alone is over it is
	// refused. Default DefaultDecodeMemory.
	DecodeMemory int64
	// Limiter paces each shopper's and seller's uploads; nil: none.
	Limiter claimflow.Limiter
	// TempDir is where uploads are spooled while they are read; "" is
	// the system's.
	TempDir string
	Logger  *slog.Logger
	// Audit records a rights holder's reads of a claim's files (the
	// intelligence access log, intelflow.Service.RecordAccess) before
	// they are made; an error refuses the read. nil records nothing.
	Audit func(ctx context.Context, v claimflow.Viewer, action, resource string, detail map[string]any) error
}

// The actions Audit is called with.
const (
	AuditList = "evidence"
	AuditFile = "evidence_file"
)

// Service is the evidence use cases.
//
//	svc := evidenceflow.NewService(store, claims, blobs, media.Reader{}, evidenceflow.Config{}, time.Now)
//	up, err := svc.Begin(ctx, viewer, "clm_…")
//	defer up.Abort(ctx)
//	if err := up.Store(ctx, file); err != nil { … }
//	f, err := up.Commit(ctx, "photo", "The logo is misprinted")
type Service struct {
	store    Store
	claims   Claims
	blobs    Blobs
	media    Media
	cfg      Config
	decoding *semaphore.Weighted // DecodeMemory, by each image's estimate
	decoders chan struct{}       // Decoders
	now      func() time.Time
}

// NewService returns the service.
func NewService(store Store, claims Claims, blobs Blobs, media Media, cfg Config, now func() time.Time) *Service {
	if cfg.Limits.MaxBytes <= 0 {
		cfg.Limits.MaxBytes = evidence.DefaultMaxBytes
	}
	if cfg.Limits.MaxFiles <= 0 {
		cfg.Limits.MaxFiles = evidence.DefaultMaxFiles
	}
	if cfg.Decoders <= 0 {
		cfg.Decoders = 2
	}
	if cfg.DecodeMemory <= 0 {
		cfg.DecodeMemory = DefaultDecodeMemory
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, claims: claims, blobs: blobs, media: media, cfg: cfg,
		decoding: semaphore.NewWeighted(cfg.DecodeMemory), decoders: make(chan struct{}, cfg.Decoders), now: now}
}

// Limits returns the limits uploads are held to.
func (s *Service) Limits() evidence.Limits { return s.cfg.Limits }

// RateLimitedError says the caller has used their uploads for now.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many uploads; retry in %s", e.RetryAfter.Round(time.Second))
}

// party returns who v uploads as on the claim: its shopper, or the seller
// charged for it while the charge may be contested or is contested.
func party(v claimflow.Viewer, rec claimflow.Record) (evidence.Party, error) {
	switch {
	case v.IsShopper():
		return evidence.PartyShopper, nil
	case v.IsSeller():
		st := rec.Claim.Chargeback().Status
		if st != claim.ChargebackOpen && st != claim.ChargebackContested {
			return "", &claim.RefusedError{Code: "no_open_charge",
				Message: "a seller adds evidence to a charge they may still contest or are contesting; this claim has none"}
		}
		return evidence.PartySeller, nil
	}
	return "", &claimflow.NotFoundError{Resource: "claim", ID: rec.Claim.ID()}
}

// Upload is one file on its way to a claim: Begin checks who may upload,
// Store reads and stores the bytes, Commit records the file on the claim.
// Abort, deferred, deletes what Store stored unless Commit recorded it.
type Upload struct {
	s       *Service
	v       claimflow.Viewer
	claimID string
	party   evidence.Party
	id      string
	info    Info
	size    int64
	sum     string
	thumb   int64
	keys    []string // stored, not yet recorded
	done    bool
}

// Begin starts an upload to a claim for v: the claim's shopper, or the
// seller charged for it (evidence.PartySeller) while the charge is open
// or contested. It spends one of v's turns. Errors:
// *claimflow.NotFoundError (also for a claim v may not see),
// *claim.RefusedError (a seller without an open charge),
// *evidence.TooManyError, *RateLimitedError.
func (s *Service) Begin(ctx context.Context, v claimflow.Viewer, claimID string) (*Upload, error) {
	rec, err := s.claims.Get(ctx, v, claimID)
	if err != nil {
		return nil, err
	}
	p, err := party(v, rec)
	if err != nil {
		return nil, err
	}
	files, err := s.store.ClaimEvidence(ctx, claimID)
	if err != nil {
		return nil, err
	}
	if len(files) >= s.cfg.Limits.MaxFiles {
		return nil, &evidence.TooManyError{Limit: s.cfg.Limits.MaxFiles}
	}
	if s.cfg.Limiter != nil {
		if ok, wait, _ := s.cfg.Limiter.Reserve(v); !ok {
			return nil, &RateLimitedError{RetryAfter: wait}
		}
	}
	id, err := ident.New("evd_", s.now(), nil)
	if err != nil {
		return nil, fmt.Errorf("evidence id: %w", err)
	}
	return &Upload{s: s, v: v, claimID: claimID, party: p, id: id}, nil
}

// limited reads at most max bytes, then fails with *evidence.TooLargeError.
type limited struct {
	r    io.Reader
	left int64
	max  int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One more byte tells a file of exactly max bytes from a larger one.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, &evidence.TooLargeError{Limit: l.max}
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// Store reads the file from r (at most the size limit), cleans it of its
// metadata into a spool file, hashes what will be served, makes an
// image's thumbnail and stores both in the blob store. Errors:
// *evidence.TooLargeError, *evidence.UnsupportedError,
// *evidence.UnreadableError, r's, the blob store's.
func (u *Upload) Store(ctx context.Context, r io.Reader) error {
	s := u.s
	spool, err := os.CreateTemp(s.cfg.TempDir, "claimsd-evidence-*")
	if err != nil {
		return fmt.Errorf("spool upload: %w", err)
	}
	defer func() {
		_ = spool.Close()
		_ = os.Remove(spool.Name())
	}()
	info, err := s.media.Clean(spool, &limited{r: r, left: s.cfg.Limits.MaxBytes, max: s.cfg.Limits.MaxBytes})
	if err != nil {
		return err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind spool: %w", err)
	}
	h := sha256.New()
	size, err := io.Copy(h, spool)
	if err != nil {
		return fmt.Errorf("hash upload: %w", err)
	}
	if size == 0 {
		return &evidence.UnreadableError{Reason: "the file is empty"}
	}
	var thumb []byte
	if evidence.IsImage(info.ContentType) {
		if thumb, err = u.thumbnail(ctx, spool, info); err != nil {
			return err
		}
	}
	blobKey, thumbKey := evidence.BlobKey(u.claimID, u.id), evidence.ThumbKey(u.claimID, u.id)
	keys := []string{blobKey}
	if thumb != nil {
		keys = append(keys, thumbKey)
	}
	if err := s.store.NoteUpload(ctx, keys, s.now()); err != nil {
		return err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind spool: %w", err)
	}
	u.keys = keys // from here Abort deletes what is stored
	if err := s.blobs.Put(ctx, blobKey, spool, size, info.ContentType); err != nil {
		return fmt.Errorf("store evidence %s: %w", u.id, err)
	}
	if thumb != nil {
		if err := s.blobs.Put(ctx, thumbKey, bytesReader(thumb), int64(len(thumb)), evidence.TypeJPEG); err != nil {
			return fmt.Errorf("store thumbnail of %s: %w", u.id, err)
		}
	}
	u.info, u.size, u.sum, u.thumb = info, size, hex.EncodeToString(h.Sum(nil)), int64(len(thumb))
	return nil
}

// DefaultDecodeMemory is what the images being decoded at once may take
// unless configured: a 48-megapixel phone photo (about 140 MB to decode
// and scale) with room beside it; a progressive JPEG or a 16-bit PNG
// takes several times its pixels and is refused past about 14 (25 at
// 4:2:0) and 23 megapixels.
const DefaultDecodeMemory = 256 << 20

// thumbnail decodes the spooled image once the memory its decoding takes
// (by its estimate) is free and a decoder is: decodes wait their turn
// rather than take more than cfg.DecodeMemory together or more than
// cfg.Decoders cores, and an image that alone would take more memory is
// refused.
func (u *Upload) thumbnail(ctx context.Context, spool *os.File, info Info) ([]byte, error) {
	s := u.s
	cost := info.DecodeBytes
	if cost <= 0 { // not estimated: the most any image takes a pixel
		cost = 9 * int64(info.Width) * int64(info.Height)
	}
	if cost > s.cfg.DecodeMemory {
		return nil, &evidence.UnreadableError{Reason: fmt.Sprintf(
			"the image is too large to open here (%d×%d pixels stored so that opening it takes about %s, over the %s allowed); send a smaller or ordinary JPEG photo",
			info.Width, info.Height, evidence.HumanBytes(cost), evidence.HumanBytes(s.cfg.DecodeMemory))}
	}
	if err := s.decoding.Acquire(ctx, cost); err != nil {
		return nil, fmt.Errorf("wait to decode the image: %w", err)
	}
	defer s.decoding.Release(cost)
	select {
	case s.decoders <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to decode the image: %w", ctx.Err())
	}
	defer func() { <-s.decoders }()
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind spool: %w", err)
	}
	thumb, err := s.media.Thumbnail(spool, info, evidence.ThumbSide)
	if cost >= collectAfter {
		// The decoded image is garbage now. Collected at once, its memory
		// serves the next decode; left to the collector's pace, the heap
		// would grow to twice what is live first.
		runtime.GC()
	}
	return thumb, err
}

// collectAfter is the decode, by its estimate, after which the garbage
// is collected at once: a second or more of decoding, against a few
// milliseconds of collection.
const collectAfter = 64 << 20

// Commit records the stored file on the claim with its kind ("" for the
// type's default) and caption. Errors: *validation.Error on kind or
// caption, *evidence.TooManyError (another upload filled the claim),
// the store's. On an error the stored blobs are deleted.
func (u *Upload) Commit(ctx context.Context, kind, caption string) (evidence.File, error) {
	if len(u.keys) == 0 {
		return evidence.File{}, errors.New("commit an upload that stored nothing")
	}
	k := evidence.DefaultKind(u.info.ContentType)
	if kind != "" {
		var err error
		if k, err = evidence.ParseKind(kind); err != nil {
			return evidence.File{}, err
		}
	}
	if err := evidence.CheckCaption(caption); err != nil {
		return evidence.File{}, err
	}
	f := evidence.File{
		ID: u.id, ClaimID: u.claimID, Party: u.party, Kind: k, ContentType: u.info.ContentType,
		Size: u.size, SHA256: u.sum, Caption: caption, Width: u.info.Width, Height: u.info.Height,
		BlobKey: evidence.BlobKey(u.claimID, u.id), CreatedBy: u.v.String(), CreatedAt: u.s.now().UTC().Truncate(time.Microsecond),
	}
	if u.thumb > 0 {
		f.ThumbKey, f.ThumbSize = evidence.ThumbKey(u.claimID, u.id), u.thumb
	}
	if err := u.s.store.AddEvidence(ctx, f, u.s.cfg.Limits.MaxFiles); err != nil {
		return evidence.File{}, err
	}
	u.done = true
	return f, nil
}

// Abort deletes what Store stored unless Commit recorded it; what it
// cannot delete now the hourly sweep deletes. Safe to defer always.
func (u *Upload) Abort(ctx context.Context) {
	if u == nil || u.done || len(u.keys) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	var gone []string
	for _, k := range u.keys {
		if err := u.s.blobs.Delete(ctx, k); err != nil {
			u.s.cfg.Logger.WarnContext(ctx, "delete blob of a failed upload; the sweep will", "key", k, "err", err)
			continue
		}
		gone = append(gone, k)
	}
	if len(gone) > 0 {
		if err := u.s.store.ForgetBlobs(ctx, gone); err != nil {
			u.s.cfg.Logger.WarnContext(ctx, "forget deleted blobs", "err", err)
		}
	}
	u.keys = nil
}
